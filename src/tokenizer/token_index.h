// Lookup from token text to id: an open-addressing hash table over string
// views into the vocabulary (which must outlive the index).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sf::tok {

inline uint64_t hash_bytes(const char* p, size_t n) {
  // FNV-1a over 8-byte words, then a final mix; fast for short strings.
  uint64_t h = 0xcbf29ce484222325ull ^ (n * 0x9E3779B97F4A7C15ull);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i < n; ++i, ++k)
    tail |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * k);
  h = (h ^ tail) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 32;
  return h;
}

class TokenIndex {
 public:
  // Later duplicates of the same text do not replace earlier ones.
  void build(const std::vector<std::string>& texts) {
    size_t cap = 16;
    while (cap < texts.size() * 2 + 1) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{});
    for (size_t id = 0; id < texts.size(); ++id) insert(texts[id], static_cast<int32_t>(id));
  }
  void insert(std::string_view key, int32_t id) {
    size_t i = hash_bytes(key.data(), key.size()) & mask_;
    while (slots_[i].id >= 0) {
      if (slots_[i].key == key) return;
      i = (i + 1) & mask_;
    }
    slots_[i].key = key;
    slots_[i].id = id;
  }
  int32_t find(std::string_view key) const {
    if (slots_.empty()) return -1;
    size_t i = hash_bytes(key.data(), key.size()) & mask_;
    while (slots_[i].id >= 0) {
      if (slots_[i].key.size() == key.size() && slots_[i].key == key) return slots_[i].id;
      i = (i + 1) & mask_;
    }
    return -1;
  }

 private:
  struct Slot {
    std::string_view key;
    int32_t id = -1;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace sf::tok
