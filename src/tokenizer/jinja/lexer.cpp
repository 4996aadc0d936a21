#include "tokenizer/jinja/lexer.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/pystr.h"

namespace sf::jinja {

std::string normalize_newlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string describe(const Token& t) {
  switch (t.type) {
    case Token::Type::Eof:
      return "end of template";
    case Token::Type::VarEnd:
      return "'}}'";
    case Token::Type::BlockEnd:
      return "'%}'";
    case Token::Type::VarBegin:
      return "'{{'";
    case Token::Type::BlockBegin:
      return "'{%'";
    case Token::Type::Text:
      return "template text";
    case Token::Type::String:
      return "string literal";
    case Token::Type::Int:
    case Token::Type::Float:
      return "number";
    default:
      return "'" + t.text + "'";
  }
}

namespace {

bool is_ws(std::string_view s, size_t i, size_t* next) {
  char32_t cp;
  *next = py::utf8_next(s, i, &cp);
  return py::is_space(cp);
}

// Length of the whitespace run starting at i (Python's \s*).
size_t skip_ws(std::string_view s, size_t i) {
  size_t next;
  while (i < s.size() && is_ws(s, i, &next)) i = next;
  return i;
}

std::string_view rstrip_ws(std::string_view text) {
  std::vector<size_t> off = py::codepoint_offsets(text);
  size_t end = off.size() - 1;  // code points kept
  while (end > 0) {
    char32_t cp;
    py::utf8_next(text, off[end - 1], &cp);
    if (!py::is_space(cp)) break;
    --end;
  }
  return text.substr(0, off[end]);
}

bool all_ws(std::string_view s) {
  for (size_t i = 0, next; i < s.size(); i = next)
    if (!is_ws(s, i, &next)) return false;
  return true;
}

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

class Lexer {
 public:
  Lexer(std::string_view s, const LexOptions& o) : s_(s), opt_(o) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) {
      const size_t open = find_open(pos_);
      if (open == std::string_view::npos) {
        emit_text(s_.substr(pos_), static_cast<uint32_t>(pos_));
        break;
      }
      const char kind = s_[open + 1];  // '{', '%' or '#'
      char sign = open + 2 < s_.size() ? s_[open + 2] : 0;
      if (sign != '-' && sign != '+') sign = 0;
      size_t raw_body = 0;
      const bool raw = kind == '%' && match_raw_begin(open, sign, &raw_body);
      emit_text(strip_before(s_.substr(pos_, open - pos_), sign, kind != '{'),
                static_cast<uint32_t>(pos_));
      const size_t after_open = open + 2 + (sign ? 1 : 0);
      if (raw) {
        lex_raw(open, raw_body);
      } else if (kind == '#') {
        lex_comment(open, after_open);
      } else {
        lex_tag(open, after_open, kind == '{');
      }
    }
    push(Token::Type::Eof, static_cast<uint32_t>(s_.size()));
    return std::move(out_);
  }

 private:
  size_t find_open(size_t from) const {
    for (size_t i = s_.find('{', from); i != std::string_view::npos; i = s_.find('{', i + 1)) {
      if (i + 1 < s_.size() && (s_[i + 1] == '{' || s_[i + 1] == '%' || s_[i + 1] == '#')) return i;
    }
    return std::string_view::npos;
  }

  // Whitespace control for the text before a tag: `-` strips all trailing
  // whitespace; otherwise lstrip_blocks drops an indentation-only last line
  // before block and comment tags.
  std::string_view strip_before(std::string_view text, char sign, bool is_block) const {
    if (sign == '-') return rstrip_ws(text);
    if (sign == '+' || !is_block || !opt_.lstrip_blocks) return text;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if ((l_pos > 0 || line_starting_) && l_pos < text.size() && all_ws(text.substr(l_pos)))
      return text.substr(0, l_pos);
    return text;
  }

  // After a closing tag: `-` eats following whitespace, trim_blocks one newline.
  void finish_tag(size_t end, char sign, bool block_like) {
    if (sign == '-') {
      end = skip_ws(s_, end);
    } else if (sign != '+' && block_like && opt_.trim_blocks && end < s_.size() &&
               s_[end] == '\n') {
      ++end;
    }
    line_starting_ = end > 0 && s_[end - 1] == '\n';
    pos_ = end;
  }

