// Unaligned loads and small helpers shared by the per-ISA kernel files. They
// live in an anonymous namespace on purpose: each *_avx2.cpp / *_avx512.cpp
// gets its own copy compiled with its own instruction set, so no function
// built for AVX-512 can be chosen by the linker for baseline code.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace sf::kernels {
namespace {

template <class T>
inline T read(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
inline __m128i load128(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline float h2f(const uint8_t* p) {
  return _cvtsh_ss(read<uint16_t>(p));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace
}  // namespace sf::kernels
