// The attention kernel's scalar reference (the Scalar level's kernel).
#include "core/kernels/attention_portable.h"

namespace sf::kernels {

void attend_ref(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale,
                float* scratch) {
  attend_portable(rows, kv, head_dim, scale, scratch);
}

}  // namespace sf::kernels
