// sf::gemm against the scalar oracle gemm_ref (double accumulation) at every
// ISA level the CPU has (set_isa); on the AVX-512 level both Bf16 paths run
// (vdpbf16ps where the CPU has AVX512-BF16, and rounding packers + the f32
// kernel, what CPUs without it and Intel's run by default).
//
// Tolerance. Both sides see the same inputs (for Bf16 both round A and B to
// bf16 with round-to-nearest-even; a product of two bf16 values is exact in
// f32), so the only difference is f32 accumulation. Summing k products in any
// order (blocked or not, vdpbf16ps adds two products per step) in f32 errs by
// at most gamma_k * sum_p |a_ip| |b_pj| with gamma_k ~ k u, u = 2^-24; alpha
// scaling, the beta * C update and the final rounding of the reference add
// a few more u. The tests allow
//     |C - C_ref| <= (k + 8) u (|alpha| sum_p |a_ip||b_pj| + |beta||C0|) + 1e-30,
// a rigorous worst-case bound, still far below the error one wrong, missing or
// unrounded (for Bf16) term would cause: ~ sum/k for a missing term, ~ 2^-9
// sum / sqrt(k) for an input not rounded to bf16.
// Padding: A and B padding (lda/ldb beyond the row) holds NaN, so a read past
// a row shows up as NaN; C's padding holds a sentinel that must survive;
// beta = 0 runs with C full of NaN (C is write-only then).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/gemm.h"
#include "core/kernels/gemm_kernels.h"
#include "core/threadpool.h"

namespace sf {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kSentinel = 12345.0f;

using gemm_detail::Bf16Path;

struct Level {
  Isa isa;
  Bf16Path path;
  const char* name;
};
const Level kLevels[] = {{Isa::Scalar, Bf16Path::Auto, "scalar"},
                         {Isa::Avx2, Bf16Path::Auto, "avx2"},
                         {Isa::Avx512, Bf16Path::Auto, "avx512"},
                         {Isa::Avx512, Bf16Path::Dot, "avx512-bf16dot"},
                         {Isa::Avx512, Bf16Path::Fma, "avx512-bf16fma"}};

class LevelGuard {
 public:
  explicit LevelGuard(const Level& l) : saved_(active_isa()) {
    ok_ = set_isa(l.isa);
    gemm_detail::set_bf16_path(l.path);
  }
  ~LevelGuard() {
    set_isa(saved_);
    gemm_detail::set_bf16_path(Bf16Path::Auto);
    gemm_detail::set_test_blocking(0, 0, 0);
  }
  bool ok() const { return ok_; }

 private:
  Isa saved_;
  bool ok_ = false;
};

ThreadPool& pool(int n) {
  static ThreadPool p1(1), p2(2), p3(3);
  return n == 1 ? p1 : n == 2 ? p2 : p3;
}

// rows x cols valid values in a buffer of rows x ld, NaN in the padding.
std::vector<float> random_matrix(int64_t rows, int64_t cols, int64_t ld, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(std::max<int64_t>(rows, 1) * ld), kNaN);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) v[r * ld + c] = nd(rng);
  return v;
}

float round_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

struct Case {
  Trans ta, tb;
  int64_t m, n, k;
  float alpha, beta;
  int pad = 3;  // extra elements per row of A, B and C
};

