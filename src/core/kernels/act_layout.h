// Byte offsets inside one activation row (layouts in kernels.h). Internal to
// the kernels. Everything here has internal linkage (static): the header is
// included by files compiled for different ISAs, and a shared inline copy
// could otherwise be taken from an AVX-512 object into baseline code.
#pragma once

#include <cstdint>

namespace sf::kernels::layout {

// Q8_32: int8 q[n] | float d[n/32] | float s[n/32] | int32 sum[n/32]
static constexpr int64_t q8_32_d(int64_t n) {
  return n;
}
static constexpr int64_t q8_32_s(int64_t n) {
  return n + 4 * (n / 32);
}
static constexpr int64_t q8_32_sum(int64_t n) {
  return n + 8 * (n / 32);
}
static constexpr int64_t q8_32_end(int64_t n) {
  return n + 12 * (n / 32);
}

// Q8_K: int8 q[n] | float d[n/256] | int16 bsums[n/16]
static constexpr int64_t q8_k_d(int64_t n) {
  return n;
}
static constexpr int64_t q8_k_bsums(int64_t n) {
  return n + 4 * (n / 256);
}
static constexpr int64_t q8_k_end(int64_t n) {
  return n + 4 * (n / 256) + 2 * (n / 16);
}

}  // namespace sf::kernels::layout
