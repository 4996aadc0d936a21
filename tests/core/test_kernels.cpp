// SIMD weight x activation kernels (core/kernels) and matmul's paths, held
// against the scalar references:
//  * activation quantizers: byte-identical to the scalar quantizers;
//  * kernels: vs the scalar quantized-path reference on random blocks (max-abs
//    and normalized error), exactly on inputs where every float step is exact
//    (so the integer sums must match to the last bit), and independent of
//    tiling;
//  * matmul: Scalar level = dequantize + f32 dot (bit for bit); native levels
//    = the kernel reference, the same bits for any M, row position or thread
//    count, and within activation-quantization noise of the Scalar level.
// Every supported ISA level runs (set_isa); levels the CPU lacks are skipped
// with a message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/dtype.h"
#include "core/fp16.h"
#include "core/kernel_test_inputs.h"
#include "core/kernels/kernels.h"
#include "core/matmul.h"
#include "core/ops.h"
#include "core/quant.h"
#include "core/threadpool.h"

namespace sf {
namespace {

using kernels::ActFormat;
using kernels::TypeKernels;

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                        DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                        DType::Q4_K, DType::Q5_K, DType::Q6_K};

using test::bits_equal;
using test::fp16_fields;
using test::is_float_type;
using test::IsaGuard;
using test::make_weights;
using test::WeightKind;

// Row lengths worth testing for a type: odd block counts and tails.
std::vector<int64_t> lengths(DType t) {
  const int64_t bs = traits(t).block_size;
  if (bs == 1) return {1, 7, 16, 33, 100, 257, 1000};
  if (bs == 32) return {32, 64, 96, 224, 1024};
  return {256, 512, 768};
}

// Activations: N(0, 1) with all-zero blocks (32 and 256) and a lone negative peak
// (Q8_K keeps the sign of the largest magnitude). Exact: small integers with
// one +-127 in every 32 elements, so every quantized scale is exactly 1.
std::vector<float> make_acts(int64_t m, int64_t n, bool exact, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x(m * n);
  if (exact) {
    std::uniform_int_distribution<int> small(-3, 3), pos(0, 31), sign(0, 1);
    for (auto& v : x) v = static_cast<float>(small(rng));
    for (int64_t i = 0; i < m * n; i += 32) {
      const int64_t j = std::min<int64_t>(i + pos(rng), m * n - 1);
      x[j] = sign(rng) ? 127.f : -127.f;
    }
    return x;
  }
  std::normal_distribution<float> dist(0.f, 1.f);
  for (auto& v : x) v = dist(rng);
  for (int64_t i = 0; i < m; ++i) {
    if (n >= 64) std::fill(x.begin() + i * n + 32, x.begin() + i * n + 64, 0.f);
    if (n >= 512) std::fill(x.begin() + i * n + 256, x.begin() + i * n + 512, 0.f);
    x[i * n] = -9.f;
  }
  return x;
}

struct Acts {
  std::vector<uint8_t> buf;
  size_t stride = 0;
  const uint8_t* data() const { return buf.data(); }
};

// Converts m rows with a level's quantizer (F32: copied as is).
Acts convert(const TypeKernels& k, const std::vector<float>& x, int64_t m, int64_t n) {
  Acts a;
  a.stride = kernels::act_row_bytes(k.format, n);
  a.buf.assign(a.stride * m, 0);
  for (int64_t i = 0; i < m; ++i) {
    if (k.quantize)
      k.quantize(x.data() + i * n, a.buf.data() + i * a.stride, n);
    else
      std::memcpy(a.buf.data() + i * a.stride, x.data() + i * n, n * sizeof(float));
  }
  return a;
}

std::vector<float> run_gemm(kernels::GemmFn gemm, const std::vector<uint8_t>& w, DType t,
                            int64_t rows, const Acts& a, int64_t m, int64_t n) {
  std::vector<float> y(m * rows, std::nanf(""));
  gemm(w.data(), row_bytes(t, n), rows, a.data(), a.stride, m, n, y.data(), rows);
  return y;
}

struct ErrorStats {
  double max_abs = 0;
  double max_ref = 0;
  double normalized() const { return max_ref > 0 ? max_abs / max_ref : max_abs; }
};

ErrorStats compare(const std::vector<float>& got, const std::vector<float>& want) {
  ErrorStats e;
  for (size_t i = 0; i < want.size(); ++i) {
    e.max_abs = std::max(e.max_abs, std::fabs(double(got[i]) - want[i]));
    if (std::isnan(got[i]) != std::isnan(want[i])) e.max_abs = INFINITY;
    e.max_ref = std::max(e.max_ref, std::fabs(double(want[i])));
  }
  return e;
}

// ---------------------------------------------------------------- cpu / isa

TEST(Cpu, DetectsAndSwitchesLevels) {
  IsaGuard guard;
  EXPECT_TRUE(isa_supported(Isa::Scalar));
  EXPECT_TRUE(isa_supported(best_isa()));
  if (isa_supported(Isa::Avx512)) {
    EXPECT_TRUE(isa_supported(Isa::Avx2));
  }
  const std::string d = describe_isa();
  EXPECT_NE(d.find(isa_name(active_isa())), std::string::npos) << d;
  std::printf("active ISA: %s\n", d.c_str());
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (isa_supported(isa)) {
      EXPECT_TRUE(set_isa(isa));
      EXPECT_EQ(active_isa(), isa);
    } else {
      const Isa before = active_isa();
      EXPECT_FALSE(set_isa(isa));
      EXPECT_EQ(active_isa(), before);
    }
  }
  EXPECT_EQ(isa_from_name("AVX512"), Isa::Avx512);
  EXPECT_EQ(isa_from_name("scalar"), Isa::Scalar);
  EXPECT_EQ(isa_from_name("avx2"), Isa::Avx2);
  EXPECT_FALSE(isa_from_name("sse9").has_value());
}

