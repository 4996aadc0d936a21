// Small deterministic random number generator for sampling.
//
// xoshiro256** (Blackman & Vigna) seeded through splitmix64. We own the
// generator and the conversion to a uniform double so that the same seed gives
// the same stream on every compiler and standard library: std::mt19937_64 is
// portable, but std::uniform_real_distribution is implementation-defined, and
// reproducible `seed` is a user-visible promise (OpenAI `seed`, test goldens).
// Not cryptographic. Not thread-safe: one Rng per sampler/sequence.
#pragma once

#include <array>
#include <cstdint>

namespace sf {

// One step of splitmix64: advances `state` and returns a well-mixed value.
// Used to expand a 64-bit seed into xoshiro's 256-bit state (any seed, even 0,
// gives a usable non-zero state).
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }

  // Next raw 64-bit output (xoshiro256**).
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform double in [0, 1): the top 53 bits scaled by 2^-53, so every value
  // is exactly representable and 1.0 is never returned.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Full generator state, for saving and restoring a session mid-generation.
  const std::array<uint64_t, 4>& state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

}  // namespace sf