// Runs one case at the current level and checks it against gemm_ref.
void check_case(const Case& cs, GemmPrecision prec, ThreadPool& tp, uint32_t seed,
                const std::string& what) {
  std::mt19937 rng(seed);
  const bool ta = cs.ta == Trans::Yes, tb = cs.tb == Trans::Yes;
  const int64_t a_rows = ta ? cs.k : cs.m, a_cols = ta ? cs.m : cs.k;
  const int64_t b_rows = tb ? cs.n : cs.k, b_cols = tb ? cs.k : cs.n;
  const int64_t lda = a_cols + cs.pad, ldb = b_cols + cs.pad, ldc = cs.n + cs.pad;
  const std::vector<float> a = random_matrix(a_rows, a_cols, lda, rng);
  const std::vector<float> b = random_matrix(b_rows, b_cols, ldb, rng);
  std::vector<float> c0 = random_matrix(cs.m, cs.n, ldc, rng);
  for (int64_t i = 0; i < cs.m; ++i)
    for (int64_t j = cs.n; j < ldc; ++j) c0[i * ldc + j] = kSentinel;
  if (cs.beta == 0.0f)
    for (int64_t i = 0; i < cs.m; ++i)
      for (int64_t j = 0; j < cs.n; ++j) c0[i * ldc + j] = kNaN;

  std::vector<float> c = c0, ref = c0;
  gemm(cs.ta, cs.tb, cs.m, cs.n, cs.k, cs.alpha, a.data(), lda, b.data(), ldb, cs.beta, c.data(),
       ldc, tp, prec);
  gemm_ref(cs.ta, cs.tb, cs.m, cs.n, cs.k, cs.alpha, a.data(), lda, b.data(), ldb, cs.beta,
           ref.data(), ldc, prec);

  // sum_p |a_ip| |b_pj| of the values the product uses (rounded for Bf16).
  auto absval = [&](const std::vector<float>& x) {
    std::vector<float> y(x.size(), 0.0f);
    for (size_t i = 0; i < x.size(); ++i)
      if (!std::isnan(x[i]))
        y[i] = std::fabs(prec == GemmPrecision::Bf16 ? round_bf16(x[i]) : x[i]);
    return y;
  };
  const std::vector<float> aa = absval(a), ab = absval(b);
  std::vector<float> mag(static_cast<size_t>(cs.m * ldc), 0.0f);
  gemm_ref(cs.ta, cs.tb, cs.m, cs.n, cs.k, 1.0f, aa.data(), lda, ab.data(), ldb, 0.0f, mag.data(),
           ldc);

  const double u = std::ldexp(1.0, -24);
  int bad = 0;
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = c[i * ldc + j];
      if (j >= cs.n) {
        if (got != kSentinel && bad++ < 5)
          ADD_FAILURE() << what << ": C padding overwritten at (" << i << "," << j << ")";
        continue;
      }
      const double want = ref[i * ldc + j];
      const double c_in = cs.beta == 0.0f ? 0.0 : std::fabs(c0[i * ldc + j]);
      const double tol =
          (cs.k + 8) * u * (std::fabs(cs.alpha) * mag[i * ldc + j] + std::fabs(cs.beta) * c_in) +
          1e-30;
      if (!(std::fabs(got - want) <= tol) && bad++ < 5)
        ADD_FAILURE() << what << ": C(" << i << "," << j << ") = " << got << ", ref " << want
                      << ", tol " << tol;
    }
  }
}

std::string describe(const Level& l, GemmPrecision p, const Case& cs, int threads) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s/%s ta=%d tb=%d m=%lld n=%lld k=%lld alpha=%g beta=%g t=%d",
                l.name, p == GemmPrecision::F32 ? "f32" : "bf16", cs.ta == Trans::Yes,
                cs.tb == Trans::Yes, static_cast<long long>(cs.m), static_cast<long long>(cs.n),
                static_cast<long long>(cs.k), cs.alpha, cs.beta, threads);
  return buf;
}

class GemmLevel : public ::testing::TestWithParam<Level> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam().isa))
      GTEST_SKIP() << "this CPU lacks the " << isa_name(GetParam().isa) << " level";
    if (GetParam().path == Bf16Path::Dot && !cpu_features().avx512bf16)
      GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  }
};

constexpr Trans kTrans[] = {Trans::No, Trans::Yes};
constexpr GemmPrecision kPrecs[] = {GemmPrecision::F32, GemmPrecision::Bf16};

// All four Trans combinations, odd sizes (tiles with a few rows / columns, k
// tails), padded leading dimensions, alpha/beta variations.
TEST_P(GemmLevel, OddShapesAllTransposes) {
  LevelGuard g(GetParam());
  ASSERT_TRUE(g.ok());
  const int64_t shapes[][3] = {{1, 1, 1},     {3, 17, 33},  {17, 3, 129}, {33, 129, 5},
                               {129, 33, 17}, {14, 32, 16}, {15, 31, 2},  {29, 65, 300}};
  const float ab[][2] = {{1.0f, 0.0f}, {-0.5f, 1.0f}, {2.0f, 0.75f}};
  uint32_t seed = 1;
  for (GemmPrecision prec : kPrecs)
    for (Trans ta : kTrans)
      for (Trans tb : kTrans)
        for (const auto& s : shapes)
          for (const auto& x : ab) {
            const Case cs{ta, tb, s[0], s[1], s[2], x[0], x[1], 1 + static_cast<int>(seed % 7)};
            check_case(cs, prec, pool(2), seed++, describe(GetParam(), prec, cs, 2));
          }
}

