// Scalar reference of the quantized-activation path: the activation
// quantizers and, per weight type, the dot product the SIMD kernels compute:
// exact integer sums per block (or super-block), combined in float per block
// as the SIMD kernels do, accumulated in double. Simple and slow on purpose.
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "core/kernels/act_layout.h"
#include "core/kernels/registry.h"
#include "core/quant_blocks.h"

namespace sf::kernels {
namespace {

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

float h2f(const uint8_t* p) {
  return fp16_to_f32(load<uint16_t>(p));
}
float round_f16(float v) {
  return fp16_to_f32(f32_to_fp16(v));
}

// ---------------------------------------------------------------- quantizers

void quantize_f16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<float*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = round_f16(x[i]);
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

void quantize_q8_32(const float* x, void* dst, int64_t n) {
  auto* base = static_cast<uint8_t*>(dst);
  auto* q = reinterpret_cast<int8_t*>(base);
  auto* d = reinterpret_cast<float*>(base + layout::q8_32_d(n));
  auto* s = reinterpret_cast<float*>(base + layout::q8_32_s(n));
  auto* sum = reinterpret_cast<int32_t*>(base + layout::q8_32_sum(n));
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* xb = x + b * kQK;
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::fabs(xb[j]) > amax ? std::fabs(xb[j]) : amax;
    const float db = amax / 127.f;
    const float id = amax != 0 ? 127.f / amax : 0.f;
    int32_t total = 0;
    for (int j = 0; j < kQK; ++j) {
      const int v = static_cast<int>(std::nearbyint(xb[j] * id));
      q[b * kQK + j] = static_cast<int8_t>(v);
      total += v;
    }
    d[b] = round_f16(db);
    s[b] = round_f16(db * static_cast<float>(total));
    sum[b] = total;
  }
}

void quantize_q8_k(const float* x, void* dst, int64_t n) {
  auto* base = static_cast<uint8_t*>(dst);
  auto* q = reinterpret_cast<int8_t*>(base);
  auto* d = reinterpret_cast<float*>(base + layout::q8_k_d(n));
  auto* bsums = reinterpret_cast<int16_t*>(base + layout::q8_k_bsums(n));
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    // The value of largest magnitude (first on ties) keeps its sign, as in
    // quantize_row_ref(Q8_K).
    float amax = 0, max = 0;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    int8_t* qb = q + b * kQK_K;
    if (amax == 0) {
      d[b] = 0;
      std::memset(qb, 0, kQK_K);
      for (int g = 0; g < kQK_K / 16; ++g) bsums[b * 16 + g] = 0;
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j) {
      const int v = static_cast<int>(std::lrintf(iscale * xb[j]));
      qb[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += qb[16 * g + j];
      bsums[b * 16 + g] = static_cast<int16_t>(sum);
    }
    d[b] = 1 / iscale;
  }
}

// ---------------------------------------------------------------- float dots

double dot_f32(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = reinterpret_cast<const float*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(load<float>(w + 4 * i)) * x[i];
  return sum;
}

double dot_f16(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = reinterpret_cast<const float*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(h2f(w + 2 * i)) * x[i];
  return sum;
}

double dot_bf16(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = reinterpret_cast<const uint16_t*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += static_cast<double>(bf16_to_f32(load<uint16_t>(w + 2 * i))) * bf16_to_f32(x[i]);
  return sum;
}

// ------------------------------------------------------ 32-element block dots

struct Acts32 {
  const int8_t* q;
  const float* d;
  const float* s;
  const int32_t* sum;
  explicit Acts32(const uint8_t* a, int64_t n)
      : q(reinterpret_cast<const int8_t*>(a)),
        d(reinterpret_cast<const float*>(a + layout::q8_32_d(n))),
        s(reinterpret_cast<const float*>(a + layout::q8_32_s(n))),
        sum(reinterpret_cast<const int32_t*>(a + layout::q8_32_sum(n))) {}
};

// Signed level of element j of a Q4/Q5 block (nibbles, optional fifth bit).
int nibble(const uint8_t* qs, int j) {
  return j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
}

// Block b's integer dot: sum over j of level[j] * q[j].
template <class Level>
int32_t idot32(const int8_t* q, Level level) {
  int32_t s = 0;
  for (int j = 0; j < kQK; ++j) s += level(j) * q[j];
  return s;
}

double dot_q4_0(const uint8_t* w, const uint8_t* a, int64_t n) {
  const Acts32 x(a, n);
  double sum = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8_t* blk = w + b * sizeof(BlockQ4_0);
    const uint8_t* qs = blk + 2;
    const int32_t is = idot32(x.q + b * kQK, [&](int j) { return nibble(qs, j) - 8; });
    sum += static_cast<float>(is) * (h2f(blk) * x.d[b]);
  }
  return sum;
}

double dot_q4_1(const uint8_t* w, const uint8_t* a, int64_t n) {
  const Acts32 x(a, n);
  double sum = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8_t* blk = w + b * sizeof(BlockQ4_1);
    const uint8_t* qs = blk + 4;
    const int32_t is = idot32(x.q + b * kQK, [&](int j) { return nibble(qs, j); });
    sum += static_cast<float>(is) * (h2f(blk) * x.d[b]) + h2f(blk + 2) * x.s[b];
  }
  return sum;
}

