// Dispatch tables of the weight x activation kernels (baseline code: it only
// calls an ISA's register functions when the CPU supports that ISA).
#include "core/kernels/kernels.h"

#include "core/kernels/act_layout.h"
#include "core/kernels/registry.h"
#include "core/status.h"

namespace sf::kernels {
namespace {

struct Tables {
  KernelTable ref, avx2, avx512;
  GemmFn avx512_bf16_fma = nullptr;
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    register_ref(&t.ref);
    register_packed_ref(&t.ref);
    if (isa_supported(Isa::Avx2)) {
      avx2::register_quantizers(&t.avx2);
      avx2::register_float(&t.avx2);
      avx2::register_q32(&t.avx2);
      avx2::register_kquant(&t.avx2);
    }
    if (isa_supported(Isa::Avx512)) {
      avx2::register_quantizers(&t.avx512);
      avx512::register_float(&t.avx512, cpu_features().avx512bf16);
      avx512::register_q32(&t.avx512);
      avx512::register_kquant(&t.avx512);
      avx512::register_packed(&t.avx512);
      avx512::register_packed_float(&t.avx512);
      t.avx512_bf16_fma = avx512::bf16_fma_gemm();
    }
    return t;
  }();
  return t;
}

}  // namespace

bool act_format(DType w, ActFormat* fmt) {
  const int i = static_cast<int>(w);
  if (i < 0 || i >= kTableSize) return false;
  const TypeKernels& k = tables().ref.t[i];
  if (!k.gemm) return false;
  *fmt = k.format;
  return true;
}

size_t act_row_bytes(ActFormat fmt, int64_t n) {
  int64_t bytes = 0;
  switch (fmt) {
    case ActFormat::F32:
    case ActFormat::F16:
      bytes = 4 * n;
      break;
    case ActFormat::BF16:
      bytes = 2 * n;
      break;
    case ActFormat::Q8_32:
      bytes = layout::q8_32_end(n);
      break;
    case ActFormat::Q8_K:
      bytes = layout::q8_k_end(n);
      break;
  }
  return static_cast<size_t>((bytes + 63) / 64 * 64);
}

const TypeKernels& type_kernels(Isa isa, DType type) {
  SF_CHECK(isa_supported(isa), "type_kernels: ISA level not supported by this CPU");
  const int i = static_cast<int>(type);
  SF_CHECK(i >= 0 && i < kTableSize, "type_kernels: bad type");
  const Tables& t = tables();
  switch (isa) {
    case Isa::Scalar:
      return t.ref.t[i];
    case Isa::Avx2:
      return t.avx2.t[i];
    case Isa::Avx512:
      return t.avx512.t[i];
  }
  return t.ref.t[i];
}

GemmFn avx512_bf16_fma_gemm() {
  SF_CHECK(isa_supported(Isa::Avx512), "avx512_bf16_fma_gemm: no AVX-512 on this CPU");
  return tables().avx512_bf16_fma;
}

}  // namespace sf::kernels
