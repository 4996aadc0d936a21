#include "core/attention.h"

#include "core/cpu.h"
#include "core/kernels/attention_kernels.h"

namespace sf {

size_t attend_scratch_floats(int head_dim, int rows) {
  return kernels::attn_scratch_floats(head_dim, rows);
}

void attend(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale,
            float* scratch) {
  const bool by8 = head_dim % 8 == 0 && head_dim <= 256;
  switch (active_isa()) {
    case Isa::Avx512:
      if (head_dim % 16 == 0) return kernels::avx512::attend(rows, kv, head_dim, scale, scratch);
      if (by8) return kernels::avx2::attend(rows, kv, head_dim, scale, scratch);
      break;
    case Isa::Avx2:
      if (by8) return kernels::avx2::attend(rows, kv, head_dim, scale, scratch);
      break;
    case Isa::Scalar:
      break;
  }
  kernels::attend_ref(rows, kv, head_dim, scale, scratch);
}

}  // namespace sf
