// Scalar reference of the kernels on packed weights (core/packed_weights.h):
// the same integer block sums and float steps as ref.cpp's dot_q4_0,
// dot_q5_0, dot_q8_0, dot_q4_k and dot_q6_k, reading each level and scale
// through the layout's accessors, so a mistake in the layout (or in packing)
// shows as a difference against the GGUF-layout reference, which this must
// equal bit for bit.
// Float weights (F32, F16, BF16) are the exception: their packed kernels run
// each (row, column) as one float FMA chain over k (the layout's contract), so
// this reference does exactly that, with std::fma (correctly rounded, as the
// SIMD FMA is), and the AVX-512 kernel must equal it bit for bit; against the
// GGUF-layout reference (double sums) it differs by float rounding only.
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "core/kernels/act_layout.h"
#include "core/kernels/registry.h"
#include "core/packed_weights.h"
#include "core/quant_blocks.h"
#include "core/status.h"

namespace sf::kernels {
namespace {

// Q4_0 / Q5_0 / Q8_0 against Q8_32 activations.
template <DType kType>
double packed_dot32(const uint8_t* w, int64_t r, const uint8_t* a, int64_t n) {
  const auto* q = reinterpret_cast<const int8_t*>(a);
  const auto* d = reinterpret_cast<const float*>(a + layout::q8_32_d(n));
  const int offset = packed_level_offset(kType);
  double sum = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t is = 0;
    for (int e = 0; e < kQK; ++e)
      is += (packed_level(kType, w, n, r, b, e) - offset) * q[b * kQK + e];
    const float dw = fp16_to_f32(packed_head(kType, w, n, r, b).d);
    sum += static_cast<float>(is) * (dw * d[b]);
  }
  return sum;
}

// Q4_K against Q8_K activations: isum = sum_s sc[s] * dot_s, msum = sum_s
// mn[s] * bsum_s, term = (d * dx) * isum - (dmin * dx) * msum.
double packed_dot_q4_k(const uint8_t* w, int64_t r, const uint8_t* a, int64_t n) {
  const auto* q = reinterpret_cast<const int8_t*>(a);
  const auto* d = reinterpret_cast<const float*>(a + layout::q8_k_d(n));
  const auto* bsums = reinterpret_cast<const int16_t*>(a + layout::q8_k_bsums(n));
  double sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const PackedHead h = packed_head(DType::Q4_K, w, n, r, b);
    int32_t isum = 0, msum = 0;
    for (int s = 0; s < 8; ++s) {
      int32_t dot = 0;
      for (int e = 32 * s; e < 32 * s + 32; ++e)
        dot += packed_level(DType::Q4_K, w, n, r, b, e) * q[b * kQK_K + e];
      isum += h.sc[s] * dot;
      msum += h.mn[s] * (bsums[16 * b + 2 * s] + bsums[16 * b + 2 * s + 1]);
    }
    const float dx = d[b];
    sum += (fp16_to_f32(h.d) * dx) * static_cast<float>(isum) -
           (fp16_to_f32(h.dmin) * dx) * static_cast<float>(msum);
  }
  return sum;
}

// Q6_K against Q8_K activations, as ref.cpp's dot_superblocks does it:
// isum = sum_s ssc[s] * (dot_s - 32 * bsum_s) over the 16-element sub-blocks,
// term = (d * dx) * isum - (dmin * dx) * msum with dmin = msum = 0 (kept,
// so the float steps are literally the reference's).
double packed_dot_q6_k(const uint8_t* w, int64_t r, const uint8_t* a, int64_t n) {
  const auto* q = reinterpret_cast<const int8_t*>(a);
  const auto* d = reinterpret_cast<const float*>(a + layout::q8_k_d(n));
  const auto* bsums = reinterpret_cast<const int16_t*>(a + layout::q8_k_bsums(n));
  const int offset = packed_level_offset(DType::Q6_K);
  double sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const PackedHead h = packed_head(DType::Q6_K, w, n, r, b);
    int32_t isum = 0;
    const int32_t msum = 0;
    for (int s = 0; s < 16; ++s) {
      int32_t dot = 0;
      for (int e = 16 * s; e < 16 * s + 16; ++e)
        dot += packed_level(DType::Q6_K, w, n, r, b, e) * q[b * kQK_K + e];
      isum += h.ssc[s] * (dot - offset * bsums[16 * b + s]);
    }
    const float dx = d[b];
    sum += (fp16_to_f32(h.d) * dx) * static_cast<float>(isum) -
           (fp16_to_f32(h.dmin) * dx) * static_cast<float>(msum);
  }
  return sum;
}

// w: the first row's group; rows run on across groups of w_stride bytes.
template <DType kType, auto Dot>
void packed_gemm(const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* a, size_t as,
                 int64_t nc, int64_t n, float* y, int64_t ldy) {
  SF_CHECK(w_stride == packed_group_bytes(kType, n), "packed_gemm: wrong group stride");
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t r = 0; r < nr; ++r) y[c * ldy + r] = static_cast<float>(Dot(w, r, a + c * as, n));
}

// Float weights: y = fma(w[k], x[k], y) for k = 0 .. n-1 from +0, x the
// activation as its format stores it (floats; BF16: bf16 bits).
template <DType kType>
float packed_dot_float(const uint8_t* w, int64_t r, const uint8_t* a, int64_t n) {
  float acc = 0.f;
  for (int64_t k = 0; k < n; ++k) {
    float x;
    if constexpr (kType == DType::BF16) {
      uint16_t h;
      std::memcpy(&h, a + 2 * k, 2);
      x = bf16_to_f32(h);
    } else {
      std::memcpy(&x, a + 4 * k, 4);
    }
    acc = std::fma(packed_float(kType, w, n, r, k), x, acc);
  }
  return acc;
}

}  // namespace

void register_packed_ref(KernelTable* t) {
  entry(t, DType::Q4_0).packed_gemm = packed_gemm<DType::Q4_0, packed_dot32<DType::Q4_0>>;
  entry(t, DType::Q5_0).packed_gemm = packed_gemm<DType::Q5_0, packed_dot32<DType::Q5_0>>;
  entry(t, DType::Q8_0).packed_gemm = packed_gemm<DType::Q8_0, packed_dot32<DType::Q8_0>>;
  entry(t, DType::Q4_K).packed_gemm = packed_gemm<DType::Q4_K, packed_dot_q4_k>;
  entry(t, DType::F32).packed_gemm = packed_gemm<DType::F32, packed_dot_float<DType::F32>>;
  entry(t, DType::F16).packed_gemm = packed_gemm<DType::F16, packed_dot_float<DType::F16>>;
  entry(t, DType::BF16).packed_gemm = packed_gemm<DType::BF16, packed_dot_float<DType::BF16>>;
  entry(t, DType::Q6_K).packed_gemm = packed_gemm<DType::Q6_K, packed_dot_q6_k>;
}

}  // namespace sf::kernels
