#include "tokenizer/chat_template.h"

namespace sf {

nlohmann::ordered_json chat_template_context(const ChatTemplateInputs& in) {
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = in.messages;
  ctx["tools"] = in.tools;  // HF passes tools=None when there are none, so `tools` is defined
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = in.add_generation_prompt;
  ctx["bos_token"] = in.bos_token;
  ctx["eos_token"] = in.eos_token;
  if (in.extra.is_object())
    for (auto it = in.extra.begin(); it != in.extra.end(); ++it) ctx[it.key()] = it.value();
  return ctx;
}

Result<std::string> render_chat_template(const jinja::Template& tmpl, const ChatTemplateInputs& in,
                                         const jinja::Limits& limits) {
  if (!in.extra.is_null() && !in.extra.is_object())
    return Status::error("chat template: extra variables must be a JSON object");
  return tmpl.render(chat_template_context(in), limits);
}

Result<std::string> render_chat_template(std::string_view tmpl, const ChatTemplateInputs& in) {
  auto parsed = jinja::Template::parse(tmpl);
  if (!parsed.ok()) return parsed.status();
  return render_chat_template(*parsed, in);
}

}  // namespace sf