double dot_q5_0(const uint8_t* w, const uint8_t* a, int64_t n) {
  const Acts32 x(a, n);
  double sum = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8_t* blk = w + b * sizeof(BlockQ5_0);
    const uint32_t qh = load<uint32_t>(blk + 2);
    const uint8_t* qs = blk + 6;
    const int32_t is = idot32(x.q + b * kQK, [&](int j) {
      return (nibble(qs, j) | static_cast<int>(((qh >> j) & 1) << 4)) - 16;
    });
    sum += static_cast<float>(is) * (h2f(blk) * x.d[b]);
  }
  return sum;
}

double dot_q5_1(const uint8_t* w, const uint8_t* a, int64_t n) {
  const Acts32 x(a, n);
  double sum = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8_t* blk = w + b * sizeof(BlockQ5_1);
    const uint32_t qh = load<uint32_t>(blk + 4);
    const uint8_t* qs = blk + 8;
    const int32_t is = idot32(x.q + b * kQK, [&](int j) {
      return nibble(qs, j) | static_cast<int>(((qh >> j) & 1) << 4);
    });
    sum += static_cast<float>(is) * (h2f(blk) * x.d[b]) + h2f(blk + 2) * x.s[b];
  }
  return sum;
}

double dot_q8_0(const uint8_t* w, const uint8_t* a, int64_t n) {
  const Acts32 x(a, n);
  double sum = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8_t* blk = w + b * sizeof(BlockQ8_0);
    const auto* qs = reinterpret_cast<const int8_t*>(blk + 2);
    const int32_t is = idot32(x.q + b * kQK, [&](int j) { return static_cast<int>(qs[j]); });
    sum += static_cast<float>(is) * (h2f(blk) * x.d[b]);
  }
  return sum;
}

// ------------------------------------------------------------ K-quant dots
//
// Each super-block is reduced to levels L[256] (unsigned), integer scales per
// sub-block and an integer offset; then
//   isum = sum_s scale[s] * (sum_{e in s} L[e] q[e] - offset * bsum[s])
//   msum = sum_s min[s] * bsum[s]
//   term = (d * dx) * isum - (dmin * dx) * msum

struct ActsK {
  const int8_t* q;
  const float* d;
  const int16_t* bsums;
  explicit ActsK(const uint8_t* a, int64_t n)
      : q(reinterpret_cast<const int8_t*>(a)),
        d(reinterpret_cast<const float*>(a + layout::q8_k_d(n))),
        bsums(reinterpret_cast<const int16_t*>(a + layout::q8_k_bsums(n))) {}
};

struct SuperBlock {
  uint8_t L[kQK_K];
  int sub = 16;        // sub-block length: 16 or 32
  int scale[16] = {};  // per sub-block
  int min[16] = {};    // per sub-block (0 for symmetric types)
  int offset = 0;      // level offset of symmetric types (Q3_K: 4, Q6_K: 32)
  float d = 0, dmin = 0;
};

double dot_superblocks(const uint8_t* w, size_t block_bytes, const uint8_t* a, int64_t n,
                       void (*unpack)(const uint8_t*, SuperBlock*)) {
  const ActsK x(a, n);
  double sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    SuperBlock sb;
    unpack(w + b * block_bytes, &sb);
    const int8_t* q = x.q + b * kQK_K;
    const int16_t* bs = x.bsums + b * 16;
    int32_t isum = 0, msum = 0;
    for (int s = 0; s < kQK_K / sb.sub; ++s) {
      int32_t dot = 0, bsum = 0;
      for (int e = s * sb.sub; e < (s + 1) * sb.sub; ++e) dot += sb.L[e] * q[e];
      for (int g = s * sb.sub / 16; g < (s + 1) * sb.sub / 16; ++g) bsum += bs[g];
      isum += sb.scale[s] * (dot - sb.offset * bsum);
      msum += sb.min[s] * bsum;
    }
    const float dx = x.d[b];
    sum += (sb.d * dx) * static_cast<float>(isum) - (sb.dmin * dx) * static_cast<float>(msum);
  }
  return sum;
}

void unpack_q2_k(const uint8_t* p, SuperBlock* sb) {
  const auto b = load<BlockQ2_K>(p);
  for (int e = 0; e < kQK_K; ++e)
    sb->L[e] = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
  for (int s = 0; s < 16; ++s) {
    sb->scale[s] = b.scales[s] & 0xF;
    sb->min[s] = b.scales[s] >> 4;
  }
  sb->d = fp16_to_f32(b.d);
  sb->dmin = fp16_to_f32(b.dmin);
}

void unpack_q3_k(const uint8_t* p, SuperBlock* sb) {
  const auto b = load<BlockQ3_K>(p);
  for (int e = 0; e < kQK_K; ++e) {
    const int low = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
    const int high = (b.hmask[e % 32] >> (e / 32)) & 1;
    sb->L[e] = static_cast<uint8_t>(low | (high << 2));
  }
  for (int s = 0; s < 16; ++s) sb->scale[s] = q3k_scale(s, b.scales) - 32;
  sb->offset = 4;
  sb->d = fp16_to_f32(b.d);
}

