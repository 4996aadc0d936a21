// Scalar reference quantization kernels: error bounds on random rows, the dot
// product against dequantize-then-dot, hand-built blocks decoded from the
// GGUF layout by hand (so a layout slip fails here, not only end to end), and
// half-precision edge cases.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/quant.h"

namespace sf {
namespace {

std::vector<float> normal_row(int64_t n, uint32_t seed, float sigma = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, sigma);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(row_bytes(t, n));
  quantize_row_ref(t, x.data(), q.data(), n);
  return q;
}

std::vector<float> dequantize(DType t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  dequantize_row_ref(t, q.data(), y.data(), n);
  return y;
}

// ||y - x|| / ||x||.
double rel_rms(const std::vector<float>& y, const std::vector<float>& x) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
    ref += double(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

uint16_t f16_bits(float f) {
  // Test values are exact in binary16; build the bits by hand so this does not
  // lean on the conversion under test.
  if (f == 0) return std::signbit(f) ? 0x8000 : 0;
  const uint32_t b = std::bit_cast<uint32_t>(f);
  const uint32_t exp = ((b >> 23) & 0xff) - 127 + 15;
  return static_cast<uint16_t>(((b >> 16) & 0x8000) | (exp << 10) | ((b >> 13) & 0x3ff));
}

void put_u16(std::vector<uint8_t>& blk, size_t off, uint16_t v) {
  blk[off] = static_cast<uint8_t>(v & 0xff);
  blk[off + 1] = static_cast<uint8_t>(v >> 8);
}

// ---------------------------------------------------------------------------
// Per-type properties on random data.

struct TypeCase {
  DType type;
  // Bound on the relative RMS error of dequantize(quantize(x)) for N(0, 1)
  // rows: about 10% above the worst size measured, so a quantizer that loses
  // even a little quality fails.
  double max_rel_rms;
};

// Measured (worst of the sizes in row_sizes): F16 2.2e-4, BF16 1.8e-3,
// Q8_0 5.4e-3, Q4_0 .093, Q4_1 .073, Q5_0 .044, Q5_1 .038, Q2_K .305,
// Q3_K .157, Q4_K .072, Q5_K .037, Q6_K .0179, Q8_K 8.5e-3.
const TypeCase kTypes[] = {
    {DType::F32, 0.0},    {DType::F16, 2.5e-4},  {DType::BF16, 2.1e-3}, {DType::Q8_0, 6.0e-3},
    {DType::Q4_0, 0.102}, {DType::Q4_1, 0.080},  {DType::Q5_0, 0.049},  {DType::Q5_1, 0.042},
    {DType::Q2_K, 0.335}, {DType::Q3_K, 0.172},  {DType::Q4_K, 0.079},  {DType::Q5_K, 0.041},
    {DType::Q6_K, 0.020}, {DType::Q8_K, 9.5e-3},
};

// Names the type in failure messages instead of dumping the struct's bytes.
void PrintTo(const TypeCase& c, std::ostream* os) {
  *os << type_name(c.type);
}

std::vector<int64_t> row_sizes(DType t) {
  const int64_t bs = traits(t).block_size;
  if (bs == 1) return {1, 37, 4096};
  if (bs == 32) return {32, 320, 4096};
  return {256, 1024, 4096};
}

class QuantTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(QuantTypeTest, RoundTripErrorWithinBound) {
  const TypeCase c = GetParam();
  for (int64_t n : row_sizes(c.type)) {
    if (n < 32) continue;  // one or a few elements say nothing about RMS
    const auto x = normal_row(n, 1234 + static_cast<uint32_t>(n));
    const double err = rel_rms(dequantize(c.type, quantize(c.type, x), n), x);
    EXPECT_LE(err, c.max_rel_rms) << type_name(c.type) << " n=" << n;
  }
}

TEST_P(QuantTypeTest, ErrorIsRelativeToTheRowScale) {
  // Rows at typical weight scale (0.02) and at 1e3 lose no more than unit
  // rows: scales are relative, no absolute epsilon hides in a quantizer.
  // (Much smaller rows do lose more: Q6_K's fp16 super-scale is already
  // subnormal at 0.02 and loses bits below that, in llama.cpp too.)
  const TypeCase c = GetParam();
  const int64_t n = 4096;
  for (float sigma : {0.02f, 1e3f}) {
    const auto x = normal_row(n, 99, sigma);
    const double err = rel_rms(dequantize(c.type, quantize(c.type, x), n), x);
    EXPECT_LE(err, c.max_rel_rms) << type_name(c.type) << " sigma=" << sigma;
  }
}

TEST_P(QuantTypeTest, ZeroRowStaysZero) {
  // All-zero blocks take the zero-scale paths (no 1/0, no NaN).
  const TypeCase c = GetParam();
  const int64_t n = 512;
  const std::vector<float> x(n, 0.f);
  const auto y = dequantize(c.type, quantize(c.type, x), n);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], 0.f) << type_name(c.type) << " i=" << i;
}

