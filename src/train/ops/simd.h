// AVX-512 kernels for the f32 training ops whose plain loops the baseline
// build (x86-64, -O2) leaves scalar: attention per (sequence, head), the
// softmax cross-entropy row and SwiGLU (vectorized exp). The generic
// templates in attention.cpp / cross_entropy.cpp / swiglu.cpp remain the
// reference (and the f64 path); these are chosen when avx512() is true and
// must match them within f32 rounding (tests/train/test_ops_grad.cpp).
//
// Only plain declarations here: the definitions are compiled with AVX-512
// flags (simd_avx512.cpp), and nothing inline may be shared with baseline
// code (the linker could pick the AVX-512 copy).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sf::train::ops::simd {

// The active ISA level (core/cpu.h) is AVX-512.
bool avx512();

// Largest head size the attention kernels take (larger: generic code).
constexpr int kMaxHeadDim = 128;
// Floats of per-thread scratch the attention kernels need.
size_t attn_scratch(int T, int head_dim);

// One (sequence, head): rows t = 0..T-1 of q (row stride ldq), k and v
// (stride ldkv); writes out (stride ldq) and lse[t].
void attn_forward_head(const float* q, const float* k, const float* v, float* out, float* lse,
                       int T, int head_dim, int64_t ldq, int64_t ldkv, float scale, float* scratch);
// Writes dq (stride ldq) and dk, dv (stride ldd: the kernel owns these
// slices for rows 0..T-1 and overwrites them).
void attn_backward_head(const float* dout, const float* q, const float* k, const float* v,
                        const float* out, const float* lse, float* dq, float* dk, float* dv, int T,
                        int head_dim, int64_t ldq, int64_t ldkv, int64_t ldd, float scale,
                        float* scratch);

// softmax_xent_row (cross_entropy.h) for f32.
double softmax_xent_row(float* logits, int64_t V, int32_t target, float grad, bool want_grad);

// swiglu_forward / swiglu_backward (swiglu.h) for f32 ranges.
void swiglu_forward(const float* gate, const float* up, float* h, int64_t n);
void swiglu_backward(const float* dh, const float* gate, const float* up, float* dgate, float* dup,
                     int64_t n);

}  // namespace sf::train::ops::simd
