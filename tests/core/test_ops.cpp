#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/cpu.h"
#include "core/kernel_test_inputs.h"
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

TEST(Ops, SwigluAtEveryLevelStaysWithinAFewUlpOfTheReference) {
  test::IsaGuard guard;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> wide(-30.0f, 30.0f), unit(-2.0f, 2.0f);
  const int n = 1037;  // not a multiple of 16: the masked tail runs too
  std::vector<float> g(n), u(n);
  for (int i = 0; i < n; ++i) {
    g[i] = wide(rng);
    u[i] = unit(rng);
  }
  const float extremes[] = {0.0f, -0.0f, 100.0f, -100.0f, -88.8f, 88.8f, 1e-30f, -1e-30f, -1e4f};
  for (int i = 0; i < 9; ++i) g[i] = extremes[i];
  std::vector<float> want = g;
  swiglu_ref(want.data(), u.data(), n);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!set_isa(isa)) continue;
    std::vector<float> got = g;
    swiglu(got.data(), u.data(), n);
    for (int i = 0; i < n; ++i)
      ASSERT_NEAR(got[i], want[i], 5e-7f * std::abs(want[i]) + 1e-37f)
          << isa_name(isa) << " g " << g[i] << " u " << u[i];
  }
}

}  // namespace
}  // namespace sf
