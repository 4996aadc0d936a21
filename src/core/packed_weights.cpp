#include "core/packed_weights.h"

#include <algorithm>
#include <cstring>

#include "core/fp16.h"
#include "core/quant_blocks.h"
#include "core/status.h"

namespace sf {
namespace {

// Per-type facts of the layout (see the header).
struct PackSpec {
  int block_size;   // elements per block
  int quant_bytes;  // per block of a group: 16 rows' levels (64-byte chunks)
  int head_bytes;   // per block of a group: 16 rows' scales
  int qs_offset;    // byte offset of the levels inside a GGUF block (Q6_K: runs_q6_k's)
  int runs;         // 4-byte runs of qs per row and block (one 64-byte chunk each)
  uint32_t flip;    // xor applied to each 4-byte run (Q8_0: int8 -> q + 128)
  int d_offset;     // byte offset of the fp16 d inside a GGUF block
};

PackSpec spec(DType type) {
  switch (type) {
    case DType::Q4_0:
      return {kQK, 256, 32, 2, 4, 0, 0};
    case DType::Q5_0:  // + 8 high-bit masks of 8 bytes after the 4 nibble chunks
      return {kQK, 320, 32, 6, 4, 0, 0};
    case DType::Q8_0:
      return {kQK, 512, 32, 2, 8, 0x80808080u, 0};
    case DType::Q4_K:
      return {kQK_K, 2048, 320, 4 + kKScaleBytes, 32, 0, 0};
    case DType::Q6_K:
      return {kQK_K, 3072, 288, 0, 48, 0, 208};
    default:
      SF_CHECK(false, "packed weights: type has no packed layout");
  }
  return {};
}

// Start of row r's group, and of block b's levels / head within it.
const uint8_t* group_of(DType type, const uint8_t* packed, int64_t cols, int64_t r) {
  return packed + static_cast<size_t>(r / kPackRows) * packed_group_bytes(type, cols);
}
const uint8_t* head_of(DType type, const uint8_t* group, int64_t cols, int64_t b) {
  const PackSpec s = spec(type);
  return group + (cols / s.block_size) * s.quant_bytes + b * s.head_bytes;
}

// Float types: bytes of one element.
size_t float_bytes(DType type) {
  return type == DType::F32 ? 4 : 2;
}

// Row r's element at column k within its group (float types).
size_t float_offset(DType type, int64_t r, int64_t k) {
  const size_t e = float_bytes(type);
  return static_cast<size_t>(k) * kPackRows * e + static_cast<size_t>(r % kPackRows) * e;
}

// Float types: a transpose of each 16-row slab, element bytes copied as they are.
void pack_float_groups(DType type, const uint8_t* src, int64_t rows, int64_t cols, int64_t g0,
                       int64_t g1, uint8_t* dst) {
  const size_t e = float_bytes(type), gb = packed_group_bytes(type, cols);
  const size_t rb = row_bytes(type, cols);
  for (int64_t g = g0; g < g1; ++g) {
    uint8_t* out = dst + static_cast<size_t>(g) * gb;
    const int64_t r0 = g * kPackRows;
    const int live = static_cast<int>(std::min<int64_t>(kPackRows, rows - r0));
    // Zero rows past the end and the tail padding.
    if (live < kPackRows || gb > static_cast<size_t>(cols) * kPackRows * e) std::memset(out, 0, gb);
    for (int lane = 0; lane < live; ++lane) {
      const uint8_t* row = src + static_cast<size_t>(r0 + lane) * rb;
      if (e == 2) {
        for (int64_t k = 0; k < cols; ++k)
          std::memcpy(out + (k * kPackRows + lane) * 2, row + 2 * k, 2);
      } else {
        for (int64_t k = 0; k < cols; ++k)
          std::memcpy(out + (k * kPackRows + lane) * 4, row + 4 * k, 4);
      }
    }
  }
}

// Q6_K's 6-bit levels (quant_blocks.h): per 128-element half h and l < 32,
// elements 128h + 32k + l (k < 4) take their low nibbles from ql[64h + l]
// (k = 0, 2: low, high nibble) and ql[64h + 32 + l] (k = 1, 3), their top
// two bits from bits 2k..2k+1 of qh[32h + l].
void levels_q6_k(const uint8_t* blk, uint8_t* L) {
  const uint8_t* ql = blk;
  const uint8_t* qh = blk + kQK_K / 2;
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const int a = ql[64 * h + l], b = ql[64 * h + 32 + l], hi = qh[32 * h + l];
      uint8_t* o = L + 128 * h + l;
      o[0] = static_cast<uint8_t>((a & 0xF) | (hi & 3) << 4);
      o[32] = static_cast<uint8_t>((b & 0xF) | (hi >> 2 & 3) << 4);
      o[64] = static_cast<uint8_t>((a >> 4) | (hi >> 4 & 3) << 4);
      o[96] = static_cast<uint8_t>((b >> 4) | (hi >> 6) << 4);
    }
}

// A Q6_K block's levels as packed for one row: 48 runs of 4 bytes, run
// 3s + k (k < 3) = quad k of sub-block s in the low 6 bits, and two bits
// (2k, 2k + 1) of quad 3's levels in the top 2 bits.
void runs_q6_k(const uint8_t* blk, uint8_t* runs) {
  uint8_t L[kQK_K];
  levels_q6_k(blk, L);
  for (int s = 0; s < 16; ++s)
    for (int k = 0; k < 3; ++k)
      for (int i = 0; i < 4; ++i)
        runs[4 * (3 * s + k) + i] =
            static_cast<uint8_t>(L[16 * s + 4 * k + i] | (L[16 * s + 12 + i] >> (2 * k) & 3) << 6);
}

// Inverse of levels_q6_k (levels < 64).
void store_levels_q6_k(const uint8_t* L, uint8_t* blk) {
  uint8_t* ql = blk;
  uint8_t* qh = blk + kQK_K / 2;
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const uint8_t* o = L + 128 * h + l;
      ql[64 * h + l] = static_cast<uint8_t>((o[0] & 0xF) | (o[64] & 0xF) << 4);
      ql[64 * h + 32 + l] = static_cast<uint8_t>((o[32] & 0xF) | (o[96] & 0xF) << 4);
      qh[32 * h + l] = static_cast<uint8_t>(o[0] >> 4 | (o[32] >> 4) << 2 | (o[64] >> 4) << 4 |
                                            (o[96] >> 4) << 6);
    }
}

