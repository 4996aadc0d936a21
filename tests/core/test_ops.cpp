#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/ops.h"

namespace sf {
namespace {

TEST(Ops, RmsNormMatchesDefinition) {
  std::vector<float> x = {1, -2, 3, -4, 5}, w = {1, 2, 1, 0.5f, 1}, y(5);
  rmsnorm(x.data(), w.data(), y.data(), 5, 1e-6f);
  const double ms = (1 + 4 + 9 + 16 + 25) / 5.0;
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(y[i], x[i] / std::sqrt(ms + 1e-6) * w[i], 1e-6);
}

TEST(Ops, SoftmaxSumsToOneAndHandlesMaskedEntries) {
  const float ninf = -std::numeric_limits<float>::infinity();
  std::vector<float> x = {1000, 999, ninf, 998};
  softmax(x.data(), 4);
  EXPECT_NEAR(x[0] + x[1] + x[3], 1.0, 1e-6);
  EXPECT_EQ(x[2], 0.0f);
  EXPECT_NEAR(x[0] / x[1], std::exp(1.0), 1e-4);
}

TEST(Ops, SwigluAndDot) {
  std::vector<float> g = {0, 1, -1}, u = {2, 3, 4};
  swiglu(g.data(), u.data(), 3);
  EXPECT_NEAR(g[0], 0, 1e-7);
  EXPECT_NEAR(g[1], 3 / (1 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(g[2], -4 / (1 + std::exp(1.0)), 1e-6);
  std::vector<float> a(37), b(37);
  double want = 0;
  for (int i = 0; i < 37; ++i) {
    a[i] = 0.1f * i - 1;
    b[i] = 0.05f * (i % 7);
    want += double(a[i]) * b[i];
  }
  EXPECT_NEAR(dot_f32(a.data(), b.data(), 37), want, 1e-5);
}

}  // namespace
}  // namespace sf
