// Chat templates: every render in the shared fixture (Qwen3, Qwen2.5, Llama 3,
// Llama 3.1; produced by transformers' apply_chat_template) must match byte
// for byte, and short templates in the style of other model families
// (ChatML, Mistral, Gemma, DeepSeek, Phi-3) must render as Jinja2 does.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/chat_template.h"

namespace {

using nlohmann::ordered_json;

// Fixture "input" objects -> ChatTemplateInputs (unknown keys are template
// variables, e.g. enable_thinking).
sf::ChatTemplateInputs inputs_from(const ordered_json& input, const ordered_json& tmpl) {
  sf::ChatTemplateInputs in;
  for (auto it = input.begin(); it != input.end(); ++it) {
    if (it.key() == "messages") {
      in.messages = it.value();
    } else if (it.key() == "tools") {
      in.tools = it.value();
    } else if (it.key() == "add_generation_prompt") {
      in.add_generation_prompt = it.value().get<bool>();
    } else {
      in.extra[it.key()] = it.value();
    }
  }
  if (tmpl["bos_token"].is_string()) in.bos_token = tmpl["bos_token"].get<std::string>();
  if (tmpl["eos_token"].is_string()) in.eos_token = tmpl["eos_token"].get<std::string>();
  return in;
}

TEST(ChatTemplates, FixtureRendersMatchTransformersByteForByte) {
  SF_REQUIRE_FIXTURE("tokenizers/chat_templates.json");
  const ordered_json fx =
      ordered_json::parse(sf::test::read_file(sf::test::fixture("tokenizers/chat_templates.json")));
  int renders = 0, matched = 0;
  for (auto& [name, tmpl] : fx["templates"].items()) {
    const std::string source = tmpl["chat_template"].get<std::string>();
    auto parsed = sf::jinja::Template::parse(source);
    ASSERT_TRUE(parsed.ok()) << name << ": " << parsed.status().message();
    for (auto& [case_name, r] : tmpl["renders"].items()) {
      ++renders;
      auto out = sf::render_chat_template(*parsed, inputs_from(r["input"], tmpl));
      ASSERT_TRUE(out.ok()) << name << "/" << case_name << ": " << out.status().message();
      const std::string expected = r["rendered"].get<std::string>();
      EXPECT_EQ(*out, expected) << name << "/" << case_name;
      matched += *out == expected;
    }
  }
  EXPECT_EQ(renders, 16);
  EXPECT_EQ(matched, renders);
}

TEST(ChatTemplates, Llama31TemplateFileMatchesTheJson) {
  SF_REQUIRE_FIXTURE("tokenizers/templates/meta-llama-Llama-3.1-8B-Instruct.jinja");
  SF_REQUIRE_FIXTURE("tokenizers/chat_templates.json");
  const ordered_json fx =
      ordered_json::parse(sf::test::read_file(sf::test::fixture("tokenizers/chat_templates.json")));
  const ordered_json& tmpl = fx["templates"]["llama3_1"];
  const std::string file = sf::test::read_file(
      sf::test::fixture("tokenizers/templates/meta-llama-Llama-3.1-8B-Instruct.jinja"));
  const ordered_json& r = tmpl["renders"]["tools"];
  auto out = sf::render_chat_template(file, inputs_from(r["input"], tmpl));
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, r["rendered"].get<std::string>());
}

