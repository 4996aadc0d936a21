#include "tokenizer/jinja/template.h"

#include <new>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/jinja/pystr.h"

namespace sf::jinja {

namespace {

// 1-based line and column (in code points) of a byte offset.
std::string position(std::string_view src, uint32_t offset) {
  if (offset == kNoOffset) return "";
  const size_t off = std::min<size_t>(offset, src.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < off; ++i)
    if (src[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  const size_t col = py::codepoint_count(src.substr(line_start, off - line_start)) + 1;
  return std::to_string(line) + ":" + std::to_string(col);
}

Status to_status(const Error& e, std::string_view src) {
  const std::string at = position(src, e.offset);
  const std::string where = at.empty() ? "" : " at " + at;
  switch (e.kind) {
    case Error::Kind::Syntax:
      return Status::error("template syntax error" + where + ": " + e.message);
    case Error::Kind::Raised:
      return Status::error("template raised an exception" + where + ": " + e.message);
    case Error::Kind::Limit:
      return Status::error("template limit exceeded" + where + ": " + e.message);
    case Error::Kind::Runtime:
      break;
  }
  return Status::error("template error" + where + ": " + e.message);
}

}  // namespace

Result<Template> Template::parse(std::string_view source) {
  return parse(source, ParseOptions{});
}

Result<Template> Template::parse(std::string_view source, const ParseOptions& options) {
  auto program = std::make_shared<Program>();
  try {
    if (source.size() > 0x7fffffff)
      return Status::error("template syntax error: template larger than 2 GiB");
    program->source = normalize_newlines(source, options.keep_trailing_newline);
    const std::vector<Token> tokens =
        tokenize(program->source, {options.trim_blocks, options.lstrip_blocks});
    program->body = parse_tokens(tokens, options.max_nesting);
  } catch (const Error& e) {
    return to_status(e, program->source);
  } catch (const std::bad_alloc&) {
    return Status::error("template syntax error: out of memory while parsing");
  }
  return Template(std::move(program));
}

Result<std::string> Template::render(const nlohmann::ordered_json& context,
                                     const Limits& limits) const {
  try {
    Renderer r(*program_, limits);
    return r.run(context);
  } catch (const Error& e) {
    return to_status(e, program_->source);
  } catch (const std::bad_alloc&) {
    return Status::error("template error: out of memory while rendering");
  } catch (const std::exception& e) {
    return Status::error(std::string("template error: ") + e.what());
  }
}

}  // namespace sf::jinja