TEST_P(QuantTypeTest, DotMatchesDequantizeThenDot) {
  const TypeCase c = GetParam();
  for (int64_t n : row_sizes(c.type)) {
    const auto w = normal_row(n, 7 + static_cast<uint32_t>(n));
    const auto x = normal_row(n, 8 + static_cast<uint32_t>(n));
    const auto q = quantize(c.type, w);
    const auto deq = dequantize(c.type, q, n);
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      ref += double(deq[i]) * x[i];
      mag += std::fabs(double(deq[i]) * x[i]);
    }
    const float got = dot_row_ref(c.type, q.data(), x.data(), n);
    EXPECT_NEAR(got, ref, 1e-5 * mag) << type_name(c.type) << " n=" << n;
  }
}

TEST_P(QuantTypeTest, UnalignedRowDecodesTheSame) {
  // Rows inside a GGUF mapping have no alignment promise; kernels must not
  // assume one (UBSan flags a misaligned struct access).
  const TypeCase c = GetParam();
  const int64_t n = 512;
  const auto x = normal_row(n, 5);
  const auto q = quantize(c.type, x);
  std::vector<uint8_t> shifted(q.size() + 1);
  std::memcpy(shifted.data() + 1, q.data(), q.size());
  std::vector<float> y(n);
  dequantize_row_ref(c.type, shifted.data() + 1, y.data(), n);
  EXPECT_EQ(y, dequantize(c.type, q, n));
  std::vector<uint8_t> q2(q.size() + 1);
  quantize_row_ref(c.type, x.data(), q2.data() + 1, n);
  EXPECT_EQ(0, std::memcmp(q2.data() + 1, q.data(), q.size()));
  EXPECT_EQ(dot_row_ref(c.type, shifted.data() + 1, x.data(), n),
            dot_row_ref(c.type, q.data(), x.data(), n));
}

TEST_P(QuantTypeTest, BlocksAreIndependent) {
  // Quantizing a row equals quantizing each block alone: no state leaks
  // from one block into the next.
  const TypeCase c = GetParam();
  const int64_t bs = std::max<int64_t>(traits(c.type).block_size, 32);
  const int64_t n = 4 * bs;
  const auto x = normal_row(n, 11);
  const auto whole = quantize(c.type, x);
  const size_t bb = row_bytes(c.type, bs);
  for (int64_t b = 0; b < 4; ++b) {
    std::vector<uint8_t> one(bb);
    quantize_row_ref(c.type, x.data() + b * bs, one.data(), bs);
    EXPECT_EQ(0, std::memcmp(one.data(), whole.data() + b * bb, bb)) << "block " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantTypeTest, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(type_name(info.param.type)); });

// ---------------------------------------------------------------------------
// Re-quantizing dequantized rows.

TEST(QuantRequantize, AbsmaxTypesReproduceTheirBytes) {
  // The absmax rule is a projection: a dequantized row already sits on its
  // grid, so quantizing it again gives the same bytes.
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::F16, DType::BF16}) {
    const int64_t n = 4096;
    const auto q = quantize(t, normal_row(n, 21));
    EXPECT_EQ(quantize(t, dequantize(t, q, n)), q) << type_name(t);
  }
}