TEST(Cpu, EveryComputableTypeHasKernelsAtEveryLevel) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) continue;
    for (DType t : kTypes) {
      const TypeKernels& k = kernels::type_kernels(isa, t);
      EXPECT_TRUE(k.gemm != nullptr) << isa_name(isa) << " " << type_name(t);
      EXPECT_EQ(k.quantize == nullptr, t == DType::F32) << isa_name(isa) << " " << type_name(t);
    }
  }
}

TEST(KernelReference, EqualsDequantizedDotOnExactInputs) {
  // With unit scales and integer activations (quantized exactly, scale +-1),
  // the quantized-path reference must equal the dot product of the
  // dequantized weights (core/quant.h) with the activations, exactly. This
  // ties the reference's offsets, scales and mins to the finished decoders.
  for (DType t : kTypes) {
    const TypeKernels& ref = kernels::type_kernels(Isa::Scalar, t);
    for (int64_t n : lengths(t)) {
      if (n > 512 && traits(t).block_size == 256) continue;
      const int64_t rows = 4, m = 2;
      const auto w = make_weights(t, rows, n, WeightKind::Exact, 3 + static_cast<uint32_t>(n));
      const auto x = make_acts(m, n, true, 5 + static_cast<uint32_t>(n));
      const Acts a = convert(ref, x, m, n);
      const auto got = run_gemm(ref.gemm, w, t, rows, a, m, n);
      std::vector<float> row(n);
      for (int64_t r = 0; r < rows; ++r) {
        dequantize_row_ref(t, w.data() + r * row_bytes(t, n), row.data(), n);
        for (int64_t i = 0; i < m; ++i) {
          double want = 0;
          for (int64_t j = 0; j < n; ++j) want += double(row[j]) * x[i * n + j];
          ASSERT_EQ(got[i * rows + r], want) << type_name(t) << " n=" << n << " r=" << r;
        }
      }
    }
  }
}

// ------------------------------------------------------- per (ISA, type) cases

struct Case {
  Isa isa;
  DType type;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(isa_name(info.param.isa)) + "_" + type_name(info.param.type);
}

std::vector<Case> simd_cases() {
  std::vector<Case> cases;
  for (Isa isa : {Isa::Avx2, Isa::Avx512})
    for (DType t : kTypes) cases.push_back({isa, t});
  return cases;
}

class SimdKernel : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam().isa))
      GTEST_SKIP() << "this CPU lacks the " << isa_name(GetParam().isa) << " level";
  }
  const TypeKernels& simd() const { return kernels::type_kernels(GetParam().isa, GetParam().type); }
  const TypeKernels& ref() const { return kernels::type_kernels(Isa::Scalar, GetParam().type); }
};

TEST_P(SimdKernel, QuantizerMatchesScalarByteForByte) {
  const DType t = GetParam().type;
  if (t == DType::F32) GTEST_SKIP() << "F32 activations are used as they are";
  for (int64_t n : lengths(t)) {
    for (bool exact : {false, true}) {
      const auto x = make_acts(3, n, exact, 11 + static_cast<uint32_t>(n));
      const Acts a = convert(simd(), x, 3, n), b = convert(ref(), x, 3, n);
      EXPECT_EQ(a.buf, b.buf) << "n=" << n << " exact=" << exact;
    }
  }
}