// Writes row `lane`'s head fields of one GGUF block into the group's head.
void pack_head(DType type, const uint8_t* blk, int lane, uint8_t* head) {
  std::memcpy(head + 2 * lane, blk + spec(type).d_offset, 2);  // d
  if (type == DType::Q6_K) {
    for (int s = 0; s < 16; ++s) head[32 + 16 * s + lane] = blk[kQK_K / 2 + kQK_K / 4 + s];
    return;
  }
  if (type != DType::Q4_K) return;
  std::memcpy(head + 32 + 2 * lane, blk + 2, 2);  // dmin
  for (int s = 0; s < 8; ++s)
    k4_scale_min(s, blk + 4, &head[64 + 16 * s + lane], &head[192 + 16 * s + lane]);
}

}  // namespace

bool packable(DType type, int64_t cols) {
  switch (type) {
    case DType::Q4_0:
    case DType::Q5_0:
    case DType::Q8_0:
      return cols > 0 && cols % kQK == 0;
    case DType::Q4_K:
    case DType::Q6_K:
      return cols > 0 && cols % kQK_K == 0;
    case DType::F32:
    case DType::F16:
    case DType::BF16:
      return cols > 0;
    default:
      return false;
  }
}

bool packed_is_float(DType type) {
  return type == DType::F32 || type == DType::F16 || type == DType::BF16;
}

int packed_level_offset(DType type) {
  switch (type) {
    case DType::Q4_0:
      return 8;
    case DType::Q5_0:
      return 16;
    case DType::Q8_0:
      return 128;
    case DType::Q6_K:
      return 32;
    default:
      return 0;
  }
}

