// Chat prompt rendering, as transformers' apply_chat_template does it.
//
// The model's Jinja `chat_template` (from GGUF metadata or
// tokenizer_config.json) is rendered with the variables HF passes:
// messages, tools (none when absent), documents (none), add_generation_prompt,
// bos_token, eos_token, plus any extra keys (enable_thinking, date_string,
// custom_tools ...). Extra keys win over the standard ones.
//
// Difference from HF: bos_token/eos_token are always defined (empty string
// when the model has none), where HF leaves a missing special token undefined.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "tokenizer/jinja/template.h"

namespace sf {

struct ChatTemplateInputs {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null if none
  bool add_generation_prompt = false;
  std::string bos_token, eos_token;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // e.g. enable_thinking
};

// The template context HF would build for these inputs.
nlohmann::ordered_json chat_template_context(const ChatTemplateInputs& in);

// Parses and renders in one go (parse errors and render errors both come back
// as a Status naming line:col).
Result<std::string> render_chat_template(std::string_view tmpl, const ChatTemplateInputs& in);
// For callers that keep the parsed template (a server renders it per request).
Result<std::string> render_chat_template(const jinja::Template& tmpl, const ChatTemplateInputs& in,
                                         const jinja::Limits& limits = {});

}  // namespace sf