  // `{% raw %}` (optionally with - or + signs); on success *body is where the raw text starts.
  bool match_raw_begin(size_t open, char sign, size_t* body) const {
    size_t i = skip_ws(s_, open + 2 + (sign ? 1 : 0));
    if (s_.compare(i, 3, "raw") != 0) return false;
    i += 3;
    if (i < s_.size() && is_name_char(s_[i])) return false;
    i = skip_ws(s_, i);
    if (s_.compare(i, 3, "-%}") == 0) {
      *body = skip_ws(s_, i + 3);
      return true;
    }
    if (s_.compare(i, 2, "%}") == 0) {
      *body = i + 2;
      return true;
    }
    return false;
  }

  void lex_raw(size_t open, size_t body) {
    line_starting_ = body > 0 && s_[body - 1] == '\n';
    for (size_t i = s_.find("{%", body); i != std::string_view::npos; i = s_.find("{%", i + 1)) {
      char sign = i + 2 < s_.size() ? s_[i + 2] : 0;
      if (sign != '-' && sign != '+') sign = 0;
      size_t j = skip_ws(s_, i + 2 + (sign ? 1 : 0));
      if (s_.compare(j, 6, "endraw") != 0 || (j + 6 < s_.size() && is_name_char(s_[j + 6])))
        continue;
      j = skip_ws(s_, j + 6);
      char end_sign = 0;
      if (j < s_.size() && (s_[j] == '-' || s_[j] == '+')) end_sign = s_[j++];
      if (s_.compare(j, 2, "%}") != 0) continue;
      emit_text(strip_before(s_.substr(body, i - body), sign, true), static_cast<uint32_t>(body));
      finish_tag(j + 2, end_sign, true);
      return;
    }
    fail_syntax("missing '{% endraw %}' for this raw block", static_cast<uint32_t>(open));
  }

  void lex_comment(size_t open, size_t after_open) {
    const size_t close = s_.find("#}", after_open);
    if (close == std::string_view::npos)
      fail_syntax("unterminated comment", static_cast<uint32_t>(open));
    char sign = 0;
    if (close > after_open && (s_[close - 1] == '-' || s_[close - 1] == '+')) sign = s_[close - 1];
    finish_tag(close + 2, sign, true);
  }

  void lex_tag(size_t open, size_t i, bool is_var) {
    push(is_var ? Token::Type::VarBegin : Token::Type::BlockBegin, static_cast<uint32_t>(open));
    std::vector<char> brackets;  // open brackets; a tag cannot end inside them
    for (;;) {
      i = skip_ws(s_, i);
      if (i >= s_.size()) {
        fail_syntax(is_var ? "unexpected end of template: '{{' was never closed with '}}'"
                           : "unexpected end of template: '{%' was never closed with '%}'",
                    static_cast<uint32_t>(open));
      }
      if (brackets.empty()) {
        const char* close = is_var ? "}}" : "%}";
        char sign = 0;
        size_t at = i;
        if ((s_[i] == '-' || (!is_var && s_[i] == '+')) && s_.compare(i + 1, 2, close) == 0) {
          sign = s_[i];
          at = i + 1;
        }
        if (s_.compare(at, 2, close) == 0) {
          push(is_var ? Token::Type::VarEnd : Token::Type::BlockEnd, static_cast<uint32_t>(i));
          finish_tag(at + 2, sign, !is_var);
          return;
        }
      }
      i = lex_token(i, brackets);
    }
  }