TEST(QuantRequantize, OtherTypesStayOnTheirGrid) {
  // Searched scales (and Q8_K's float scale, off by an ulp) may land on a
  // slightly different grid the second time, but the values barely move: far
  // below each type's first-round error. Measured: Q3_K .030, Q5_K .0025,
  // the others 0.
  struct Case {
    DType t;
    double max_drift;
  };
  for (Case c : {Case{DType::Q4_1, 1e-5}, Case{DType::Q5_1, 1e-5}, Case{DType::Q2_K, 1e-5},
                 Case{DType::Q3_K, 0.04}, Case{DType::Q4_K, 1e-5}, Case{DType::Q5_K, 0.004},
                 Case{DType::Q6_K, 1e-5}, Case{DType::Q8_K, 1e-6}}) {
    const int64_t n = 4096;
    const auto y1 = dequantize(c.t, quantize(c.t, normal_row(n, 22)), n);
    const auto y2 = dequantize(c.t, quantize(c.t, y1), n);
    EXPECT_LE(rel_rms(y2, y1), c.max_drift) << type_name(c.t);
  }
}

TEST(QuantSearch, Q4_1AndQ5_1BeatMinMaxScales) {
  // The scale/offset search is what `starfire quantize` relies on for quality;
  // plain min/max scales (llama.cpp's Q4_1/Q5_1 without an imatrix) measure
  // about 11% worse on normal rows.
  for (int bits : {4, 5}) {
    const DType t = bits == 4 ? DType::Q4_1 : DType::Q5_1;
    const int nmax = (1 << bits) - 1;
    const int64_t n = 4096;
    const auto x = normal_row(n, 31);
    std::vector<float> minmax(n);
    for (int64_t b = 0; b < n; b += 32) {
      float lo = x[b], hi = x[b];
      for (int j = 0; j < 32; ++j) lo = std::min(lo, x[b + j]), hi = std::max(hi, x[b + j]);
      const float d = (hi - lo) / nmax;
      for (int j = 0; j < 32; ++j)
        minmax[b + j] = lo + d * std::min<float>(nmax, std::floor((x[b + j] - lo) / d + 0.5f));
    }
    const double searched = rel_rms(dequantize(t, quantize(t, x), n), x);
    EXPECT_LT(searched, 0.93 * rel_rms(minmax, x)) << type_name(t);
  }
}

// ---------------------------------------------------------------------------
// Hand-built blocks: bytes placed at the offsets GGUF defines, expected values
// worked out by hand from the format's formulas.

TEST(QuantLayout, Q4_0) {
  std::vector<uint8_t> blk(18, 0x88);  // every level 8: value 0
  put_u16(blk, 0, f16_bits(0.5f));     // d
  blk[2 + 0] = 0x1F;                   // element 0: 15, element 16: 1
  blk[2 + 15] = 0x80;                  // element 15: 0, element 31: 8
  const auto y = dequantize(DType::Q4_0, blk, 32);
  EXPECT_EQ(y[0], (15 - 8) * 0.5f);
  EXPECT_EQ(y[16], (1 - 8) * 0.5f);
  EXPECT_EQ(y[15], -4.0f);
  EXPECT_EQ(y[31], 0.0f);
  EXPECT_EQ(y[7], 0.0f);
}

TEST(QuantLayout, Q4_1) {
  std::vector<uint8_t> blk(20, 0);
  put_u16(blk, 0, f16_bits(0.5f));   // d
  put_u16(blk, 2, f16_bits(-1.0f));  // m
  blk[4 + 0] = 0x1F;
  const auto y = dequantize(DType::Q4_1, blk, 32);
  EXPECT_EQ(y[0], 15 * 0.5f - 1);
  EXPECT_EQ(y[16], 1 * 0.5f - 1);
  EXPECT_EQ(y[5], -1.0f);
}

TEST(QuantLayout, Q5_0AndQ5_1) {
  std::vector<uint8_t> blk(22, 0);
  put_u16(blk, 0, f16_bits(0.25f));
  blk[2] = 0x01;      // qh bit 0: element 0's fifth bit
  blk[4] = 0x01;      // qh bit 16: element 16's
  blk[5] = 0x80;      // qh bit 31: element 31's
  blk[6 + 0] = 0x1F;  // element 0 low nibble 15, element 16 low nibble 1
  auto y = dequantize(DType::Q5_0, blk, 32);
  EXPECT_EQ(y[0], (31 - 16) * 0.25f);
  EXPECT_EQ(y[16], (17 - 16) * 0.25f);
  EXPECT_EQ(y[31], 0.0f);
  EXPECT_EQ(y[15], -16 * 0.25f);

  std::vector<uint8_t> b1(24, 0);
  put_u16(b1, 0, f16_bits(0.5f));
  put_u16(b1, 2, f16_bits(1.0f));
  b1[4] = 0x01;
  b1[8 + 0] = 0x0F;
  y = dequantize(DType::Q5_1, b1, 32);
  EXPECT_EQ(y[0], 31 * 0.5f + 1);
  EXPECT_EQ(y[16], 1.0f);
}

