// Packed (row-interleaved) weights, core/packed_weights.h, and their kernels
// (Q4_0, Q5_0, Q8_0, Q4_K, Q6_K; F32, F16, BF16):
//  * layout: packing then unpacking gives the GGUF rows back byte for byte;
//    rows past the end of the last group are zero;
//  * the Scalar level's packed kernel equals the GGUF-layout reference bit
//    for bit (it reads the layout element by element); float types: within
//    float rounding (one float FMA chain per output against double sums);
//  * the AVX-512 packed kernel matches that reference on random shapes (odd
//    row counts, long rows, many columns), exactly on inputs where every float
//    step is exact, and gives the same bits whatever the tiling; float types:
//    bit for bit equal to the packed reference on any input;
//  * matmul with WeightView::packed: the same bits for any M and thread count,
//    and within activation-quantization noise of the Scalar level.
// The AVX-512 cases skip with a message on CPUs without AVX-512 VNNI.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/cpu.h"
#include "core/dtype.h"
#include "core/fp16.h"
#include "core/kernel_test_inputs.h"
#include "core/kernels/kernels.h"
#include "core/matmul.h"
#include "core/packed_weights.h"
#include "core/quant.h"
#include "core/threadpool.h"

namespace sf {
namespace {

using kernels::TypeKernels;

const DType kQuantTypes[] = {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q4_K, DType::Q6_K};
const DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};
const DType kPackTypes[] = {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q4_K,
                            DType::Q6_K, DType::F32,  DType::F16,  DType::BF16};
const int64_t kRows[] = {1, 15, 16, 17, 33, 100};

// Row lengths: one block, three, and a long row with an odd block count;
// float types (any length): also lengths around the kernels' k-blocks.
std::vector<int64_t> cols_for(DType t) {
  if (packed_is_float(t)) return {1, 3, 255, 256, 257, 1000, 4096 + 5};
  const int64_t bs = traits(t).block_size;
  return {bs, 3 * bs, 4096 + bs};
}

using test::bits_equal;
using test::IsaGuard;
using test::make_weights;
using test::WeightKind;

std::vector<uint8_t> pack(DType t, const std::vector<uint8_t>& w, int64_t rows, int64_t cols) {
  std::vector<uint8_t> p(packed_bytes(t, rows, cols), 0xAB);  // poison: packing must write all
  pack_weights(t, w.data(), rows, cols, p.data());
  return p;
}

// N(0, 1) activations with an all-zero block; Exact: small integers with one
// +-127 per block, so every activation scale is exactly 1.
std::vector<float> make_acts(int64_t m, int64_t n, bool exact, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x(m * n);
  if (exact) {
    std::uniform_int_distribution<int> small(-3, 3), pos(0, 31), sign(0, 1);
    for (auto& v : x) v = static_cast<float>(small(rng));
    for (int64_t i = 0; i < m * n; i += 32) x[i + pos(rng)] = sign(rng) ? 127.f : -127.f;
    return x;
  }
  std::normal_distribution<float> dist(0.f, 1.f);
  for (auto& v : x) v = dist(rng);
  for (int64_t i = 0; i < m; ++i)
    if (n >= 64) std::fill(x.begin() + i * n + 32, x.begin() + i * n + 64, 0.f);
  return x;
}

struct Acts {
  std::vector<uint8_t> buf;
  size_t stride = 0;
};

Acts quantize(DType t, const std::vector<float>& x, int64_t m, int64_t n) {
  const TypeKernels& k = kernels::type_kernels(Isa::Scalar, t);
  Acts a;
  a.stride = kernels::act_row_bytes(k.format, n);
  a.buf.assign(a.stride * m, 0);
  for (int64_t i = 0; i < m; ++i) {
    if (k.quantize)
      k.quantize(x.data() + i * n, a.buf.data() + i * a.stride, n);
    else  // F32: the floats as they are
      std::memcpy(a.buf.data() + i * a.stride, x.data() + i * n, n * sizeof(float));
  }
  return a;
}

std::vector<float> run(kernels::GemmFn gemm, const uint8_t* w, size_t ws, int64_t rows,
                       const Acts& a, int64_t m, int64_t n) {
  std::vector<float> y(m * rows, std::nanf(""));
  gemm(w, ws, rows, a.buf.data(), a.stride, m, n, y.data(), rows);
  return y;
}

double normalized_error(const std::vector<float>& got, const std::vector<float>& want) {
  double max_abs = 0, max_ref = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(double(got[i]) - want[i]);
    max_abs = std::isnan(got[i]) ? INFINITY : std::max(max_abs, d);
    max_ref = std::max(max_ref, std::fabs(double(want[i])));
  }
  return max_ref > 0 ? max_abs / max_ref : max_abs;
}