  size_t lex_token(size_t i, std::vector<char>& brackets) {
    const char c = s_[i];
    const uint32_t at = static_cast<uint32_t>(i);
    if (is_digit(c)) return lex_number(i);
    if (is_name_start(c)) {
      size_t j = i;
      while (j < s_.size() && is_name_char(s_[j])) ++j;
      push(Token::Type::Name, at).text = std::string(s_.substr(i, j - i));
      return j;
    }
    if (c == '\'' || c == '"') return lex_string(i);
    static constexpr const char* kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwo) {
      if (s_.compare(i, 2, op) == 0) {
        push(Token::Type::Op, at).text = op;
        return i + 2;
      }
    }
    static constexpr std::string_view kOne = "+-/*%~[](){}<>=.:|,;";
    if (kOne.find(c) == std::string_view::npos) {
      std::string shown = c >= 0x20 && c < 0x7f
                              ? std::string(1, c)
                              : "\\x" + std::to_string(static_cast<unsigned char>(c));
      fail_syntax("unexpected character '" + shown + "' in tag", at);
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c);
    } else if (c == ')' || c == ']' || c == '}') {
      const char want = c == ')' ? '(' : c == ']' ? '[' : '{';
      if (brackets.empty() || brackets.back() != want)
        fail_syntax(std::string("unexpected '") + c + "'", at);
      brackets.pop_back();
    }
    push(Token::Type::Op, at).text = std::string(1, c);
    return i + 1;
  }

  size_t lex_digits(size_t i, std::string& digits) const {
    // Digits with single underscores between them, as Python allows.
    while (i < s_.size()) {
      if (is_digit(s_[i])) {
        digits += s_[i++];
      } else if (s_[i] == '_' && i + 1 < s_.size() && is_digit(s_[i + 1]) && !digits.empty()) {
        ++i;
      } else {
        break;
      }
    }
    return i;
  }

  size_t lex_number(size_t i) {
    const uint32_t at = static_cast<uint32_t>(i);
    std::string text;
    i = lex_digits(i, text);
    bool is_float = false;
    // A number right after '.' is an attribute index (`x.0.1`), never a float.
    const bool after_dot = at > 0 && s_[at - 1] == '.';
    if (!after_dot && i + 1 < s_.size() && s_[i] == '.' && is_digit(s_[i + 1])) {
      text += '.';
      i = lex_digits(i + 1, text);
      is_float = true;
    }
    if (!after_dot && i < s_.size() && (s_[i] == 'e' || s_[i] == 'E')) {
      size_t j = i + 1;
      std::string exp = "e";
      if (j < s_.size() && (s_[j] == '+' || s_[j] == '-')) exp += s_[j++];
      if (j < s_.size() && is_digit(s_[j])) {
        i = lex_digits(j, exp);
        text += exp;
        is_float = true;
      }
    }
    if (is_float) {
      push(Token::Type::Float, at).float_value = std::strtod(text.c_str(), nullptr);
      return i;
    }
    int64_t v = 0;
    for (char d : text) {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d - '0', &v))
        fail_syntax("integer literal too large", at);
    }
    push(Token::Type::Int, at).int_value = v;
    return i;
  }

  // Python string literal escapes (Jinja decodes with 'unicode-escape').
  size_t lex_string(size_t i) {
    const uint32_t at = static_cast<uint32_t>(i);
    const char q = s_[i++];
    std::string v;
    for (;;) {
      if (i >= s_.size()) fail_syntax("unterminated string literal", at);
      const char c = s_[i];
      if (c == q) break;
      if (c != '\\') {
        v += c;
        ++i;
        continue;
      }
      if (i + 1 >= s_.size()) fail_syntax("unterminated string literal", at);
      const char e = s_[i + 1];
      i += 2;
      auto hex = [&](int n) -> char32_t {
        char32_t x = 0;
        for (int k = 0; k < n; ++k, ++i) {
          if (i >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i])))
            fail_syntax("truncated \\x, \\u or \\U escape in string literal", at);
          const char h = s_[i];
          x = x * 16 + static_cast<char32_t>(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        return x;
      };
      switch (e) {
        case '\n':
          break;  // line continuation
        case '\\':
        case '\'':
        case '"':
          v += e;
          break;
        case 'n':
          v += '\n';
          break;
        case 't':
          v += '\t';
          break;
        case 'r':
          v += '\r';
          break;
        case 'a':
          v += '\a';
          break;
        case 'b':
          v += '\b';
          break;
        case 'f':
          v += '\f';
          break;
        case 'v':
          v += '\v';
          break;
        case 'x':
          py::utf8_append(v, hex(2));
          break;
        case 'u':
        case 'U': {
          const char32_t cp = hex(e == 'u' ? 4 : 8);
          if (cp > 0x10FFFF) fail_syntax("\\U escape out of range", at);
          py::utf8_append(v, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            char32_t x = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && i < s_.size() && s_[i] >= '0' && s_[i] <= '7'; ++k, ++i)
              x = x * 8 + static_cast<char32_t>(s_[i] - '0');
            py::utf8_append(v, x);
          } else {
            v += '\\';  // unknown escapes keep their backslash, as in Python
            v += e;
          }
      }
    }
    push(Token::Type::String, at).text = std::move(v);
    return i + 1;
  }

  void emit_text(std::string_view text, uint32_t at) {
    if (!text.empty()) push(Token::Type::Text, at).text = std::string(text);
  }

  Token& push(Token::Type type, uint32_t at) {
    Token& t = out_.emplace_back();
    t.type = type;
    t.offset = at;
    return t;
  }

  std::string_view s_;
  LexOptions opt_;
  size_t pos_ = 0;
  bool line_starting_ = true;  // the previous tag ended a line (for lstrip_blocks)
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace sf::jinja