// Tiny blocks so every loop of the driver runs several times (ic, pc, jc, ir,
// jr, several thread chunks) with partial blocks everywhere, for 1..3 threads.
TEST_P(GemmLevel, SmallBlocksEveryBoundary) {
  LevelGuard g(GetParam());
  ASSERT_TRUE(g.ok());
  gemm_detail::set_test_blocking(20, 24, 40);
  uint32_t seed = 100;
  for (int threads : {1, 2, 3})
    for (GemmPrecision prec : kPrecs)
      for (Trans ta : kTrans)
        for (Trans tb : kTrans) {
          const Case cs{ta, tb, 203, 150, 77, 0.5f, 1.0f, 5};
          check_case(cs, prec, pool(threads), seed++, describe(GetParam(), prec, cs, threads));
        }
}

// Default blocks with k past the largest k block (768) and several N blocks
// and thread chunks; both sizes of split (N larger, M larger).
TEST_P(GemmLevel, DefaultBlocksLargerShapes) {
  LevelGuard g(GetParam());
  ASSERT_TRUE(g.ok());
  const Case cases[] = {{Trans::No, Trans::Yes, 40, 700, 800, 1.0f, 0.0f, 1},
                        {Trans::Yes, Trans::No, 400, 45, 800, 1.0f, 1.0f, 2},
                        {Trans::No, Trans::No, 150, 300, 390, -1.0f, 0.5f, 0}};
  uint32_t seed = 200;
  for (GemmPrecision prec : kPrecs)
    for (const Case& cs : cases)
      check_case(cs, prec, pool(2), seed++, describe(GetParam(), prec, cs, 2));
}

// The same bits for any thread count (the k blocking, hence the summation
// order, does not depend on it).
TEST_P(GemmLevel, SameBitsForAnyThreadCount) {
  LevelGuard g(GetParam());
  ASSERT_TRUE(g.ok());
  std::mt19937 rng(7);
  const int64_t m = 300, n = 520, k = 400;
  const std::vector<float> a = random_matrix(m, k, k, rng), b = random_matrix(n, k, k, rng);
  for (GemmPrecision prec : kPrecs) {
    std::vector<float> c1(m * n), c;
    gemm(Trans::No, Trans::Yes, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c1.data(), n,
         pool(1), prec);
    for (int threads : {2, 3}) {
      c.assign(m * n, kNaN);
      gemm(Trans::No, Trans::Yes, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n,
           pool(threads), prec);
      EXPECT_EQ(0, std::memcmp(c.data(), c1.data(), c.size() * 4))
          << GetParam().name << " threads=" << threads;
    }
  }
}

// Bf16 rounds to nearest even: 1 + 0.625 ulp -> 1 + ulp, the ties 1 + ulp/2 -> 1
// and 1 + 3 ulp/2 -> 1 + 2 ulp (bf16 ulp at 1 is 2^-7), exactly; F32 keeps them.
TEST_P(GemmLevel, Bf16RoundsToNearestEven) {
  LevelGuard g(GetParam());
  ASSERT_TRUE(g.ok());
  const float ulp = std::ldexp(1.0f, -7);
  const float in[] = {1 + 0.625f * ulp, 1 + 0.5f * ulp, 1 + 1.5f * ulp, -(1 + 0.625f * ulp)};
  const float want[] = {1 + ulp, 1.0f, 1 + 2 * ulp, -(1 + ulp)};
  for (int t = 0; t < 4; ++t)
    for (Trans ta : kTrans)
      for (Trans tb : kTrans) {
        // op(A) = [x, 1], op(B) = [1, 0]^T: C = x as the product sees it.
        const float a[2] = {in[t], 1.0f}, b[2] = {1.0f, 0.0f};
        float c = kNaN;
        gemm(ta, tb, 1, 1, 2, 1.0f, a, ta == Trans::Yes ? 1 : 2, b, tb == Trans::Yes ? 2 : 1, 0.0f,
             &c, 1, pool(1), GemmPrecision::Bf16);
        EXPECT_EQ(c, want[t]) << GetParam().name << " input " << in[t];
        gemm(ta, tb, 1, 1, 2, 1.0f, a, ta == Trans::Yes ? 1 : 2, b, tb == Trans::Yes ? 2 : 1, 0.0f,
             &c, 1, pool(1), GemmPrecision::F32);
        EXPECT_EQ(c, in[t]) << GetParam().name;
      }
}