#define SKIP_WITHOUT_AVX512()                                                                \
  if (!isa_supported(Isa::Avx512))                                                           \
  GTEST_SKIP() << "this CPU lacks the avx512 level (AVX-512 F/BW/VL/DQ + VNNI): the packed " \
                  "kernel is not built for it"

// ------------------------------------------------------------------ layout

TEST(PackedLayout, RoundTripsEveryRowByteForByte) {
  for (DType t : kPackTypes) {
    for (int64_t cols : cols_for(t)) {
      for (int64_t rows : kRows) {
        SCOPED_TRACE(std::string(type_name(t)) + " " + std::to_string(rows) + "x" +
                     std::to_string(cols));
        ASSERT_TRUE(packable(t, cols));
        const auto w = make_weights(t, rows, cols, WeightKind::RandomBytes, 1);
        const auto p = pack(t, w, rows, cols);
        EXPECT_EQ(packed_group_bytes(t, cols) % 64, 0u);
        const size_t rb = row_bytes(t, cols);
        std::vector<uint8_t> back(rb);
        for (int64_t r = 0; r < rows; ++r) {
          unpack_row(t, p.data(), cols, r, back.data());
          ASSERT_EQ(std::memcmp(back.data(), w.data() + r * rb, rb), 0) << "row " << r;
        }
        // Rows past the end of the last group: zero levels and zero scales.
        const int64_t bs = traits(t).block_size;
        if (packed_is_float(t)) {
          for (int64_t r = rows; r < packed_groups(rows) * kPackRows; ++r)
            for (int64_t k = 0; k < cols; ++k)
              ASSERT_EQ(packed_float(t, p.data(), cols, r, k), 0.f) << "pad row " << r;
          continue;
        }
        for (int64_t r = rows; r < packed_groups(rows) * kPackRows; ++r)
          for (int64_t b = 0; b < cols / bs; ++b) {
            const PackedHead h = packed_head(t, p.data(), cols, r, b);
            ASSERT_EQ(h.d | h.dmin, 0) << "pad row " << r;
            for (int s = 0; s < 8; ++s) ASSERT_EQ(h.sc[s] | h.mn[s], 0) << "pad row " << r;
            for (int s = 0; s < 16; ++s) ASSERT_EQ(h.ssc[s], 0) << "pad row " << r;
            for (int e = 0; e < bs; ++e) ASSERT_EQ(packed_level(t, p.data(), cols, r, b, e), 0);
          }
      }
    }
  }
}

TEST(PackedLayout, SameBytesAsGgufUpToPadding) {
  for (DType t : kPackTypes) {
    for (int64_t cols : cols_for(t)) {
      const size_t ggml = row_bytes(t, cols) * kPackRows;
      // Q4_K keeps its 6-bit sub-block scales as bytes: 1/36 more.
      const size_t extra = t == DType::Q4_K ? ggml / 36 : 0;
      EXPECT_GE(packed_group_bytes(t, cols), ggml + extra);
      EXPECT_LT(packed_group_bytes(t, cols), ggml + extra + 64);
    }
  }
  EXPECT_FALSE(packable(DType::Q4_0, 48));
  EXPECT_FALSE(packable(DType::Q4_K, 512 + 32));
  EXPECT_FALSE(packable(DType::Q6_K, 256 + 32));
  EXPECT_FALSE(packable(DType::Q5_K, 256));
  EXPECT_FALSE(packable(DType::F16, 0));
  EXPECT_TRUE(packable(DType::F16, 1));
  EXPECT_TRUE(packable(DType::BF16, 4097));
}

