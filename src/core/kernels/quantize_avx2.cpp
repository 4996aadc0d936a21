// AVX2 activation quantizers (used by the AVX2 and AVX-512 levels). Each
// produces exactly the bytes of its scalar reference in ref.cpp: the same
// float operations in the same order, round-to-nearest-even conversions.
#include <immintrin.h>

#include <cstring>

#include "core/kernels/act_layout.h"
#include "core/kernels/registry.h"

namespace sf::kernels::avx2 {
namespace {

inline __m256 abs_ps(__m256 v) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline float round_f16(float v) {
  return _cvtsh_ss(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Packs 4 x 8 int32 (each in int8 range) into 32 int8 in element order.
inline __m256i pack_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // per 128-bit lane: a0 b0 | a1 b1
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);  // a0 b0 c0 d0 | a1 b1 c1 d1 (4-byte groups)
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

void quantize_q8_32(const float* x, void* dst, int64_t n) {
  auto* base = static_cast<uint8_t*>(dst);
  auto* q = base;
  auto* d = reinterpret_cast<float*>(base + layout::q8_32_d(n));
  auto* s = reinterpret_cast<float*>(base + layout::q8_32_s(n));
  auto* sum = reinterpret_cast<int32_t*>(base + layout::q8_32_sum(n));
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + 32 * b;
    __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
    __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
    const __m256 m =
        _mm256_max_ps(_mm256_max_ps(abs_ps(v0), abs_ps(v1)), _mm256_max_ps(abs_ps(v2), abs_ps(v3)));
    const float amax = hmax(m);
    const float db = amax / 127.f;
    const float id = amax != 0 ? 127.f / amax : 0.f;
    const __m256 mul = _mm256_set1_ps(id);
    const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, mul));
    const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, mul));
    const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, mul));
    const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, mul));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * b), pack_i8(i0, i1, i2, i3));
    const int32_t total =
        hsum_i32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
    d[b] = round_f16(db);
    s[b] = round_f16(db * static_cast<float>(total));
    sum[b] = total;
  }
}

void quantize_q8_k(const float* x, void* dst, int64_t n) {
  auto* base = static_cast<uint8_t*>(dst);
  auto* q = base;
  auto* d = reinterpret_cast<float*>(base + layout::q8_k_d(n));
  auto* bsums = reinterpret_cast<int16_t*>(base + layout::q8_k_bsums(n));
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* xb = x + 256 * b;
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < 256; j += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(xb + j)));
    const float amax = hmax(m);
    uint8_t* qb = q + 256 * b;
    int16_t* bs = bsums + 16 * b;
    if (amax == 0) {
      d[b] = 0;
      std::memset(qb, 0, 256);
      std::memset(bs, 0, 16 * sizeof(int16_t));
      continue;
    }
    // The first element of largest magnitude keeps its sign (as the reference).
    const __m256 vmax = _mm256_set1_ps(amax);
    float max = 0;
    for (int j = 0; j < 256; j += 8) {
      const int hit =
          _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(xb + j)), vmax, _CMP_EQ_OQ));
      if (hit) {
        max = xb[j + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m256 mul = _mm256_set1_ps(iscale);
    const __m256i top = _mm256_set1_epi32(127);
    for (int j = 0; j < 256; j += 32) {
      __m256i v[4];
      for (int k = 0; k < 4; ++k)
        v[k] = _mm256_min_epi32(
            _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + j + 8 * k), mul)), top);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qb + j), pack_i8(v[0], v[1], v[2], v[3]));
      bs[j / 16] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(v[0], v[1])));
      bs[j / 16 + 1] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(v[2], v[3])));
    }
    d[b] = 1 / iscale;
  }
}

// Rounds 8 floats to f16 and back.
inline __m256 f16_round8(__m256 v) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

void quantize_f16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<float*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f16_round8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float tmp[8] = {};
    std::memcpy(tmp, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm256_storeu_ps(tmp, f16_round8(_mm256_loadu_ps(tmp)));
    std::memcpy(y + i, tmp, static_cast<size_t>(n - i) * sizeof(float));
  }
}

// 8 floats to bf16 bit patterns (as int32 lanes), ties to even, NaN kept quiet.
inline __m256i bf16_bits8(__m256 v) {
  const __m256i x = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i nan_bits = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
  const __m256i is_nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  return _mm256_blendv_epi8(rounded, nan_bits, is_nan);
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = bf16_bits8(_mm256_loadu_ps(x + i));
    const __m256i b = bf16_bits8(_mm256_loadu_ps(x + i + 8));
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), _MM_SHUFFLE(3, 1, 2, 0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), p);
  }
  for (; i < n; i += 8) {
    float tmp[8] = {};
    const int64_t len = n - i < 8 ? n - i : 8;
    std::memcpy(tmp, x + i, static_cast<size_t>(len) * sizeof(float));
    const __m256i a = bf16_bits8(_mm256_loadu_ps(tmp));
    const __m128i p = _mm_packus_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    uint16_t out[8];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), p);
    std::memcpy(y + i, out, static_cast<size_t>(len) * sizeof(uint16_t));
  }
}

}  // namespace

void register_quantizers(KernelTable* t) {
  entry(t, DType::F32).format = ActFormat::F32;
  entry(t, DType::F16).format = ActFormat::F16;
  entry(t, DType::F16).quantize = quantize_f16;
  entry(t, DType::BF16).format = ActFormat::BF16;
  entry(t, DType::BF16).quantize = quantize_bf16;
  for (DType d : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0}) {
    entry(t, d).format = ActFormat::Q8_32;
    entry(t, d).quantize = quantize_q8_32;
  }
  for (DType d : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    entry(t, d).format = ActFormat::Q8_K;
    entry(t, d).quantize = quantize_q8_k;
  }
}

}  // namespace sf::kernels::avx2
