// Template source -> tokens, following Jinja2's lexer rules.
//
// Text between tags becomes Text tokens with whitespace control applied here
// (`{%-`/`-%}`, trim_blocks, lstrip_blocks, `{%+`/`+%}`), so the parser never
// sees whitespace decisions. Comments vanish; `{% raw %}` bodies become text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sf::jinja {

struct Token {
  enum class Type : uint8_t {
    Text,
    VarBegin,    // {{
    VarEnd,      // }}
    BlockBegin,  // {%
    BlockEnd,    // %}
    Name,
    String,
    Int,
    Float,
    Op,  // operator or punctuation, spelled in `text`
    Eof
  };
  Type type = Type::Eof;
  uint32_t offset = 0;  // byte offset in the normalized source
  std::string text;     // Text data, Name, decoded String, or Op spelling
  int64_t int_value = 0;
  double float_value = 0;
};

struct LexOptions {
  bool trim_blocks = true;    // drop the first newline after a block tag
  bool lstrip_blocks = true;  // drop spaces/tabs before a block tag on its own line
};

// Jinja's newline handling: \r\n and \r become \n; a single trailing newline
// is removed unless keep_trailing_newline.
std::string normalize_newlines(std::string_view source, bool keep_trailing_newline);

// Throws Error (Syntax) with the offset of the offending character.
std::vector<Token> tokenize(std::string_view source, const LexOptions& options);

std::string describe(const Token& t);  // for error messages: "'endfor'", "end of template"

}  // namespace sf::jinja