void unpack_q4_k(const uint8_t* p, SuperBlock* sb) {
  const auto b = load<BlockQ4_K>(p);
  sb->sub = 32;
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, mn;
    k4_scale_min(s, b.scales, &sc, &mn);
    sb->scale[s] = sc;
    sb->min[s] = mn;
    for (int l = 0; l < 32; ++l)
      sb->L[32 * s + l] = (b.qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0xF;
  }
  sb->d = fp16_to_f32(b.d);
  sb->dmin = fp16_to_f32(b.dmin);
}

void unpack_q5_k(const uint8_t* p, SuperBlock* sb) {
  const auto b = load<BlockQ5_K>(p);
  sb->sub = 32;
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, mn;
    k4_scale_min(s, b.scales, &sc, &mn);
    sb->scale[s] = sc;
    sb->min[s] = mn;
    for (int l = 0; l < 32; ++l) {
      const int lo = (b.qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0xF;
      sb->L[32 * s + l] = static_cast<uint8_t>(lo | (((b.qh[l] >> s) & 1) << 4));
    }
  }
  sb->d = fp16_to_f32(b.d);
  sb->dmin = fp16_to_f32(b.dmin);
}

void unpack_q6_k(const uint8_t* p, SuperBlock* sb) {
  const auto b = load<BlockQ6_K>(p);
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, k = (e / 32) % 4, l = e % 32;
    const int low = (b.ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0xF;
    const int high = (b.qh[32 * h + l] >> (2 * k)) & 3;
    sb->L[e] = static_cast<uint8_t>(low | (high << 4));
  }
  for (int s = 0; s < 16; ++s) sb->scale[s] = b.scales[s];
  sb->offset = 32;
  sb->d = fp16_to_f32(b.d);
}

double dot_q2_k(const uint8_t* w, const uint8_t* a, int64_t n) {
  return dot_superblocks(w, sizeof(BlockQ2_K), a, n, unpack_q2_k);
}
double dot_q3_k(const uint8_t* w, const uint8_t* a, int64_t n) {
  return dot_superblocks(w, sizeof(BlockQ3_K), a, n, unpack_q3_k);
}
double dot_q4_k(const uint8_t* w, const uint8_t* a, int64_t n) {
  return dot_superblocks(w, sizeof(BlockQ4_K), a, n, unpack_q4_k);
}
double dot_q5_k(const uint8_t* w, const uint8_t* a, int64_t n) {
  return dot_superblocks(w, sizeof(BlockQ5_K), a, n, unpack_q5_k);
}
double dot_q6_k(const uint8_t* w, const uint8_t* a, int64_t n) {
  return dot_superblocks(w, sizeof(BlockQ6_K), a, n, unpack_q6_k);
}

template <double (*Dot)(const uint8_t*, const uint8_t*, int64_t)>
void gemm(const uint8_t* w, size_t ws, int64_t nr, const uint8_t* a, size_t as, int64_t nc,
          int64_t n, float* y, int64_t ldy) {
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t r = 0; r < nr; ++r)
      y[c * ldy + r] = static_cast<float>(Dot(w + r * ws, a + c * as, n));
}

}  // namespace

void register_ref(KernelTable* t) {
  entry(t, DType::F32) = {ActFormat::F32, nullptr, gemm<dot_f32>};
  entry(t, DType::F16) = {ActFormat::F16, quantize_f16, gemm<dot_f16>};
  entry(t, DType::BF16) = {ActFormat::BF16, quantize_bf16, gemm<dot_bf16>};
  entry(t, DType::Q4_0) = {ActFormat::Q8_32, quantize_q8_32, gemm<dot_q4_0>};
  entry(t, DType::Q4_1) = {ActFormat::Q8_32, quantize_q8_32, gemm<dot_q4_1>};
  entry(t, DType::Q5_0) = {ActFormat::Q8_32, quantize_q8_32, gemm<dot_q5_0>};
  entry(t, DType::Q5_1) = {ActFormat::Q8_32, quantize_q8_32, gemm<dot_q5_1>};
  entry(t, DType::Q8_0) = {ActFormat::Q8_32, quantize_q8_32, gemm<dot_q8_0>};
  entry(t, DType::Q2_K) = {ActFormat::Q8_K, quantize_q8_k, gemm<dot_q2_k>};
  entry(t, DType::Q3_K) = {ActFormat::Q8_K, quantize_q8_k, gemm<dot_q3_k>};
  entry(t, DType::Q4_K) = {ActFormat::Q8_K, quantize_q8_k, gemm<dot_q4_k>};
  entry(t, DType::Q5_K) = {ActFormat::Q8_K, quantize_q8_k, gemm<dot_q5_k>};
  entry(t, DType::Q6_K) = {ActFormat::Q8_K, quantize_q8_k, gemm<dot_q6_k>};
}

}  // namespace sf::kernels