TEST(PackedLayout, FloatGroupIsColumnMajorOver16Rows) {
  // Lane r of column k at byte 16 E k + E r of the group: one load per column.
  for (DType t : kFloatTypes) {
    const int64_t rows = 20, cols = 7;
    const size_t e = t == DType::F32 ? 4 : 2;
    const auto w = make_weights(t, rows, cols, WeightKind::RandomBytes, 2);
    const auto p = pack(t, w, rows, cols);
    EXPECT_EQ(packed_group_bytes(t, cols), (16 * e * cols + 63) / 64 * 64);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < cols; ++k) {
        const uint8_t* got =
            p.data() + (r / 16) * packed_group_bytes(t, cols) + 16 * e * k + e * (r % 16);
        ASSERT_EQ(std::memcmp(got, w.data() + (r * cols + k) * e, e), 0) << type_name(t);
      }
  }
}

// ------------------------------------------------------- scalar reference

TEST(PackedReference, EqualsGgufLayoutReferenceBitForBit) {
  for (DType t : kPackTypes) {
    const TypeKernels& ref = kernels::type_kernels(Isa::Scalar, t);
    ASSERT_TRUE(ref.packed_gemm != nullptr);
    for (WeightKind kind : {WeightKind::Quantized, WeightKind::RandomBytes}) {
      for (int64_t rows : {1, 17, 33}) {
        for (int64_t cols : cols_for(t)) {
          if (cols > 1024) continue;
          SCOPED_TRACE(std::string(type_name(t)) + " " + std::to_string(rows) + "x" +
                       std::to_string(cols));
          const auto w = make_weights(t, rows, cols, kind, 3);
          const auto p = pack(t, w, rows, cols);
          const int64_t m = 3;
          const Acts a = quantize(t, make_acts(m, cols, false, 5), m, cols);
          const auto want = run(ref.gemm, w.data(), row_bytes(t, cols), rows, a, m, cols);
          const auto got =
              run(ref.packed_gemm, p.data(), packed_group_bytes(t, cols), rows, a, m, cols);
          if (packed_is_float(t))  // a float FMA chain against double sums
            EXPECT_LE(normalized_error(got, want), 1e-5);
          else
            EXPECT_TRUE(bits_equal(got, want));
        }
      }
    }
  }
}

// ---------------------------------------------------------- AVX-512 kernel

TEST(PackedKernel, MatchesReferenceOnRandomShapes) {
  SKIP_WITHOUT_AVX512();
  for (DType t : kQuantTypes) {
    const TypeKernels& ref = kernels::type_kernels(Isa::Scalar, t);
    const TypeKernels& simd = kernels::type_kernels(Isa::Avx512, t);
    ASSERT_TRUE(simd.packed_gemm != nullptr);
    for (WeightKind kind : {WeightKind::Quantized, WeightKind::RandomBytes}) {
      for (int64_t cols : cols_for(t)) {
        for (int64_t rows : kRows) {
          const auto w = make_weights(t, rows, cols, kind, 7 + static_cast<uint32_t>(rows));
          const auto p = pack(t, w, rows, cols);
          for (int64_t m : {1, 2, 7, 64}) {
            if (m == 64 && cols > 1024 && rows > 33) continue;  // the reference is slow
            SCOPED_TRACE(std::string(type_name(t)) + " " + std::to_string(rows) + "x" +
                         std::to_string(cols) + " M=" + std::to_string(m));
            const Acts a = quantize(t, make_acts(m, cols, false, 11), m, cols);
            const auto want = run(ref.gemm, w.data(), row_bytes(t, cols), rows, a, m, cols);
            const auto got =
                run(simd.packed_gemm, p.data(), packed_group_bytes(t, cols), rows, a, m, cols);
            // Only the float summation order differs from the reference.
            EXPECT_LE(normalized_error(got, want), 2e-6);
          }
        }
      }
    }
  }
}