TEST(ChatTemplates, FixtureTemplatesWithToolCallsAndErrors) {
  SF_REQUIRE_FIXTURE("tokenizers/chat_templates.json");
  const ordered_json fx =
      ordered_json::parse(sf::test::read_file(sf::test::fixture("tokenizers/chat_templates.json")));
  // A tool-call round trip through Qwen3 (expected output from transformers'
  // Jinja setup): arguments as a dict become JSON, consecutive tool results
  // share one user turn.
  sf::ChatTemplateInputs in;
  in.messages = ordered_json::parse(R"([
    {"role": "user", "content": "weather?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "北京"}}}]},
    {"role": "tool", "content": "{\"temp\": 20}"},
    {"role": "tool", "content": "second"},
    {"role": "assistant", "content": "<think>\nok\n</think>\n\nIt is 20C."}])");
  auto out =
      sf::render_chat_template(fx["templates"]["qwen3"]["chat_template"].get<std::string>(), in);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out,
            "<|im_start|>user\nweather?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": "
            "\"get_weather\", "
            "\"arguments\": {\"city\": "
            "\"北京\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": "
            "20}\n</tool_response>\n<tool_response>\nsecond\n</"
            "tool_response><|im_end|>\n<|im_start|>assistant\n<think>\nok\n"
            "</think>\n\nIt is 20C.<|im_end|>\n");

  // Llama 3.1 refuses parallel tool calls through raise_exception().
  in.messages = ordered_json::parse(R"([{"role": "user", "content": "x"},
    {"role": "assistant", "tool_calls": [{"function": {"name": "a", "arguments": {}}}, {"function": {"name": "b", "arguments": {}}}]}])");
  out =
      sf::render_chat_template(fx["templates"]["llama3_1"]["chat_template"].get<std::string>(), in);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("This model only supports single tool-calls at once!"),
            std::string::npos)
      << out.status().message();
}

// ---- templates in the style of other families (our own short versions) ----

const char* kChatML =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] "
    "+ '<|im_end|>' + "
    "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const char* kMistral =
    "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = "
    "messages[0]['content'] %}\n    {%- set "
    "loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- "
    "endif %}\n{{- bos_token "
    "}}\n{%- for message in loop_messages %}\n    {%- if (message['role'] == 'user') != "
    "(loop.index0 % 2 == 0) %}\n     "
    "   {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') "
    "}}\n    {%- endif "
    "%}\n    {%- if message['role'] == 'user' %}\n        {%- if loop.first and system_message is "
    "defined %}\n         "
    "   {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        "
    "{%- else %}\n        "
    "    {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n    {%- elif "
    "message['role'] == "
    "'assistant' %}\n        {{- ' ' + message['content'] + eos_token }}\n    {%- endif %}\n{%- "
    "endfor %}\n";

const char* kGemma =
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not "
    "supported') }}{% endif "
    "%}{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' "
    "%}{% else %}{% set "
    "role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] "
    "| trim + "
    "'<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt "
    "%}{{'<start_of_turn>model\\n'}}{% endif %}";

const char* kDeepSeek =
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif "
    "%}{% set ns = "
    "namespace(system_prompt='') %}{%- for message in messages %}{%- if message['role'] == "
    "'system' %}{% set "
    "ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{ bos_token }}{{ "
    "ns.system_prompt }}{%- for "
    "message in messages %}{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] "
    "}}{%- elif "
    "message['role'] == 'assistant' and message['content'] is not none %}{% set content = "
    "message['content'] %}{% if "
    "'</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{ "
    "'<｜Assistant｜>' + content "
    "+ '<｜end▁of▁sentence｜>' }}{%- endif %}{%- endfor -%}{% if add_generation_prompt %}{{ "
    "'<｜Assistant｜><think>\\n' "
    "}}{% endif %}";

const char* kPhi3 =
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\\n' + "
    "message['content'] + "
    "'<|end|>\\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + "
    "'<|end|>\\n'}}{% elif "
    "message['role'] == 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% "
    "endif %}{% endfor "
    "%}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}";

sf::ChatTemplateInputs conversation(bool with_system, bool add_generation_prompt) {
  sf::ChatTemplateInputs in;
  in.messages = ordered_json::parse(
      R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
      {"role": "assistant", "content": "<think>hmm</think>Hello!"}, {"role": "user", "content": "  Bye  "}])");
  if (!with_system) in.messages.erase(in.messages.begin());
  in.add_generation_prompt = add_generation_prompt;
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  return in;
}

