// PCA through LAPACK's dsyev (design in core/pca.h).
#include "core/pca.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a,
                       const int* lda, double* w, double* work, const int* lwork, int* info);

namespace gpt2 {

namespace {

// Eigen-decomposition of the symmetric m×m matrix a (row-major = column-major for a
// symmetric matrix): eigenvalues ascending in w, eigenvectors as the columns of a
// (column-major, i.e. vector j is a[j*m .. j*m+m-1]).
void symmetric_eigen(std::vector<double>& a, int m, std::vector<double>& w) {
  w.assign(static_cast<size_t>(m), 0.0);
  const char jobz = 'V', uplo = 'U';
  int info = 0, lwork = -1;
  double query = 0;
  dsyev_(&jobz, &uplo, &m, a.data(), &m, w.data(), &query, &lwork, &info);
  lwork = std::max(1, static_cast<int>(query));
  std::vector<double> work(static_cast<size_t>(lwork));
  dsyev_(&jobz, &uplo, &m, a.data(), &m, w.data(), work.data(), &lwork, &info);
  if (info != 0) throw Error(ExitCode::Runtime, fmt::format("PCA: LAPACK dsyev failed (info {})", info));
}

}  // namespace

PcaResult pca(const std::vector<float>& x, int n, int d, int k) {
  if (n < 2) usage_error("PCA needs at least 2 points (got {})", n);
  // centred copy, double
  std::vector<double> c(static_cast<size_t>(n) * d);
  for (int j = 0; j < d; j++) {
    double mean = 0;
    for (int i = 0; i < n; i++) mean += x[static_cast<size_t>(i) * d + j];
    mean /= n;
    for (int i = 0; i < n; i++)
      c[static_cast<size_t>(i) * d + j] = x[static_cast<size_t>(i) * d + j] - mean;
  }
  const bool gram = n <= d;
  const int m = gram ? n : d;
  std::vector<double> a(static_cast<size_t>(m) * m, 0.0), w;
  for (int p = 0; p < m; p++)
    for (int q = 0; q <= p; q++) {
      double s = 0;
      if (gram)
        for (int j = 0; j < d; j++) s += c[static_cast<size_t>(p) * d + j] * c[static_cast<size_t>(q) * d + j];
      else
        for (int i = 0; i < n; i++) s += c[static_cast<size_t>(i) * d + p] * c[static_cast<size_t>(i) * d + q];
      a[static_cast<size_t>(p) * m + q] = a[static_cast<size_t>(q) * m + p] = s;
    }
  symmetric_eigen(a, m, w);
  double total = 0;
  for (double v : w) total += std::max(0.0, v);
  PcaResult r;
  r.k = std::max(0, std::min({k, n - 1, d}));
  r.scores.assign(static_cast<size_t>(n) * r.k, 0.0);
  for (int comp = 0; comp < r.k; comp++) {
    const int col = m - 1 - comp;  // eigenvalues ascend
    const double lambda = std::max(0.0, w[col]);
    const double* vec = a.data() + static_cast<size_t>(col) * m;
    // loading vector in feature space (d): gram: Xᵀu/sqrt(λ); else the eigenvector itself
    std::vector<double> load(static_cast<size_t>(d), 0.0);
    if (gram) {
      const double s = lambda > 0 ? 1.0 / std::sqrt(lambda) : 0.0;
      for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) load[j] += c[static_cast<size_t>(i) * d + j] * vec[i] * s;
    } else {
      for (int j = 0; j < d; j++) load[j] = vec[j];
    }
    size_t big = 0;
    for (size_t j = 1; j < load.size(); j++)
      if (std::fabs(load[j]) > std::fabs(load[big])) big = j;
    const double sign = load[big] < 0 ? -1.0 : 1.0;
    for (int i = 0; i < n; i++) {
      double s;
      if (gram) {
        s = vec[i] * std::sqrt(lambda);
      } else {
        s = 0;
        for (int j = 0; j < d; j++) s += c[static_cast<size_t>(i) * d + j] * vec[j];
      }
      r.scores[static_cast<size_t>(i) * r.k + comp] = sign * s;
    }
    r.variance.push_back(lambda / (n - 1));
    r.ratio.push_back(total > 0 ? lambda / total : 0.0);
  }
  return r;
}

}  // namespace gpt2
