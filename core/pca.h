// Principal component analysis of a few points (gpt2 embed --plot: texts projected onto their
// first principal components). The eigen-decomposition is LAPACK's dsyev (OpenBLAS ships
// LAPACK), never a hand-written solver.
//
// X (n points × d dims) is centred column-wise; the components are the eigenvectors of the
// covariance XᵀX/(n-1). With n ≤ d the n×n Gram matrix X·Xᵀ has the same non-zero
// eigenvalues and is decomposed instead (its eigenvector u_k gives the scores u_k·sqrt(λ_k)),
// so 6 points of width 768 cost a 6×6 problem. Signs follow scikit-learn's svd_flip on the
// components: each component's largest-magnitude loading is positive, so a plot does not flip
// between runs or libraries.
#pragma once

#include <vector>

namespace gpt2 {

struct PcaResult {
  int k = 0;                      // components computed (<= requested, <= n-1, <= d)
  std::vector<double> scores;     // [n, k] row-major: each point's coordinates
  std::vector<double> variance;   // [k] explained variance (eigenvalue / (n-1))
  std::vector<double> ratio;      // [k] share of the total variance (0..1)
};

/// x: n×d row-major (n >= 2). usage_error when n < 2; Error(Runtime) when LAPACK fails.
PcaResult pca(const std::vector<float>& x, int n, int d, int k);

}  // namespace gpt2
