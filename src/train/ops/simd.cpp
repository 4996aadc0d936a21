#include "train/ops/simd.h"

#include "core/cpu.h"

namespace sf::train::ops::simd {

bool avx512() {
  return active_isa() == Isa::Avx512;
}

size_t attn_scratch(int T, int head_dim) {
  // kt and vt (head_dim x T padded to 32), four rows each of p and ds.
  const size_t tp = (static_cast<size_t>(T) + 31) / 32 * 32;
  return 2 * static_cast<size_t>(head_dim) * tp + 8 * tp + 16;
}

}  // namespace sf::train::ops::simd