// k = 0 or alpha = 0: C = beta * C without reading A or B (BLAS convention);
// beta = 0 clears C even where it held NaN.
TEST_P(GemmLevel, EmptyKAndZeroAlpha) {
  LevelGuard g(GetParam());
  ASSERT_TRUE(g.ok());
  const float nan_in[4] = {kNaN, kNaN, kNaN, kNaN};
  for (GemmPrecision prec : kPrecs) {
    std::vector<float> c = {1, 2, 3, 4};
    gemm(Trans::No, Trans::No, 2, 2, 0, 1.0f, nan_in, 1, nan_in, 2, 0.5f, c.data(), 2, pool(2),
         prec);
    EXPECT_EQ(c, (std::vector<float>{0.5f, 1, 1.5f, 2}));
    gemm(Trans::No, Trans::No, 2, 2, 2, 0.0f, nan_in, 2, nan_in, 2, 2.0f, c.data(), 2, pool(2),
         prec);
    EXPECT_EQ(c, (std::vector<float>{1, 2, 3, 4}));
    c.assign(4, kNaN);
    gemm(Trans::No, Trans::No, 2, 2, 0, 1.0f, nan_in, 1, nan_in, 2, 0.0f, c.data(), 2, pool(2),
         prec);
    EXPECT_EQ(c, (std::vector<float>{0, 0, 0, 0}));
  }
}

// The level and precision pick the kernel meant for them.
TEST_P(GemmLevel, KernelChoice) {
  LevelGuard g(GetParam());
  ASSERT_TRUE(g.ok());
  const std::string f32 = gemm_detail::select_kernel(false)->name;
  const std::string bf16 = gemm_detail::select_kernel(true)->name;
  const std::string isa = isa_name(GetParam().isa);
  EXPECT_EQ(f32, isa + "-f32");
  if (GetParam().path == Bf16Path::Dot)
    EXPECT_EQ(bf16, "avx512-bf16");
  else if (GetParam().path == Bf16Path::Fma || GetParam().isa != Isa::Avx512 ||
           !cpu_features().avx512bf16)
    EXPECT_EQ(bf16, isa + "-f32(bf16 inputs)");
  else  // Auto with AVX512-BF16: either, by vendor
    EXPECT_TRUE(bf16 == "avx512-bf16" || bf16 == "avx512-f32(bf16 inputs)") << bf16;
  std::printf("[ level ] %s: f32 %s, bf16 %s\n", GetParam().name, f32.c_str(), bf16.c_str());
}

INSTANTIATE_TEST_SUITE_P(Levels, GemmLevel, ::testing::ValuesIn(kLevels),
                         [](const ::testing::TestParamInfo<Level>& info) {
                           std::string s = info.param.name;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

// gemm_f64 (for gradient checks) against a direct sum.
TEST(GemmF64, MatchesDirectSum) {
  std::mt19937 rng(3);
  std::normal_distribution<double> nd;
  const int64_t m = 5, n = 7, k = 9;
  std::vector<double> a(k * m), b(n * k), c(m * n, 1.0);
  for (double& x : a) x = nd(rng);
  for (double& x : b) x = nd(rng);
  gemm_f64(Trans::Yes, Trans::Yes, m, n, k, 2.0, a.data(), m, b.data(), k, 0.5, c.data(), n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += a[p * m + i] * b[j * k + p];
      EXPECT_NEAR(c[i * n + j], 2.0 * s + 0.5, 1e-12);
    }
}

}  // namespace
}  // namespace sf
