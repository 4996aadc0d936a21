// Weight x activation kernels behind matmul's fast paths, per ISA level.
//
// A fast matmul first converts each activation row once into the format its
// weight type pairs with (llama.cpp's choice, so our native-path logits land
// next to llama.cpp's), then runs a tiled kernel over (weight rows) x
// (activation rows):
//
//   weights          activations           arithmetic
//   F32              F32 (used in place)   f32 FMA
//   F16              f32 rounded to f16    f32 FMA (products of f16 values are exact)
//   BF16             bf16                  AVX512-BF16 vdpbf16ps, or f32 FMA
//   Q4_0 Q5_0 Q8_0   Q8_32: int8 per 32    int8 dot products (VNNI / maddubs)
//   Q4_1 Q5_1        Q8_32 (uses s)        int8 dot products + min term
//   Q2_K..Q6_K       Q8_K: int8 per 256    int8 dot products, integer sub-block scales
//
// Activation row layouts (n elements; all ISAs share them, so one quantizer's
// output feeds every level's kernel):
//   F32   float[n]
//   F16   float[n], each value rounded to the nearest f16 (ties to even)
//   BF16  uint16[n] bf16 bit patterns (ties to even)
//   Q8_32 int8 q[n] | float d[n/32] | float s[n/32] | int32 sum[n/32]
//         per block of 32: amax = max|x|, d = fp16(amax/127) (stored widened),
//         q = round_even(x * (127/amax)), sum = sum of q,
//         s = fp16(amax/127 * sum) (llama.cpp's Q8_1 "s", used by Q4_1/Q5_1)
//   Q8_K  int8 q[n] | float d[n/256] | int16 bsums[n/16]  (exactly as
//         quantize_row_ref(Q8_K) computes them, in struct-of-arrays form)
// Every row buffer is padded to a multiple of 64 bytes (act_row_bytes).
//
// The Scalar level's kernels here are the scalar reference of the quantized
// path: exact integer block sums, float combination per block, double
// accumulation. Tests hold every SIMD kernel against them. (matmul's own
// Scalar path does not use them: it dequantizes rows to f32, see matmul.h.)
// Its packed_gemm reads the packed layout (core/packed_weights.h) element by
// element and gives bit for bit what its gemm gives on the GGUF rows; for the
// float types (F32, F16, BF16) it is instead one float std::fma chain per
// (row, column), the packed kernels' contract, which the SIMD packed kernel
// matches bit for bit.
//
// Determinism: a kernel's result for (weight row r, activation row c) does not
// depend on how many rows or columns it is called with, nor on threads, so a
// token decoded alone gets bit-identical logits to the same token in a batch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/cpu.h"
#include "core/dtype.h"

namespace sf::kernels {

enum class ActFormat { F32, F16, BF16, Q8_32, Q8_K };

// The activation format weights of `w` pair with; false if `w` has no kernel.
bool act_format(DType w, ActFormat* fmt);

// Bytes of one converted activation row of n elements (multiple of 64).
size_t act_row_bytes(ActFormat fmt, int64_t n);

// Converts n floats (n a multiple of the format's block: 32 for Q8_32, 256
// for Q8_K) into one activation row.
using QuantizeFn = void (*)(const float* x, void* dst, int64_t n);

// For r < nr, c < nc: y[c * ldy + r] = dot(weight row r, activation row c),
// where weight row r starts at w + r * w_stride and activation row c at
// a + c * a_stride; n elements per row.
using GemmFn = void (*)(const uint8_t* w, size_t w_stride, int64_t nr, const uint8_t* a,
                        size_t a_stride, int64_t nc, int64_t n, float* y, int64_t ldy);

struct TypeKernels {
  ActFormat format = ActFormat::F32;
  QuantizeFn quantize = nullptr;  // null for F32 (activations used in place)
  GemmFn gemm = nullptr;          // null: no kernel for this type at this level
  // Weights in the packed layout of core/packed_weights.h (null: none at this
  // level). Same contract as gemm, except that `w` is the start of a 16-row
  // group, `w_stride` the group stride (packed_group_bytes) and the nr rows
  // run on from the group's first row.
  GemmFn packed_gemm = nullptr;
};

// Kernels of a level (Scalar: the quantized-path reference). The level must be
// supported by this CPU (checked). For types without kernels gemm is null.
const TypeKernels& type_kernels(Isa isa, DType type);

// The AVX-512 BF16 kernel a CPU without AVX512-BF16 runs (f32 FMA on widened
// values); exposed so tests exercise it on CPUs that have the extension.
GemmFn avx512_bf16_fma_gemm();

}  // namespace sf::kernels
