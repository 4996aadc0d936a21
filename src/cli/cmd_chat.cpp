// `starfire chat`: an interactive conversation using the model's own chat
// template. Each turn re-renders the whole conversation (as the template
// defines it) and reuses the KV cache for the unchanged prefix.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/common.h"
#include "runtime/generate.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  std::vector<Flag> flags = model_flags();
  flags.push_back(lora_flag());
  for (auto& f : sampling_flags()) flags.push_back(f);
  flags.push_back({"--system", "", "TEXT", "system prompt", ""});
  flags.push_back({"--chat-template-file", "", "PATH", "use this Jinja template instead", ""});
  flags.push_back({"--n-predict", "-n", "N", "max tokens per reply (-1: until end)", "-1"});
  flags.push_back({"--kwargs", "", "JSON", "extra template variables", ""});
  Args args("chat", "-m MODEL.gguf [options]   (type /reset to start over, /exit to quit)", flags);
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  auto model = load_model(args);
  if (!model.ok()) return fail(model.status().message());
  const Tokenizer* tok = (*model)->tokenizer();
  if (!tok) return fail("this model has no usable tokenizer: " + (*model)->tokenizer_error());
  std::string tmpl = tok->chat_template();
  if (args.has("--chat-template-file")) {
    std::ifstream f(args.str("--chat-template-file"), std::ios::binary);
    if (!f) return fail("cannot read " + args.str("--chat-template-file"));
    std::stringstream ss;
    ss << f.rdbuf();
    tmpl = ss.str();
  }
  if (tmpl.empty())
    return fail("the model has no chat template; give one with --chat-template-file FILE");
  auto sp = sampler_params(args);
  if (!sp.ok()) return fail(sp.status().message());
  auto threads = args.integer("--threads");
  auto ctx = args.integer("--ctx-size");
  auto n_predict = args.integer("--n-predict");
  for (auto* r : {&threads, &ctx, &n_predict})
    if (!r->ok()) return fail(r->status().message());

  ChatTemplateInputs in;
  if (tok->bos_id() >= 0) in.bos_token = tok->token_text(tok->bos_id());
  if (tok->eos_id() >= 0) in.eos_token = tok->token_text(tok->eos_id());
  in.add_generation_prompt = true;
  if (args.has("--kwargs")) {
    auto kw = nlohmann::ordered_json::parse(args.str("--kwargs"), nullptr, false);
    if (kw.is_discarded() || !kw.is_object()) return fail("--kwargs must be a JSON object");
    in.extra = kw;
  }
  auto reset = [&] {
    in.messages = nlohmann::ordered_json::array();
    if (args.has("--system"))
      in.messages.push_back({{"role", "system"}, {"content", args.str("--system")}});
  };
  reset();

  SessionOptions so;
  so.n_threads = *threads;
  so.n_ctx = *ctx;
  auto lora = load_loras(args, **model);
  if (!lora.ok()) return fail(lora.status().message());
  so.lora = *lora;
  Session session(*model, so);
  Sampler sampler(*sp);
  GenerateOptions go;
  go.n_predict = *n_predict;
  go.reuse_prefix = true;
  std::fprintf(stderr, "starfire chat: %s (context %d). /reset starts over, /exit quits.\n",
               (*model)->config().name.c_str(), session.n_ctx());

  const bool stdin_is_terminal = isatty(STDIN_FILENO) != 0;
  std::string line;
  for (;;) {
    std::fputs("\n> ", stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    // Piped input is not echoed by a terminal: print it, so the output reads
    // as a transcript.
    if (!stdin_is_terminal) std::printf("%s\n", line.c_str());
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      reset();
      session.truncate(0);
      std::fputs("(conversation reset)\n", stdout);
      continue;
    }
    if (line.empty()) continue;
    in.messages.push_back({{"role", "user"}, {"content", line}});
    auto prompt_text = render_chat_template(tmpl, in);
    if (!prompt_text.ok()) return fail(prompt_text.status().message());
    // The template writes BOS itself when the model wants one; add it only if missing.
    std::vector<int32_t> ids = tok->encode(*prompt_text, false, true);
    if (tok->add_bos() && tok->bos_id() >= 0 && (ids.empty() || ids[0] != tok->bos_id()))
      ids.insert(ids.begin(), tok->bos_id());
    StreamDecoder dec(*tok);
    dec.set_prev(ids.back());
    std::string reply;
    sampler.reset();
    auto st = generate(session, ids, sampler, go, [&](int32_t id) {
      std::string piece = dec.push(id);
      reply += piece;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    if (!st.ok()) {
      std::fprintf(stderr, "\nstarfire: %s\n", st.status().message().c_str());
      in.messages.erase(in.messages.end() - 1);
      continue;
    }
    std::string rest = dec.flush();
    reply += rest;
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
    in.messages.push_back({{"role", "assistant"}, {"content", reply}});
    std::fprintf(stderr, "[%d prompt tokens processed, %d generated, %.1f tok/s]\n", st->n_prompt,
                 st->n_generated, st->n_generated / std::max(st->gen_seconds, 1e-9));
  }
  return 0;
}

const RegisterCommand reg({"chat", "interactive chat with the model's chat template", run});

}  // namespace
}  // namespace sf::cli
