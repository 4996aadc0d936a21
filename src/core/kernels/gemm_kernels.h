// Internal: the pieces of sf::gemm (core/gemm.h) that each ISA level provides,
// and test hooks. The driver in core/gemm.cpp blocks the product (BLIS/GotoBLAS
// style), packs blocks of op(A) and op(B) through the level's packers and calls
// its microkernel on each MR x NR tile of C.
//
// Packed layouts (one 4-byte element per (row or column, k step)):
//   A block (mc x kc):  panels of MR rows, panel p at p * MR * kp elements;
//                       inside a panel element (s, i) at s * MR + i.
//   B block (kc x nc):  panels of NR columns, panel q at q * NR * kp elements;
//                       inside a panel element (s, j) at s * NR + j.
// kp = ceil(kc / kpack) "k steps". kpack = 1: an element is one f32 (rounded to
// bf16 when the packer rounds). kpack = 2: an element is a pair of bf16
// (k = 2s in the low half, k = 2s + 1 in the high half, zero past kc), what
// vdpbf16ps consumes. Rows past mc and columns past nc are packed as zeros.
//
// A microkernel computes the whole tile from packed panels:
//   C[i][j] = alpha * sum_s A(s, i) . B(s, j) + beta * C[i][j]
// for i < rows (its template size) and j < ncols (<= NR); beta == 0 never reads C.
#pragma once

#include <cstdint>

namespace sf::gemm_detail {

// kp: k steps; a, b: the tile's packed A and B panels.
using MicroFn = void (*)(int64_t kp, const void* a, const void* b, float* c, int64_t ldc,
                         float alpha, float beta, int ncols);
// Packs op(A)[i0 .. i0+mc) x [p0 .. p0+kc); `a` points at op(A)(i0, p0), i.e. at
// a[i0 * lda + p0] (trans false) or a[p0 * lda + i0] (trans true).
using PackAFn = void (*)(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc,
                         void* dst);
// Packs op(B)[p0 .. p0+kc) x [j0 .. j0+nc); `b` points at op(B)(p0, j0), i.e. at
// b[p0 * ldb + j0] (trans false) or b[j0 * ldb + p0] (trans true).
using PackBFn = void (*)(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc,
                         void* dst);

inline constexpr int kMaxMr = 16;

struct Kernel {
  const char* name;
  int mr, nr;
  int kpack;                  // k values per packed element: 1 (f32) or 2 (bf16 pairs)
  int64_t mc, kc, nc;         // default block sizes; mc % mr == 0, nc % nr == 0, kc % kpack == 0
  MicroFn micro[kMaxMr + 1];  // micro[r] computes r rows, 1 <= r <= mr
  PackAFn pack_a;
  PackBFn pack_b;
};

// Per-ISA kernels; each may only be called when the CPU supports its level.
// round_bf16: the packers round every input to bf16 (RNE), for
// GemmPrecision::Bf16 on a CPU without AVX512-BF16.
namespace avx512 {
const Kernel* f32_kernel(bool round_bf16);
const Kernel* bf16_kernel();  // needs AVX512-BF16
}  // namespace avx512
namespace avx2 {
const Kernel* f32_kernel(bool round_bf16);
}  // namespace avx2

// How GemmPrecision::Bf16 runs on the AVX-512 level of a CPU with AVX512-BF16:
//   Dot  vdpbf16ps on bf16 pairs (bf16_kernel);
//   Fma  inputs rounded to bf16 while packing, then the f32 FMA kernel.
// Auto picks Dot on AMD (Zen 4 and later run vdpbf16ps at twice the f32 FMA
// rate) and Fma elsewhere: on the Intel Xeons measured here (Sapphire/Emerald
// Rapids) a 512-bit vdpbf16ps issues about once per two cycles against two
// FMAs per cycle, so Dot runs at half the f32 kernel's speed. Both give the
// numbers of gemm_ref(..., Bf16) up to f32 summation order.
enum class Bf16Path { Auto, Dot, Fma };

// The kernel gemm() uses now (active ISA level, precision, the path above).
const Kernel* select_kernel(bool bf16);

// Hooks for tests and benchmarks (not thread-safe: set them while no gemm runs).
// Blocking override: 0 keeps the kernel's default for that size; values are
// rounded up to the kernel's mr / nr / kpack multiples.
void set_test_blocking(int64_t mc, int64_t kc, int64_t nc);
// Forces a Bf16 path (Dot only takes effect where the CPU has AVX512-BF16).
void set_bf16_path(Bf16Path path);

}  // namespace sf::gemm_detail