TEST(QuantLayout, Q8_0) {
  std::vector<uint8_t> blk(34, 0);
  put_u16(blk, 0, f16_bits(0.5f));
  blk[2 + 3] = static_cast<uint8_t>(-7);
  blk[2 + 31] = 127;
  const auto y = dequantize(DType::Q8_0, blk, 32);
  EXPECT_EQ(y[3], -3.5f);
  EXPECT_EQ(y[31], 63.5f);
  EXPECT_EQ(y[0], 0.0f);
}

TEST(QuantLayout, Q2_K) {
  // scales[16] @0, qs[64] @16, d @80, dmin @82.
  std::vector<uint8_t> blk(84, 0);
  blk[0] = 0x3A;        // sub-block 0: scale 10, min 3
  blk[5] = 0x01;        // sub-block 5: scale 1, min 0
  blk[6] = 0x22;        // sub-block 6: scale 2, min 2
  blk[15] = 0xF7;       // sub-block 15: scale 7, min 15
  blk[16 + 0] = 0xC9;   // bits 0-1: element 0 = 1; bits 6-7: element 96 = 3
  blk[16 + 16] = 0x30;  // bits 4-5: element 64 + 16 = 80 -> 3
  blk[16 + 63] = 0x80;  // second half, bits 6-7 of byte 31: element 255 -> 2
  put_u16(blk, 80, f16_bits(0.5f));
  put_u16(blk, 82, f16_bits(0.25f));
  const auto y = dequantize(DType::Q2_K, blk, 256);
  EXPECT_EQ(y[0], 0.5f * 10 * 1 - 0.25f * 3);
  EXPECT_EQ(y[1], -0.25f * 3);
  EXPECT_EQ(y[96], 0.5f * 2 * 3 - 0.25f * 2);
  EXPECT_EQ(y[80], 0.5f * 1 * 3);
  EXPECT_EQ(y[255], 0.5f * 7 * 2 - 0.25f * 15);
  EXPECT_EQ(y[32], 0.0f);  // sub-block 2: scale and min 0
}

TEST(QuantLayout, Q3_K) {
  // hmask[32] @0, qs[64] @32, scales[12] @96, d @108. Scales (biased by 32):
  // s0 = 34, s1 = 29, s5 = 63, s8 = 0, s15 = 40, all others 32.
  std::vector<uint8_t> blk(110, 0);
  const uint8_t scales[12] = {
      0x02, 0x0D, 0x00, 0x00, 0x00, 0x0F, 0x00, 0x80,  // low nibbles: s_j | s_{j+8} << 4
      0x8A, 0xAD, 0xAA, 0xAA,                          // top bits: byte 8+j%4, bits 2*(j/4)
  };
  std::memcpy(blk.data() + 96, scales, 12);
  put_u16(blk, 108, f16_bits(0.5f));
  blk[0] = 0x01;        // element 0: high bit set
  blk[16] = 0x04;       // element 80 (= 2*32 + 16): high bit is bit 2 of hmask[16]
  blk[31] = 0x80;       // element 255: bit 7 of hmask[31]
  blk[32 + 0] = 0x03;   // element 0: low bits 3
  blk[32 + 16] = 0x20;  // element 80: bits 4-5 of qs[16] = 2
  blk[32 + 34] = 0x01;  // element 130 (= 128 + 2): qs[32 + 2] bits 0-1 = 1
  blk[32 + 63] = 0xC0;  // element 255: qs[63] bits 6-7 = 3
  const auto y = dequantize(DType::Q3_K, blk, 256);
  EXPECT_EQ(y[0], 0.5f * (34 - 32) * 3);         // level 3 + 4 - 4
  EXPECT_EQ(y[1], 0.5f * (34 - 32) * -4);        // level 0, no high bit
  EXPECT_EQ(y[16], 0.5f * (29 - 32) * -4);       // sub-block 1
  EXPECT_EQ(y[80], 0.5f * (63 - 32) * 2);        // sub-block 5
  EXPECT_EQ(y[130], 0.5f * (0 - 32) * (1 - 4));  // sub-block 8
  EXPECT_EQ(y[255], 0.5f * (40 - 32) * 3);       // sub-block 15
  EXPECT_EQ(y[34], 0.0f);                        // sub-block 2: scale 32 - 32
}

