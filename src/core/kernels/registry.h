// Internal: how the per-ISA kernel files hand their functions to the dispatch
// tables in kernels.cpp. Each register_* function is compiled for its ISA and
// must only be called when the CPU supports that ISA.
#pragma once

#include "core/kernels/kernels.h"

namespace sf::kernels {

inline constexpr int kTableSize = 40;  // DType values 0..39

struct KernelTable {
  TypeKernels t[kTableSize];
};

// Internal linkage on purpose (see act_layout.h): ISA files call it too.
static inline TypeKernels& entry(KernelTable* table, DType d) {
  return table->t[static_cast<int>(d)];
}

// Scalar quantized-path reference (ref.cpp): quantizers and gemm.
void register_ref(KernelTable* table);
// Scalar reference on packed weights (packed_ref.cpp): packed_gemm entries.
void register_packed_ref(KernelTable* table);

namespace avx2 {
void register_quantizers(KernelTable* table);  // also used by the AVX-512 level
void register_float(KernelTable* table);
void register_q32(KernelTable* table);
void register_kquant(KernelTable* table);
}  // namespace avx2

namespace avx512 {
void register_float(KernelTable* table, bool native_bf16);
void register_q32(KernelTable* table);
void register_kquant(KernelTable* table);
void register_packed(KernelTable* table);  // packed_gemm entries (needs VNNI)
// packed_gemm entries of the float types (F32, F16, BF16)
void register_packed_float(KernelTable* table);
GemmFn bf16_fma_gemm();
}  // namespace avx512

}  // namespace sf::kernels
