#include "tokenizer/byte_map.h"

#include <array>

#include "tokenizer/unicode.h"

namespace sf::tok {

namespace {

struct Maps {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 512> from_cp{};  // images are all below U+0200
  std::array<std::string, 256> utf8;
  Maps() {
    from_cp.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = keep ? static_cast<uint32_t>(b) : next++;
      from_cp[to_cp[b]] = static_cast<int16_t>(b);
      utf8_append(utf8[b], to_cp[b]);
    }
  }
};

const Maps& maps() {
  static const Maps m;
  return m;
}

}  // namespace

uint32_t byte_to_cp(uint8_t b) {
  return maps().to_cp[b];
}

int cp_to_byte(uint32_t cp) {
  return cp < 512 ? maps().from_cp[cp] : -1;
}

void bytes_to_byte_level(std::string_view bytes, std::string& out) {
  const Maps& m = maps();
  for (char c : bytes) out += m.utf8[static_cast<uint8_t>(c)];
}

bool byte_level_to_bytes(std::string_view text, std::string& out) {
  size_t i = 0;
  while (i < text.size()) {
    int len;
    const uint32_t cp = utf8_decode(text, i, &len);
    const int b = cp_to_byte(cp);
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
    i += static_cast<size_t>(len);
  }
  return true;
}

}  // namespace sf::tok