size_t packed_group_bytes(DType type, int64_t cols) {
  if (packed_is_float(type)) {
    const size_t bytes = static_cast<size_t>(cols) * kPackRows * float_bytes(type);
    return (bytes + 63) / 64 * 64;
  }
  const PackSpec s = spec(type);
  const size_t nb = static_cast<size_t>(cols / s.block_size);
  const size_t bytes = nb * static_cast<size_t>(s.quant_bytes + s.head_bytes);
  return (bytes + 63) / 64 * 64;
}

size_t packed_bytes(DType type, int64_t rows, int64_t cols) {
  return packed_group_bytes(type, cols) * static_cast<size_t>(packed_groups(rows));
}

void pack_groups(DType type, const uint8_t* src, int64_t rows, int64_t cols, int64_t g0, int64_t g1,
                 uint8_t* dst) {
  SF_CHECK(packable(type, cols), "pack_groups: type or shape not packable");
  if (packed_is_float(type)) {
    pack_float_groups(type, src, rows, cols, g0, g1, dst);
    return;
  }
  const PackSpec s = spec(type);
  const int64_t nb = cols / s.block_size;
  const size_t gb = packed_group_bytes(type, cols), rb = row_bytes(type, cols);
  const size_t bb = traits(type).block_bytes;
  for (int64_t g = g0; g < g1; ++g) {
    uint8_t* out = dst + static_cast<size_t>(g) * gb;
    const int64_t r0 = g * kPackRows;
    const int live = static_cast<int>(std::min<int64_t>(kPackRows, rows - r0));
    // Zero rows past the end, the tail padding, and Q5_0's masks (or-ed below).
    if (live < kPackRows || gb > static_cast<size_t>(nb) * (s.quant_bytes + s.head_bytes) ||
        type == DType::Q5_0)
      std::memset(out, 0, gb);
    for (int lane = 0; lane < live; ++lane) {
      const uint8_t* row = src + static_cast<size_t>(r0 + lane) * rb;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = row + b * bb;
        pack_head(type, blk, lane, out + nb * s.quant_bytes + b * s.head_bytes);
        uint8_t* q = out + b * s.quant_bytes + 4 * lane;
        // The runs are the levels as stored, except Q6_K's, which are
        // rearranged from its GGUF bit planes first.
        const uint8_t* levels = blk + s.qs_offset;
        uint8_t q6[4 * 48];
        if (type == DType::Q6_K) {
          runs_q6_k(blk, q6);
          levels = q6;
        }
        for (int j = 0; j < s.runs; ++j) {
          uint32_t v;
          std::memcpy(&v, levels + 4 * j, 4);
          v ^= s.flip;
          std::memcpy(q + 64 * j, &v, 4);
        }
        if (type == DType::Q5_0) {
          // Mask k, bit 4 lane + i: the fifth bit of element 4k + i.
          uint32_t qh;
          std::memcpy(&qh, blk + 2, 4);
          uint8_t* masks = out + b * s.quant_bytes + 256;
          for (int k = 0; k < 8; ++k)
            masks[8 * k + lane / 2] |=
                static_cast<uint8_t>(((qh >> (4 * k)) & 0xF) << (4 * (lane % 2)));
        }
      }
    }
  }
}

void pack_weights(DType type, const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst) {
  pack_groups(type, src, rows, cols, 0, packed_groups(rows), dst);
}

int packed_level(DType type, const uint8_t* packed, int64_t cols, int64_t r, int64_t b, int e) {
  const PackSpec s = spec(type);
  const uint8_t* q = group_of(type, packed, cols, r) + b * s.quant_bytes + 4 * (r % kPackRows);
  switch (type) {
    case DType::Q4_0:
    case DType::Q5_0: {
      const uint8_t v = q[64 * ((e % 16) / 4) + e % 4];
      const int low = e < 16 ? (v & 0xF) : (v >> 4);
      if (type == DType::Q4_0) return low;
      const int lane = static_cast<int>(r % kPackRows);
      const uint8_t m = q[256 - 4 * lane + 8 * (e / 4) + lane / 2];
      return low | ((m >> (4 * (lane % 2) + e % 4)) & 1) << 4;
    }
    case DType::Q4_K: {
      const int h = e / 64, l = e % 32;  // 64-element chunk, position in its sub-block
      const uint8_t v = q[64 * (8 * h + l / 4) + l % 4];
      return (e % 64) < 32 ? (v & 0xF) : (v >> 4);
    }
    case DType::Q6_K: {
      const int s = e / 16, k = e % 16 / 4, i = e % 4;
      const uint8_t* c = q + 64 * 3 * s + i;  // quad k < 3 of sub-block s in chunk 3s + k
      if (k < 3) return c[64 * k] & 63;
      return c[0] >> 6 | (c[64] >> 6) << 2 | (c[128] >> 6) << 4;
    }
    default:  // Q8_0: one byte per level
      return q[64 * (e / 4) + e % 4];
  }
}