TEST(PackedKernel, FloatTypesEqualPackedReferenceBitForBit) {
  // One FMA chain per (row, column) in both: the same bits on any input,
  // across row tails (odd row counts), column tails (odd M) and k-blocks.
  SKIP_WITHOUT_AVX512();
  for (DType t : kFloatTypes) {
    const TypeKernels& ref = kernels::type_kernels(Isa::Scalar, t);
    const TypeKernels& simd = kernels::type_kernels(Isa::Avx512, t);
    ASSERT_TRUE(simd.packed_gemm != nullptr);
    for (WeightKind kind : {WeightKind::Quantized, WeightKind::RandomBytes}) {
      for (int64_t cols : cols_for(t)) {
        for (int64_t rows : kRows) {
          const auto w = make_weights(t, rows, cols, kind, 61 + static_cast<uint32_t>(rows));
          const auto p = pack(t, w, rows, cols);
          const size_t gs = packed_group_bytes(t, cols);
          for (int64_t m : {1, 2, 7, 13, 29}) {
            SCOPED_TRACE(std::string(type_name(t)) + " " + std::to_string(rows) + "x" +
                         std::to_string(cols) + " M=" + std::to_string(m));
            const Acts a = quantize(t, make_acts(m, cols, false, 67), m, cols);
            const auto want = run(ref.packed_gemm, p.data(), gs, rows, a, m, cols);
            const auto got = run(simd.packed_gemm, p.data(), gs, rows, a, m, cols);
            ASSERT_TRUE(bits_equal(got, want));
          }
        }
      }
    }
  }
}

TEST(PackedKernel, IntegerSumsExact) {
  // Unit scales and small integer activations: every float step is exact, so
  // a slip in the levels, offsets or lanes cannot hide in rounding.
  SKIP_WITHOUT_AVX512();
  for (DType t : kPackTypes) {
    const TypeKernels& ref = kernels::type_kernels(Isa::Scalar, t);
    const TypeKernels& simd = kernels::type_kernels(Isa::Avx512, t);
    // K-quants: at most two super-blocks keep the integer sums below 2^24
    // (Q6_K's worst case is 11.3M per super-block; these random rows stay far
    // below). Float types: small integer weights, lengths across the k-blocks.
    const int64_t bs = packed_is_float(t) ? 160 : traits(t).block_size;
    for (int64_t cols : {bs, 2 * bs}) {
      for (int64_t rows : {1, 17, 40}) {
        const int64_t m = 5;
        const auto w = make_weights(t, rows, cols, WeightKind::Exact, 13);
        const auto p = pack(t, w, rows, cols);
        const Acts a = quantize(t, make_acts(m, cols, true, 17), m, cols);
        const auto want = run(ref.gemm, w.data(), row_bytes(t, cols), rows, a, m, cols);
        const auto got =
            run(simd.packed_gemm, p.data(), packed_group_bytes(t, cols), rows, a, m, cols);
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_EQ(got[i], want[i]) << type_name(t) << " " << rows << "x" << cols << " out " << i;
          ASSERT_EQ(want[i], std::nearbyint(want[i])) << "test inputs are not exact";
        }
      }
    }
  }
}