std::string render_or_error(const char* tmpl, const sf::ChatTemplateInputs& in) {
  auto out = sf::render_chat_template(tmpl, in);
  return out.ok() ? *out : "ERROR: " + out.status().message();
}

TEST(ChatTemplates, FamilyStyles) {
  // Expected outputs from Python Jinja2 with transformers' settings.
  EXPECT_EQ(
      render_or_error(kChatML, conversation(true, true)),
      "<|im_start|>system\nBe "
      "brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>hmm"
      "</think>Hello!<|im_end|>\n<|im_start|>user\n  Bye  <|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(
      render_or_error(kMistral, conversation(true, true)),
      "<s> [INST] Be brief.\n\nHi [/INST] <think>hmm</think>Hello!</s> [INST]   Bye   [/INST]");
  EXPECT_EQ(render_or_error(kMistral, conversation(false, false)),
            "<s> [INST] Hi [/INST] <think>hmm</think>Hello!</s> [INST]   Bye   [/INST]");
  EXPECT_EQ(render_or_error(kGemma, conversation(false, false)),
            "<s><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n<think>hmm</"
            "think>Hello!<end_of_turn>\n"
            "<start_of_turn>user\nBye<end_of_turn>\n");
  EXPECT_EQ(render_or_error(kDeepSeek, conversation(true, true)),
            "<s>Be brief.<｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜><｜User｜>  Bye  "
            "<｜Assistant｜><think>\n");
  EXPECT_EQ(render_or_error(kDeepSeek, conversation(false, false)),
            "<s><｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜><｜User｜>  Bye  ");
  EXPECT_EQ(render_or_error(kPhi3, conversation(true, true)),
            "<|system|>\nBe "
            "brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n<think>hmm</"
            "think>Hello!<|end|>\n<|user|>\n"
            "  Bye  <|end|>\n<|assistant|>\n");
  EXPECT_EQ(render_or_error(kPhi3, conversation(false, false)),
            "<|user|>\nHi<|end|>\n<|assistant|>\n<think>hmm</think>Hello!<|end|>\n<|user|>\n  Bye  "
            "<|end|>\n</s>");
}

TEST(ChatTemplates, TemplateErrorsSurface) {
  EXPECT_EQ(render_or_error(kGemma, conversation(true, true)),
            "ERROR: template raised an exception at 1:59: System role not supported");
  sf::ChatTemplateInputs bad = conversation(false, true);
  bad.messages.erase(bad.messages.begin());  // starts with the assistant
  EXPECT_NE(render_or_error(kMistral, bad).find("Conversation roles must alternate"),
            std::string::npos);
  EXPECT_NE(render_or_error("{% for m in messages %}", bad).find("template syntax error at 1:1"),
            std::string::npos);
}

TEST(ChatTemplates, ContextLikeApplyChatTemplate) {
  sf::ChatTemplateInputs in;
  in.messages = ordered_json::parse(R"([{"role": "user", "content": "Hi"}])");
  in.extra["enable_thinking"] = false;
  in.extra["custom"] = "v";
  // tools is defined but none when absent (HF passes tools=None).
  EXPECT_EQ(render_or_error("{{ tools is defined }} {{ tools is none }} {{ add_generation_prompt "
                            "}} {{ bos_token|length }} "
                            "{{ enable_thinking }} {{ custom }} {{ messages|length }}",
                            in),
            "True True False 0 False v 1");
  in.tools = ordered_json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  EXPECT_EQ(render_or_error("{{ tools|tojson }}", in),
            "[{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]");
  // A template that needs today's date gets a reproducible one via __now__.
  in.extra["__now__"] = "2024-07-26";
  EXPECT_EQ(render_or_error("{{ strftime_now('%d %b %Y') }}", in), "26 Jul 2024");
}

}  // namespace
