// The AVX2 level's attention: the scalar reference compiled with AVX2 + FMA,
// so its fma calls are instructions (same results as the reference).
#include "core/kernels/attention_portable.h"

namespace sf::kernels::avx2 {

void attend(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale,
            float* scratch) {
  attend_portable(rows, kv, head_dim, scale, scratch);
}

}  // namespace sf::kernels::avx2