PackedHead packed_head(DType type, const uint8_t* packed, int64_t cols, int64_t r, int64_t b) {
  const uint8_t* head = head_of(type, group_of(type, packed, cols, r), cols, b);
  const int lane = static_cast<int>(r % kPackRows);
  PackedHead h;
  std::memcpy(&h.d, head + 2 * lane, 2);
  if (type == DType::Q6_K) {
    for (int s = 0; s < 16; ++s) h.ssc[s] = static_cast<int8_t>(head[32 + 16 * s + lane]);
  } else if (type == DType::Q4_K) {
    std::memcpy(&h.dmin, head + 32 + 2 * lane, 2);
    for (int s = 0; s < 8; ++s) {
      h.sc[s] = head[64 + 16 * s + lane];
      h.mn[s] = head[192 + 16 * s + lane];
    }
  }
  return h;
}

float packed_float(DType type, const uint8_t* packed, int64_t cols, int64_t r, int64_t k) {
  const uint8_t* p = group_of(type, packed, cols, r) + float_offset(type, r, k);
  if (type == DType::F32) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return type == DType::F16 ? fp16_to_f32(h) : bf16_to_f32(h);
}

void unpack_row(DType type, const uint8_t* packed, int64_t cols, int64_t r, uint8_t* out) {
  SF_CHECK(packable(type, cols), "unpack_row: type or shape not packable");
  if (packed_is_float(type)) {
    const uint8_t* group = group_of(type, packed, cols, r);
    const size_t e = float_bytes(type);
    for (int64_t k = 0; k < cols; ++k)
      std::memcpy(out + k * e, group + float_offset(type, r, k), e);
    return;
  }
  const PackSpec s = spec(type);
  const size_t bb = traits(type).block_bytes;
  auto level = [&](int64_t b, int e) { return packed_level(type, packed, cols, r, b, e); };
  for (int64_t b = 0; b < cols / s.block_size; ++b) {
    uint8_t* blk = out + b * bb;
    const PackedHead h = packed_head(type, packed, cols, r, b);
    std::memcpy(blk + s.d_offset, &h.d, 2);
    uint8_t* qs = blk + s.qs_offset;
    switch (type) {
      case DType::Q4_0:
      case DType::Q5_0: {
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
          const int l0 = level(b, j), l1 = level(b, j + 16);
          qs[j] = static_cast<uint8_t>((l0 & 0xF) | (l1 & 0xF) << 4);
          qh |= static_cast<uint32_t>(l0 >> 4) << j | static_cast<uint32_t>(l1 >> 4) << (j + 16);
        }
        if (type == DType::Q5_0) std::memcpy(blk + 2, &qh, 4);
        break;
      }
      case DType::Q8_0:
        for (int e = 0; e < kQK; ++e) qs[e] = static_cast<uint8_t>(level(b, e) ^ 0x80);
        break;
      case DType::Q4_K:
        std::memcpy(blk + 2, &h.dmin, 2);
        k4_pack_scales(h.sc, h.mn, blk + 4);
        for (int h4 = 0; h4 < 4; ++h4)
          for (int l = 0; l < 32; ++l)
            qs[32 * h4 + l] =
                static_cast<uint8_t>(level(b, 64 * h4 + l) | level(b, 64 * h4 + 32 + l) << 4);
        break;
      case DType::Q6_K: {
        uint8_t L[kQK_K];
        for (int e = 0; e < kQK_K; ++e) L[e] = static_cast<uint8_t>(level(b, e));
        store_levels_q6_k(L, blk);
        std::memcpy(blk + kQK_K / 2 + kQK_K / 4, h.ssc, 16);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace sf
