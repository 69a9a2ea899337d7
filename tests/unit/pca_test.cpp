// core/pca.h against NumPy's SVD (values computed with numpy.linalg.svd and scikit-learn's
// sign rule: each component's largest-magnitude loading positive), through both of its
// paths: more points than dimensions (covariance) and fewer (Gram matrix).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/pca.h"

using gpt2::pca;

TEST_CASE("pca: scores, explained variance and signs equal NumPy's", "[pca]") {
  const std::vector<float> x = {1, 2, 0.5f, 0, -1, 2, 3, 1, 1, -2, 0.5f, 0};  // 4 x 3
  const auto r = pca(x, 4, 3, 2);
  REQUIRE(r.k == 2);
  const double want[] = {0.80710294, 1.23484, -0.80246548, -1.86817222,
                         2.51072783, -0.17960766, -2.51536529, 0.81293988};
  for (int i = 0; i < 8; i++) CHECK(std::fabs(r.scores[i] - want[i]) < 1e-6);
  CHECK(std::fabs(r.ratio[0] - 0.70068844) < 1e-7);
  CHECK(std::fabs(r.ratio[1] - 0.28719635) < 1e-7);
  CHECK(std::fabs(r.variance[0] - 4.64206094) < 1e-6);
  // the transpose: 3 points of 4 dimensions (the Gram path)
  std::vector<float> t(12);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++) t[j * 4 + i] = x[i * 3 + j];
  const auto g = pca(t, 3, 4, 2);
  const double want_t[] = {-2.04124145, 0.0, 1.02062073, -1.6955825, 1.02062073, 1.6955825};
  for (int i = 0; i < 6; i++) CHECK(std::fabs(g.scores[i] - want_t[i]) < 1e-6);
  CHECK(std::fabs(g.ratio[0] - 0.52083333) < 1e-7);
  CHECK(std::fabs(g.variance[1] - 2.875) < 1e-6);
  CHECK_THROWS_AS(pca(x, 1, 3, 2), gpt2::Error);
}
