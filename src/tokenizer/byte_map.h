// The GPT-2 byte <-> character map used by byte-level BPE: every byte gets a
// printable character (printable Latin-1 bytes map to themselves, the rest to
// U+0100 onwards), so a vocabulary of strings can cover arbitrary bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sf::tok {

uint32_t byte_to_cp(uint8_t b);
// -1 if cp is not the image of a byte.
int cp_to_byte(uint32_t cp);

// Raw bytes -> byte-level text (appended to out).
void bytes_to_byte_level(std::string_view bytes, std::string& out);
// Byte-level text -> raw bytes; false if a character is outside the map.
bool byte_level_to_bytes(std::string_view text, std::string& out);

}  // namespace sf::tok