TEST_P(SimdKernel, MatchesScalarReference) {
  const DType t = GetParam().type;
  // Float kernels keep f32 sums; the integer kernels' float combination differs
  // from the reference only in summation order.
  const double tol = 2e-6;
  for (WeightKind kind : {WeightKind::Quantized, WeightKind::RandomBytes}) {
    for (int64_t n : lengths(t)) {
      const int64_t rows = 13, m = 7;
      const auto w = make_weights(t, rows, n, kind, 5 + static_cast<uint32_t>(n));
      const auto x = make_acts(m, n, false, 7 + static_cast<uint32_t>(n));
      const Acts a = convert(ref(), x, m, n);
      const auto want = run_gemm(ref().gemm, w, t, rows, a, m, n);
      const auto got = run_gemm(simd().gemm, w, t, rows, a, m, n);
      const ErrorStats e = compare(got, want);
      EXPECT_LE(e.normalized(), tol) << "n=" << n << " kind=" << static_cast<int>(kind)
                                     << " max_abs=" << e.max_abs << " max_ref=" << e.max_ref;
    }
  }
}

TEST_P(SimdKernel, IntegerSumsExact) {
  // Scales of 1 and small integers: every float step is exact, so any slip in
  // the integer arithmetic (offsets, bit unpacking, scales, mins) shows.
  const DType t = GetParam().type;
  for (int64_t n : lengths(t)) {
    if (n > 512 && traits(t).block_size == 256) continue;  // keep sums below 2^24
    const int64_t rows = 5, m = 3;
    const auto w = make_weights(t, rows, n, WeightKind::Exact, 17 + static_cast<uint32_t>(n));
    const auto x = make_acts(m, n, true, 19 + static_cast<uint32_t>(n));
    const Acts a = convert(ref(), x, m, n);
    const auto want = run_gemm(ref().gemm, w, t, rows, a, m, n);
    const auto got = run_gemm(simd().gemm, w, t, rows, a, m, n);
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "n=" << n << " output " << i;
      ASSERT_EQ(want[i], std::nearbyint(want[i])) << "test inputs are not exact";
    }
  }
}

TEST_P(SimdKernel, ResultsDoNotDependOnTiling) {
  const DType t = GetParam().type;
  const int64_t n = lengths(t)[1];
  const int64_t rows = 11, m = 9;
  const auto w = make_weights(t, rows, n, WeightKind::Quantized, 23);
  const auto x = make_acts(m, n, false, 29);
  const Acts a = convert(simd(), x, m, n);
  const auto all = run_gemm(simd().gemm, w, t, rows, a, m, n);
  const size_t wb = row_bytes(t, n);
  for (int64_t c = 0; c < m; ++c) {
    for (int64_t r = 0; r < rows; ++r) {
      float one;
      simd().gemm(w.data() + r * wb, wb, 1, a.data() + c * a.stride, a.stride, 1, n, &one, 1);
      ASSERT_EQ(std::memcmp(&one, &all[c * rows + r], sizeof(float)), 0) << "r=" << r << " c=" << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, SimdKernel, ::testing::ValuesIn(simd_cases()), case_name);

TEST(SimdKernelBf16, Avx512FmaFallbackMatchesReference) {
  if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "this CPU lacks the avx512 level";
  const kernels::GemmFn gemm = kernels::avx512_bf16_fma_gemm();
  const TypeKernels& ref = kernels::type_kernels(Isa::Scalar, DType::BF16);
  for (int64_t n : lengths(DType::BF16)) {
    const auto w = make_weights(DType::BF16, 6, n, WeightKind::RandomBytes, 31);
    const auto x = make_acts(5, n, false, 37);
    const Acts a = convert(ref, x, 5, n);
    const ErrorStats e = compare(run_gemm(gemm, w, DType::BF16, 6, a, 5, n),
                                 run_gemm(ref.gemm, w, DType::BF16, 6, a, 5, n));
    EXPECT_LE(e.normalized(), 2e-6) << "n=" << n;
  }
}

// ------------------------------------------------------------------- matmul

std::vector<float> run_matmul(DType t, const std::vector<uint8_t>& w, int64_t rows, int64_t n,
                              const std::vector<float>& x, int64_t m, ThreadPool& pool) {
  const WeightView wv{t, w.data(), rows, n};
  std::vector<float> y(m * rows, std::nanf(""));
  matmul(wv, x.data(), n, y.data(), rows, m, pool);
  return y;
}

// Activation-quantization noise of the native path relative to the Scalar
// (dequantize + f32) path on N(0, 1) data, as max|diff| / max|y|: about twice
// the worst measured.
double native_noise_bound(DType t) {
  switch (t) {
    case DType::F32:
      return 1e-5;
    case DType::F16:
      return 2e-3;
    case DType::BF16:
      return 1e-2;
    default:
      return 4e-2;
  }
}

class MatmulPaths : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulPaths, ScalarLevelIsDequantizeThenF32Dot) {
  IsaGuard guard;
  ASSERT_TRUE(set_isa(Isa::Scalar));
  const DType t = GetParam();
  const int64_t n = lengths(t)[1], rows = 19, m = 3;
  const auto w = make_weights(t, rows, n, WeightKind::Quantized, 41);
  const auto x = make_acts(m, n, false, 43);
  ThreadPool pool(3);
  const auto got = run_matmul(t, w, rows, n, x, m, pool);
  std::vector<float> row(n);
  const WeightView wv{t, w.data(), rows, n};
  for (int64_t r = 0; r < rows; ++r) {
    weight_row_f32(wv, r, row.data());
    for (int64_t i = 0; i < m; ++i) {
      const float want = dot_f32(row.data(), x.data() + i * n, n);
      ASSERT_EQ(std::memcmp(&want, &got[i * rows + r], sizeof(float)), 0) << r << "," << i;
    }
  }
}

TEST_P(MatmulPaths, NativeLevelsMatchReferenceForAnyShapeAndThreads) {
  IsaGuard guard;
  const DType t = GetParam();
  const TypeKernels& ref = kernels::type_kernels(Isa::Scalar, t);
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) {
      std::printf("[  SKIP    ] %s: this CPU lacks the %s level\n", type_name(t), isa_name(isa));
      continue;
    }
    SCOPED_TRACE(isa_name(isa));
    ASSERT_TRUE(set_isa(isa));
    EXPECT_TRUE(matmul_is_native(t));
    for (int64_t n : {lengths(t)[0], lengths(t)[2]}) {
      const int64_t rows = 37;
      const auto w = make_weights(t, rows, n, WeightKind::Quantized, 47 + static_cast<uint32_t>(n));
      const int64_t max_m = 33;
      const auto x = make_acts(max_m, n, false, 53 + static_cast<uint32_t>(n));
      // Reference for all rows at once.
      const Acts a = convert(ref, x, max_m, n);
      const auto want = run_gemm(ref.gemm, w, t, rows, a, max_m, n);
      // Row-at-a-time native results, the baseline every batched run must equal.
      ThreadPool pool1(1);
      std::vector<float> single(max_m * rows);
      for (int64_t i = 0; i < max_m; ++i) {
        const std::vector<float> xi(x.begin() + i * n, x.begin() + (i + 1) * n);
        const auto yi = run_matmul(t, w, rows, n, xi, 1, pool1);
        std::copy(yi.begin(), yi.end(), single.begin() + i * rows);
      }
      const ErrorStats e = compare(single, want);
      EXPECT_LE(e.normalized(), 2e-6) << "n=" << n << " max_abs=" << e.max_abs;
      for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        for (int64_t m : {1, 2, 3, 7, 16, 33}) {
          const std::vector<float> xm(x.begin(), x.begin() + m * n);
          const auto y = run_matmul(t, w, rows, n, xm, m, pool);
          const std::vector<float> expect(single.begin(), single.begin() + m * rows);
          EXPECT_TRUE(bits_equal(y, expect)) << "n=" << n << " threads=" << threads << " m=" << m;
        }
      }
    }
  }
}

