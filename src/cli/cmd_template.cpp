// `starfire template`: render a chat template the way the model's own
// tokenizer_config / GGUF template renders it.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "cli/common.h"
#include "formats/gguf.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace sf::cli {
namespace {

Result<std::string> read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return errorf("cannot read '%s'", path.c_str());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Result<nlohmann::ordered_json> read_json(const std::string& path, const char* what) {
  SF_ASSIGN_OR_RETURN(std::string text, read_text(path));
  auto j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (j.is_discarded()) return errorf("%s '%s' is not valid JSON", what, path.c_str());
  return j;
}

// The template, bos and eos from a GGUF file or a tokenizer_config.json.
Status template_source(const Args& args, std::string& tmpl, std::string& bos, std::string& eos) {
  if (args.has("--tokenizer-config")) {
    SF_ASSIGN_OR_RETURN(auto cfg, read_json(args.str("--tokenizer-config"), "tokenizer config"));
    auto text_of = [](const nlohmann::ordered_json& v) -> std::string {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_object() && v.contains("content") && v["content"].is_string())
        return v["content"].get<std::string>();
      return "";
    };
    if (cfg.contains("chat_template")) {
      const auto& t = cfg["chat_template"];
      if (t.is_string()) {
        tmpl = t.get<std::string>();
      } else if (t.is_array()) {  // named templates: take "default"
        for (const auto& e : t)
          if (e.value("name", "") == "default") tmpl = e.value("template", "");
      }
    }
    if (cfg.contains("bos_token")) bos = text_of(cfg["bos_token"]);
    if (cfg.contains("eos_token")) eos = text_of(cfg["eos_token"]);
  } else if (args.has("--model")) {
    SF_ASSIGN_OR_RETURN(auto f, gguf::GgufFile::open(args.str("--model")));
    auto tok = Tokenizer::from_gguf(*f);
    if (!tok.ok()) return tok.status();
    tmpl = (*tok)->chat_template();
    if ((*tok)->bos_id() >= 0) bos = (*tok)->token_text((*tok)->bos_id());
    if ((*tok)->eos_id() >= 0) eos = (*tok)->token_text((*tok)->eos_id());
  }
  if (args.has("--chat-template-file")) {
    SF_ASSIGN_OR_RETURN(tmpl, read_text(args.str("--chat-template-file")));
  }
  if (tmpl.empty()) return Status::error("no chat template found; give --chat-template-file FILE");
  return {};
}

int run(int argc, char** argv) {
  Args args("template",
            "(-m MODEL.gguf | --tokenizer-config tokenizer_config.json) --messages messages.json "
            "[--add-generation-prompt] [--tools tools.json] [--kwargs JSON]",
            {{"--model", "-m", "PATH", "GGUF file with tokenizer.chat_template", ""},
             {"--tokenizer-config", "", "PATH", "Hugging Face tokenizer_config.json", ""},
             {"--chat-template-file", "", "PATH", "a Jinja template file (overrides)", ""},
             {"--messages", "", "PATH", "JSON array of OpenAI-style messages", ""},
             {"--tools", "", "PATH", "JSON array of tool definitions", ""},
             {"--add-generation-prompt", "", "", "end with the assistant turn's opening", ""},
             {"--kwargs", "", "JSON",
              "extra template variables, e.g. '{\"enable_thinking\": false}'", ""}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  if (!args.has("--messages")) return fail("give --messages messages.json");
  ChatTemplateInputs in;
  std::string tmpl;
  if (Status s = template_source(args, tmpl, in.bos_token, in.eos_token); !s.ok())
    return fail(s.message());
  auto msgs = read_json(args.str("--messages"), "messages file");
  if (!msgs.ok()) return fail(msgs.status().message());
  if (!msgs->is_array()) return fail("the messages file must hold a JSON array of messages");
  in.messages = *msgs;
  if (args.has("--tools")) {
    auto tools = read_json(args.str("--tools"), "tools file");
    if (!tools.ok()) return fail(tools.status().message());
    in.tools = *tools;
  }
  if (args.has("--kwargs")) {
    auto kw = nlohmann::ordered_json::parse(args.str("--kwargs"), nullptr, false);
    if (kw.is_discarded() || !kw.is_object()) return fail("--kwargs must be a JSON object");
    in.extra = kw;
  }
  in.add_generation_prompt = args.flag("--add-generation-prompt");
  auto out = render_chat_template(tmpl, in);
  if (!out.ok()) return fail(out.status().message());
  std::fwrite(out->data(), 1, out->size(), stdout);
  return 0;
}

const RegisterCommand reg({"template", "render a chat template for a conversation", run});

}  // namespace
}  // namespace sf::cli
