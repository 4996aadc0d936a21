// Row-interleaved ("packed") copies of quantized weight matrices, made once at
// load time for the AVX-512 VNNI kernels of prompt processing.
//
// In GGUF's layout one SIMD register holds blocks of ONE weight row, so every
// integer dot product is followed by a horizontal combination per (row,
// activation column). Packed, a register's 32-bit lane r holds 4 consecutive
// weights of row r of a 16-row group: one vpdpbusd against 4 activation bytes
// broadcast to all lanes advances 16 rows at once, and the per-block float
// step (convert, scale, accumulate) is one instruction per 16 rows and column,
// with no horizontal sums at all (lanes are output rows).
//
// Layout of a matrix of `rows` x `cols` (cols a multiple of the type's block,
// nb blocks per row): groups of 16 rows, group g = rows 16g .. 16g+15, each
// packed_group_bytes() long (a multiple of 64); rows past `rows` in the last
// group are zero (zero levels and zero scales, so they add nothing and are
// never stored). Within a group:
//   quants  nb blocks of Q bytes, block b at b * Q, in 64-byte chunks; chunk
//           j's 32-bit lane r is bytes 4j..4j+3 of row r's levels as stored:
//     Q4_0  Q = 256: 4 chunks of the 16 nibble bytes qs (unsigned levels
//           0..15, offset 8): the low nibbles of chunk j are elements
//           4j..4j+3, the high nibbles elements 16+4j .. 16+4j+3.
//     Q5_0  Q = 320: the 4 chunks of Q4_0, then 8 masks of 64 bits: bit
//           4r + i of mask k is the fifth bit of element 4k + i of row r
//           (unsigned levels 0..31, offset 16), so one masked byte add
//           completes the levels of 4 elements of 16 rows.
//     Q8_0  Q = 512: 8 chunks of the 32 int8 levels stored as unsigned
//           q + 128 (offset 128): chunk j holds elements 4j..4j+3.
//     Q4_K  Q = 2048: 32 chunks of the 128 nibble bytes qs (levels 0..15):
//           chunk 8h + j holds in its low nibbles elements 64h + 4j .. +3
//           (sub-block 2h) and in its high nibbles 64h + 32 + 4j .. +3
//           (sub-block 2h + 1).
//     Q6_K  Q = 3072: 48 chunks, three per 16-element sub-block s (levels
//           0..63, offset 32): chunk 3s + k (k < 3) holds elements
//           16s + 4k .. +3 in its low 6 bits, and in its top 2 bits bits
//           2k, 2k + 1 of the levels of elements 16s + 12 .. +3 (quad 3).
//   heads   after the quants (at nb * Q), H bytes per block, 16 rows each:
//     Q4_0, Q5_0, Q8_0  H = 32: fp16 d of row r at 2r.
//     Q4_K  H = 320: fp16 d at 2r, fp16 dmin at 32 + 2r, then the 6-bit
//           sub-block scales unpacked to bytes, sub-block s of row r at
//           64 + 16s + r, and the mins likewise at 192 + 16s + r.
//     Q6_K  H = 288: fp16 d at 2r, then the int8 sub-block scales as
//           stored, sub-block s of row r at 32 + 16s + r (one 16-byte load
//           per sub-block widens to the 16 rows' int32 scales).
// A group takes the bytes of its 16 GGUF rows plus padding to 64 (Q4_K: +3%
// for the unpacked sub-block scales; Q6_K: none, 16 x 210 bytes a block), so
// packing hardly grows a model. Q6_K's levels as whole bytes (4384 bytes a
// group block, +30.5%) need no unpacking, where these take 9 logic
// instructions per sub-block and group (shared by a tile's columns): ~20%
// faster prompt kernels in L2, but ~4% slower generation on TinyLlama
// Q4_K_M, which streams its weights from memory.
//
// Unsigned levels meet signed int8 activations in vpdpbusd; the level offset
// comes out exactly through the activations' per-block sums (kernels.h, Q8_32
// layout). Results are those of the GGUF-layout kernels up to float summation
// order; for a given (row, column) they do not depend on M, tiling or threads.
//
// Float weights (F32, F16, BF16; any cols > 0, E = 4 or 2 bytes an element):
// a group is, for k = 0 .. cols-1, the 16 rows' elements at column k, row r's
// at 16 E k + E r, as stored in GGUF (no conversion), then zeros to a multiple
// of 64 bytes. One 64-byte (F32) or 32-byte (F16: vcvtph2ps; BF16: widen by a
// 16-bit shift) load is a register whose lane r is row r's weight at k, which
// meets one broadcast activation value in one FMA: there are no scales, so
// this is the whole kernel, and the GGUF-layout kernel's horizontal sums go.
// The kernels (and the scalar reference) run every (row, column) as one
// float FMA chain over k = 0, 1, ..., from +0: the result depends on nothing
// else, so it is the same for any M, tiling, cache blocking or thread count;
// it differs from the GGUF-layout kernels' only in summation order. A group
// takes its 16 rows' GGUF bytes plus padding to 64.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned_buffer.h"
#include "core/dtype.h"