TEST_P(MatmulPaths, NativeWithinActivationNoiseOfScalar) {
  IsaGuard guard;
  const DType t = GetParam();
  const int64_t n = lengths(t).back(), rows = 64, m = 4;
  const auto w = make_weights(t, rows, n, WeightKind::Quantized, 59);
  const auto x = make_acts(m, n, false, 61);
  ThreadPool pool(2);
  ASSERT_TRUE(set_isa(Isa::Scalar));
  const auto scalar = run_matmul(t, w, rows, n, x, m, pool);
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) continue;
    ASSERT_TRUE(set_isa(isa));
    const ErrorStats e = compare(run_matmul(t, w, rows, n, x, m, pool), scalar);
    std::printf("%-6s %-5s native vs scalar: max_abs %.3g normalized %.3g\n", isa_name(isa),
                type_name(t), e.max_abs, e.normalized());
    EXPECT_LE(e.normalized(), native_noise_bound(t)) << isa_name(isa);
  }
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulPaths, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(type_name(info.param));
                         });

TEST(Matmul, EmptyAndLargeRowCounts) {
  IsaGuard guard;
  ThreadPool pool(2);
  const auto w = make_weights(DType::Q4_0, 300, 64, WeightKind::Quantized, 67);
  const auto x = make_acts(2, 64, false, 71);
  const WeightView wv{DType::Q4_0, w.data(), 300, 64};
  std::vector<float> y(600, 1.f);
  matmul(wv, x.data(), 64, y.data(), 300, 0, pool);  // m = 0: nothing written
  EXPECT_EQ(y[0], 1.f);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!set_isa(isa)) continue;
    matmul(wv, x.data(), 64, y.data(), 300, 2, pool);
    for (float v : y) ASSERT_TRUE(std::isfinite(v)) << isa_name(isa);
  }
}

}  // namespace
}  // namespace sf