// Scales shared by the Q4_K and Q5_K cases. Sub-block (scale, min):
// 0 (3, 5), 1 (2, 1), 3 (1, 2), 4 (34, 23), 7 (63, 9), others (0, 0).
const uint8_t kK4Scales[12] = {
    0x83, 0x02, 0x00, 0xC1,  // scales 0-3 in bits 0-5; bits 6-7: top of scales 4-7
    0x45, 0x01, 0x00, 0x02,  // mins 0-3 in bits 0-5; bits 6-7: top of mins 4-7
    0x72, 0x00, 0x00, 0x9F,  // low nibble: scale 4+j low bits; high nibble: min 4+j
};

TEST(QuantLayout, Q4_K) {
  // d @0, dmin @2, scales[12] @4, qs[128] @16.
  std::vector<uint8_t> blk(144, 0);
  put_u16(blk, 0, f16_bits(1.0f));
  put_u16(blk, 2, f16_bits(0.5f));
  std::memcpy(blk.data() + 4, kK4Scales, 12);
  blk[16 + 0] = 0xA7;    // element 0 (sub-block 0 low nibble) 7; element 32 (sub-block 1) 10
  blk[16 + 64] = 0x0C;   // element 128: sub-block 4 low nibble 12
  blk[16 + 96] = 0x30;   // element 224: sub-block 7 (high nibble of qs[96]) 3
  blk[16 + 127] = 0xF0;  // element 255: 15
  const auto y = dequantize(DType::Q4_K, blk, 256);
  EXPECT_EQ(y[0], 3 * 7 - 0.5f * 5);
  EXPECT_EQ(y[1], -0.5f * 5);
  EXPECT_EQ(y[32], 2 * 10 - 0.5f * 1);
  EXPECT_EQ(y[100], -0.5f * 2);  // sub-block 3, level 0
  EXPECT_EQ(y[128], 34 * 12 - 0.5f * 23);
  EXPECT_EQ(y[192], 0.0f);  // sub-block 6: (0, 0)
  EXPECT_EQ(y[224], 63 * 3 - 0.5f * 9);
  EXPECT_EQ(y[255], 63 * 15 - 0.5f * 9);
}

TEST(QuantLayout, Q5_K) {
  // d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48.
  std::vector<uint8_t> blk(176, 0);
  put_u16(blk, 0, f16_bits(1.0f));
  put_u16(blk, 2, f16_bits(0.5f));
  std::memcpy(blk.data() + 4, kK4Scales, 12);
  blk[16 + 0] = 0x01;    // element 0: fifth bit (bit 0 = sub-block 0)
  blk[16 + 31] = 0x80;   // element 255: bit 7 = sub-block 7
  blk[48 + 0] = 0xA7;    // element 0 low 7; element 32 (no fifth bit) 10
  blk[48 + 127] = 0xF0;  // element 255: 15
  const auto y = dequantize(DType::Q5_K, blk, 256);
  EXPECT_EQ(y[0], 3 * (7 + 16) - 0.5f * 5);
  EXPECT_EQ(y[32], 2 * 10 - 0.5f * 1);
  EXPECT_EQ(y[255], 63 * (15 + 16) - 0.5f * 9);
  EXPECT_EQ(y[128], -0.5f * 23);
}