TEST(PackedKernel, ResultsDoNotDependOnTiling) {
  // Every (row, column) alone (one column, the rows of its group up to it)
  // must give the bits of the full call.
  SKIP_WITHOUT_AVX512();
  for (DType t : kPackTypes) {
    const TypeKernels& simd = kernels::type_kernels(Isa::Avx512, t);
    // Float types: three k-blocks, the last one partial.
    const int64_t rows = 71, m = 11;
    const int64_t cols = packed_is_float(t) ? 600 : 5 * traits(t).block_size;
    const auto w = make_weights(t, rows, cols, WeightKind::Quantized, 19);
    const auto p = pack(t, w, rows, cols);
    const size_t gs = packed_group_bytes(t, cols);
    const Acts a = quantize(t, make_acts(m, cols, false, 23), m, cols);
    const auto all = run(simd.packed_gemm, p.data(), gs, rows, a, m, cols);
    for (int64_t c = 0; c < m; ++c) {
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t g = r / kPackRows, lane = r % kPackRows;
        float one[kPackRows];
        simd.packed_gemm(p.data() + g * gs, gs, lane + 1, a.buf.data() + c * a.stride, a.stride, 1,
                         cols, one, kPackRows);
        ASSERT_EQ(std::memcmp(&one[lane], &all[c * rows + r], sizeof(float)), 0)
            << type_name(t) << " r=" << r << " c=" << c;
      }
    }
    // Column blocks of every width, all rows.
    for (int64_t width = 2; width <= m; ++width) {
      std::vector<float> y(width * rows);
      simd.packed_gemm(p.data(), gs, rows, a.buf.data(), a.stride, width, cols, y.data(), rows);
      ASSERT_TRUE(bits_equal(y, std::vector<float>(all.begin(), all.begin() + width * rows)))
          << type_name(t) << " width " << width;
    }
  }
}

TEST(PackedKernel, DoesNotWritePastItsRows) {
  SKIP_WITHOUT_AVX512();
  for (DType t : kPackTypes) {
    const TypeKernels& simd = kernels::type_kernels(Isa::Avx512, t);
    const int64_t rows = 19, m = 3, ldy = 40;
    const int64_t cols = packed_is_float(t) ? 300 : traits(t).block_size;
    const auto w = make_weights(t, rows, cols, WeightKind::Quantized, 29);
    const auto p = pack(t, w, rows, cols);
    const Acts a = quantize(t, make_acts(m, cols, false, 31), m, cols);
    for (int64_t mm : {int64_t{1}, m}) {
      std::vector<float> y(mm * ldy, -1.f);
      simd.packed_gemm(p.data(), packed_group_bytes(t, cols), rows, a.buf.data(), a.stride, mm,
                       cols, y.data(), ldy);
      for (int64_t c = 0; c < mm; ++c)
        for (int64_t r = rows; r < ldy; ++r) ASSERT_EQ(y[c * ldy + r], -1.f) << r << "," << c;
    }
  }
}

// ------------------------------------------------------------------ matmul

std::vector<float> run_matmul(const WeightView& wv, const std::vector<float>& x, int64_t m,
                              ThreadPool& pool) {
  std::vector<float> y(m * wv.rows, std::nanf(""));
  matmul(wv, x.data(), wv.cols, y.data(), wv.rows, m, pool);
  return y;
}