namespace sf {

inline constexpr int kPackRows = 16;  // weight rows per group: one per 32-bit lane

// True when `type` (Q4_0, Q5_0, Q8_0, Q4_K, Q6_K; F32, F16, BF16) has a packed
// layout and a `cols`-column matrix can use it (cols a positive multiple of
// the block size; any cols > 0 for the float types).
bool packable(DType type, int64_t cols);

// True for the float types' layout (F32, F16, BF16): one element per row and
// column, read with packed_float, not with packed_level / packed_head.
bool packed_is_float(DType type);

// Level offset of a packable type (Q4_0: 8, Q5_0: 16, Q8_0: 128, Q4_K: 0,
// Q6_K: 32): weight = d * (level - offset), Q4_K: d * sc * level - dmin * mn,
// Q6_K: d * ssc * (level - 32).
int packed_level_offset(DType type);

inline int64_t packed_groups(int64_t rows) {
  return (rows + kPackRows - 1) / kPackRows;
}
// Bytes of one 16-row group (a multiple of 64) and of a whole packed matrix.
size_t packed_group_bytes(DType type, int64_t cols);
size_t packed_bytes(DType type, int64_t rows, int64_t cols);

// Packs groups [g0, g1) of the rows x cols matrix `src` (GGUF rows,
// row_bytes(type, cols) apart) into `dst`, the start of the whole packed
// matrix (packed_bytes long). Disjoint group ranges may be packed
// concurrently. Requires packable(type, cols).
void pack_groups(DType type, const uint8_t* src, int64_t rows, int64_t cols, int64_t g0, int64_t g1,
                 uint8_t* dst);
void pack_weights(DType type, const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst);

// Reading the layout element by element (the scalar reference kernel, tests):
// the unsigned level of element e of block b (32 or 256 elements) of row r,
// and that block's scales: fp16 bits of d (and dmin), Q4_K's sub-block
// scales and mins, Q6_K's signed sub-block scales (fields a type lacks are
// zero).
struct PackedHead {
  uint16_t d = 0, dmin = 0;
  uint8_t sc[8] = {}, mn[8] = {};  // Q4_K: 6-bit scale and min of each 32-element sub-block
  int8_t ssc[16] = {};             // Q6_K: scale of each 16-element sub-block
};
int packed_level(DType type, const uint8_t* packed, int64_t cols, int64_t r, int64_t b, int e);
PackedHead packed_head(DType type, const uint8_t* packed, int64_t cols, int64_t r, int64_t b);
// Float types: the weight of row r at column k, widened to float.
float packed_float(DType type, const uint8_t* packed, int64_t cols, int64_t r, int64_t k);

// Row r of a packed matrix back in GGUF layout (row_bytes(type, cols) bytes):
// the inverse of packing, for tests and debugging.
void unpack_row(DType type, const uint8_t* packed, int64_t cols, int64_t r, uint8_t* out);

}  // namespace sf