TEST(QuantLayout, Q6_K) {
  // ql[128] @0, qh[64] @128, scales[16] (int8) @192, d @208.
  std::vector<uint8_t> blk(210, 0);
  const int8_t sc[16] = {2, -3, 1, 0, -2, 0, 3, 0, 0, 0, 5, 0, 0, 0, 0, -1};
  std::memcpy(blk.data() + 192, sc, 16);
  put_u16(blk, 208, f16_bits(0.25f));
  blk[0] = 0x5A;         // ql[0]: element 0 low nibble 10, element 64 low nibble 5
  blk[32] = 0x3F;        // ql[32]: element 32 low nibble 15, element 96 low nibble 3
  blk[128 + 0] = 0x72;   // qh[0] top bits: element 0 = 2, 32 = 0, 64 = 3, 96 = 1
  blk[101] = 0x07;       // ql[64 + 32 + 5]: element 128 + 32 + 5 = 165, low nibble 7
  blk[128 + 37] = 0x0C;  // qh[32 + 5] bits 2-3: element 165 top bits 3
  blk[127] = 0xC0;       // ql[127] high nibble: element 255 low nibble 12
  blk[128 + 63] = 0x40;  // qh[63] bits 6-7: element 255 top bits 1
  const auto y = dequantize(DType::Q6_K, blk, 256);
  EXPECT_EQ(y[0], 0.25f * 2 * (42 - 32));
  EXPECT_EQ(y[1], 0.25f * 2 * -32);
  EXPECT_EQ(y[17], 0.25f * -3 * -32);
  EXPECT_EQ(y[32], 0.25f * 1 * (15 - 32));
  EXPECT_EQ(y[64], 0.25f * -2 * (53 - 32));
  EXPECT_EQ(y[96], 0.25f * 3 * (19 - 32));
  EXPECT_EQ(y[165], 0.25f * 5 * (55 - 32));
  EXPECT_EQ(y[255], 0.25f * -1 * (28 - 32));
}

TEST(QuantLayout, AffineTypesReproduceASixteenLevelGrid) {
  // Integers -4..11 are exactly 16 equally spaced levels: Q4_1 and Q4_K must
  // find scale 1 and offset -4, and the quantizer must put each level where
  // the dequantizer reads it. (Q4_K's 6-bit sub-scales under an fp16
  // super-scale cost up to ~3e-3.)
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>((i * 7) % 16) - 4.0f;
  for (DType t : {DType::Q4_1, DType::Q4_K}) {
    const auto y = dequantize(t, quantize(t, x), 256);
    for (int i = 0; i < 256; ++i) ASSERT_NEAR(y[i], x[i], 5e-3) << type_name(t) << " i=" << i;
  }
}

// ---------------------------------------------------------------------------
// F16 and BF16 conversions through the row API.

uint16_t to_f16(float f) {
  uint16_t h;
  quantize_row_ref(DType::F16, &f, &h, 1);
  return h;
}
float from_f16(uint16_t h) {
  float f;
  dequantize_row_ref(DType::F16, &h, &f, 1);
  return f;
}
uint16_t to_bf16(float f) {
  uint16_t h;
  quantize_row_ref(DType::BF16, &f, &h, 1);
  return h;
}
float from_bf16(uint16_t h) {
  float f;
  dequantize_row_ref(DType::BF16, &h, &f, 1);
  return f;
}

