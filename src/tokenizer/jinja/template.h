// Jinja2 templates for chat prompts: parse once, render many times.
//
// Our own interpreter of the Jinja subset real chat templates use (Qwen,
// Llama 3.x, Mistral, Gemma, DeepSeek, Phi, ChatML ...), with the settings
// Hugging Face's apply_chat_template uses: trim_blocks and lstrip_blocks on,
// loop controls (break/continue), HF's `tojson` (ensure_ascii=False, indent),
// raise_exception() and strftime_now(). Values follow Python semantics.
//
// Templates come from model files, so they are untrusted: every failure is a
// Status (syntax errors and runtime errors say line:col), and rendering is
// bounded in output size, work (steps) and recursion depth.
//
// Thread-safety: a parsed Template is immutable; render() may be called from
// many threads at once. Rendering uses the calling thread's stack: up to
// 16 * max_depth nested evaluation frames, well within a 1 MiB stack at the
// defaults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace sf::jinja {

struct Program;

struct Limits {
  size_t max_output_bytes = 8 << 20;  // bound on the output and on any string built
  int max_depth = 200;                // macro / recursive-loop call depth
  uint64_t max_steps = 10'000'000;    // statements + expressions + loop iterations + bulk work
};

struct ParseOptions {
  bool trim_blocks = true;             // as in transformers' apply_chat_template
  bool lstrip_blocks = true;           // as in transformers' apply_chat_template
  bool keep_trailing_newline = false;  // Jinja's default
  int max_nesting = 256;               // nesting of blocks, brackets and operators
};

// Context key that fixes the clock for strftime_now() (reproducible renders):
// an integer Unix time (seconds, rendered as UTC) or a string
// "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM:SS" (UTC). Without it, local time now.
inline constexpr const char* kNowContextKey = "__now__";

class Template {
 public:
  // Syntax errors come back as "template syntax error at LINE:COL: ...".
  static Result<Template> parse(std::string_view source);
  static Result<Template> parse(std::string_view source, const ParseOptions& options);

  // `context` must be a JSON object; its keys become template variables.
  // Errors: "template error at LINE:COL: ...", or for raise_exception()
  // "template raised an exception at LINE:COL: <message>".
  Result<std::string> render(const nlohmann::ordered_json& context,
                             const Limits& limits = {}) const;

 private:
  explicit Template(std::shared_ptr<const Program> p) : program_(std::move(p)) {}
  std::shared_ptr<const Program> program_;
};

}  // namespace sf::jinja