TEST(PackedMatmul, SameBitsForAnyMAndThreads) {
  SKIP_WITHOUT_AVX512();
  IsaGuard guard;
  ASSERT_TRUE(set_isa(Isa::Avx512));
  for (DType t : kPackTypes) {
    ASSERT_TRUE(matmul_packs(t, cols_for(t)[1]));
    const std::vector<int64_t> lengths = packed_is_float(t)
                                             ? std::vector<int64_t>{257, 4096 + 5}
                                             : std::vector<int64_t>{cols_for(t)[1], cols_for(t)[2]};
    for (int64_t cols : lengths) {
      const int64_t rows = 100;
      const auto w = make_weights(t, rows, cols, WeightKind::Quantized, 37);
      const auto p = pack(t, w, rows, cols);
      const WeightView wv{t, w.data(), rows, cols, p.data()};
      const int64_t max_m = 64;
      const auto x = make_acts(max_m, cols, false, 41);
      // One activation row at a time on one thread: the baseline.
      ThreadPool pool1(1);
      std::vector<float> single(max_m * rows);
      for (int64_t i = 0; i < max_m; ++i) {
        const std::vector<float> xi(x.begin() + i * cols, x.begin() + (i + 1) * cols);
        const auto yi = run_matmul(wv, xi, 1, pool1);
        std::copy(yi.begin(), yi.end(), single.begin() + i * rows);
      }
      // It is the packed kernel's result (bit for bit), within float-order
      // noise of the reference.
      const TypeKernels& ref = kernels::type_kernels(Isa::Scalar, t);
      const Acts a = quantize(t, x, max_m, cols);
      const TypeKernels& simd = kernels::type_kernels(Isa::Avx512, t);
      EXPECT_TRUE(bits_equal(single, run(simd.packed_gemm, p.data(), packed_group_bytes(t, cols),
                                         rows, a, max_m, cols)));
      const auto want = run(ref.gemm, w.data(), row_bytes(t, cols), rows, a, max_m, cols);
      EXPECT_LE(normalized_error(single, want), packed_is_float(t) ? 1e-5 : 2e-6);
      for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        for (int64_t m : {1, 2, 7, 33, 64}) {
          const std::vector<float> xm(x.begin(), x.begin() + m * cols);
          const auto y = run_matmul(wv, xm, m, pool);
          EXPECT_TRUE(bits_equal(y, std::vector<float>(single.begin(), single.begin() + m * rows)))
              << type_name(t) << " cols=" << cols << " threads=" << threads << " m=" << m;
        }
      }
    }
  }
}

TEST(PackedMatmul, OtherLevelsIgnoreThePackedCopy) {
  // At levels without a packed kernel matmul reads the GGUF rows: the same
  // bits as the same view without a packed pointer.
  IsaGuard guard;
  ThreadPool pool(2);
  for (DType t : kPackTypes) {
    const int64_t rows = 40, m = 5;
    const int64_t cols = packed_is_float(t) ? 300 : 2 * traits(t).block_size;
    const auto w = make_weights(t, rows, cols, WeightKind::Quantized, 43);
    const auto p = pack(t, w, rows, cols);
    const auto x = make_acts(m, cols, false, 47);
    for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
      if (!set_isa(isa)) continue;
      EXPECT_FALSE(matmul_packs(t, cols)) << isa_name(isa);
      const auto plain = run_matmul(WeightView{t, w.data(), rows, cols}, x, m, pool);
      const auto with = run_matmul(WeightView{t, w.data(), rows, cols, p.data()}, x, m, pool);
      EXPECT_TRUE(bits_equal(plain, with)) << type_name(t) << " " << isa_name(isa);
    }
  }
}

TEST(PackedMatmul, WithinActivationNoiseOfScalarLevel) {
  SKIP_WITHOUT_AVX512();
  IsaGuard guard;
  ThreadPool pool(2);
  for (DType t : kPackTypes) {
    const int64_t rows = 64, cols = 1024, m = 4;  // a multiple of every block size
    const auto w = make_weights(t, rows, cols, WeightKind::Quantized, 53);
    const auto p = pack(t, w, rows, cols);
    const auto x = make_acts(m, cols, false, 59);
    ASSERT_TRUE(set_isa(Isa::Scalar));
    const auto scalar = run_matmul(WeightView{t, w.data(), rows, cols}, x, m, pool);
    ASSERT_TRUE(set_isa(Isa::Avx512));
    const auto packed = run_matmul(WeightView{t, w.data(), rows, cols, p.data()}, x, m, pool);
    const double e = normalized_error(packed, scalar);
    std::printf("%-5s packed vs scalar level: normalized %.3g\n", type_name(t), e);
    EXPECT_LE(e, 4e-2);
  }
}

}  // namespace
}  // namespace sf