TEST(HalfPrecision, F16Encode) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(to_f16(0.f), 0x0000);
  EXPECT_EQ(to_f16(-0.f), 0x8000);
  EXPECT_EQ(to_f16(1.f), 0x3C00);
  EXPECT_EQ(to_f16(-2.f), 0xC000);
  EXPECT_EQ(to_f16(65504.f), 0x7BFF);  // largest finite
  EXPECT_EQ(to_f16(65519.f), 0x7BFF);  // below the halfway point to 65536
  EXPECT_EQ(to_f16(65520.f), 0x7C00);  // halfway rounds to even: overflow
  EXPECT_EQ(to_f16(inf), 0x7C00);
  EXPECT_EQ(to_f16(-inf), 0xFC00);
  const uint16_t nan = to_f16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7C00, 0x7C00);
  EXPECT_NE(nan & 0x03FF, 0);
  // Ties to even at 1: ulp is 2^-10.
  EXPECT_EQ(to_f16(1.f + std::ldexp(1.f, -11)), 0x3C00);                         // tie, even down
  EXPECT_EQ(to_f16(1.f + 3 * std::ldexp(1.f, -11)), 0x3C02);                     // tie, even up
  EXPECT_EQ(to_f16(1.f + std::ldexp(1.f, -11) + std::ldexp(1.f, -20)), 0x3C01);  // past the tie
  // Subnormals: the smallest is 2^-24.
  EXPECT_EQ(to_f16(std::ldexp(1.f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(to_f16(std::ldexp(1.f, -24)), 0x0001);
  EXPECT_EQ(to_f16(std::ldexp(1.f, -25)), 0x0000);     // tie with 0: even
  EXPECT_EQ(to_f16(std::ldexp(3.f, -25)), 0x0002);     // tie 1 vs 2: even
  EXPECT_EQ(to_f16(std::ldexp(1.5f, -25)), 0x0001);    // above the tie
  EXPECT_EQ(to_f16(std::ldexp(1023.f, -24)), 0x03FF);  // largest subnormal
  EXPECT_EQ(to_f16(-std::ldexp(1.f, -24)), 0x8001);
}

TEST(HalfPrecision, F16Decode) {
  EXPECT_EQ(from_f16(0x0001), std::ldexp(1.f, -24));
  EXPECT_EQ(from_f16(0x03FF), std::ldexp(1023.f, -24));
  EXPECT_EQ(from_f16(0x0400), std::ldexp(1.f, -14));
  EXPECT_EQ(from_f16(0x7BFF), 65504.f);
  EXPECT_EQ(from_f16(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(from_f16(0x7C00)) && from_f16(0x7C00) > 0);
  EXPECT_TRUE(std::isinf(from_f16(0xFC00)) && from_f16(0xFC00) < 0);
  EXPECT_TRUE(std::isnan(from_f16(0x7E00)));
  EXPECT_TRUE(std::isnan(from_f16(0x7C01)));
  EXPECT_TRUE(std::signbit(from_f16(0x8000)) && from_f16(0x8000) == 0);
  // Every finite half survives the round trip.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00) continue;
    ASSERT_EQ(to_f16(from_f16(static_cast<uint16_t>(h))), h) << std::hex << h;
  }
}

TEST(HalfPrecision, BF16) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(to_bf16(1.f), 0x3F80);
  EXPECT_EQ(to_bf16(1.f + std::ldexp(1.f, -8)), 0x3F80);                         // tie, even down
  EXPECT_EQ(to_bf16(1.f + 3 * std::ldexp(1.f, -8)), 0x3F82);                     // tie, even up
  EXPECT_EQ(to_bf16(1.f + std::ldexp(1.f, -8) + std::ldexp(1.f, -16)), 0x3F81);  // past the tie
  EXPECT_EQ(to_bf16(inf), 0x7F80);
  EXPECT_EQ(to_bf16(-inf), 0xFF80);
  EXPECT_EQ(to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to inf
  EXPECT_EQ(to_bf16(-0.f), 0x8000);
  const uint16_t nan = to_bf16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(from_bf16(nan)));
  // A signalling-NaN payload living only in the low 16 bits must not turn into inf.
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(std::bit_cast<float>(0x7F800001u)))));
  // Subnormals keep their bits.
  EXPECT_EQ(to_bf16(std::bit_cast<float>(0x00010000u)), 0x0001);
  EXPECT_EQ(from_bf16(0x0001), std::bit_cast<float>(0x00010000u));
  EXPECT_EQ(from_bf16(0xC0A0), -5.0f);
}

// ---------------------------------------------------------------------------

TEST(QuantDeathTest, RowLengthMustBeAWholeNumberOfBlocks) {
  std::vector<float> x(64, 1.f);
  std::vector<uint8_t> q(1024);
  EXPECT_DEATH(quantize_row_ref(DType::Q4_0, x.data(), q.data(), 31), "block size");
  EXPECT_DEATH(dequantize_row_ref(DType::Q4_K, q.data(), x.data(), 32), "block size");
  EXPECT_DEATH(dot_row_ref(DType::Q6_K, q.data(), x.data(), 64), "block size");
}

TEST(QuantDeathTest, TypesWithoutKernelsAbort) {
  std::vector<float> x(256, 1.f);
  std::vector<uint8_t> q(1024);
  EXPECT_DEATH(dequantize_row_ref(DType::IQ2_XXS, q.data(), x.data(), 256), "no reference kernel");
}

}  // namespace
}  // namespace sf
