// `starfire run`: generate text from a prompt, streaming it to stdout, with
// prompt and generation speed on stderr (or one JSON object with --json).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common.h"
#include "core/cpu.h"
#include "runtime/generate.h"
#include "tokenizer/tokenizer.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  std::vector<Flag> flags = model_flags();
  flags.push_back(lora_flag());
  for (auto& f : prompt_flags()) flags.push_back(f);
  for (auto& f : sampling_flags()) flags.push_back(f);
  flags.push_back(
      {"--n-predict", "-n", "N", "tokens to generate (-1: until end or context full)", "128"});
  flags.push_back({"--ignore-eos", "", "", "keep generating past end-of-generation tokens", ""});
  flags.push_back({"--json", "", "", "print one JSON object {prompt_ids, ids, text} instead", ""});
  Args args("run", "-m MODEL.gguf -p PROMPT [options]", flags);
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  auto model = load_model(args);
  if (!model.ok()) return fail(model.status().message());
  auto prompt = prompt_ids(args, **model);
  if (!prompt.ok()) return fail(prompt.status().message());
  auto sp = sampler_params(args);
  if (!sp.ok()) return fail(sp.status().message());
  auto n_predict = args.integer("--n-predict");
  auto threads = args.integer("--threads");
  auto ctx = args.integer("--ctx-size");
  auto batch = args.integer("--batch-size");
  for (auto* r : {&n_predict, &threads, &ctx, &batch})
    if (!r->ok()) return fail(r->status().message());
  if (*batch <= 0) return fail("--batch-size must be positive");

  SessionOptions so;
  so.n_ctx = *ctx;
  so.n_threads = *threads;
  so.n_batch = *batch;
  auto lora = load_loras(args, **model);
  if (!lora.ok()) return fail(lora.status().message());
  so.lora = *lora;
  Session session(*model, so);
  Sampler sampler(*sp);
  GenerateOptions go;
  go.n_predict = *n_predict;
  go.stop_at_eog = !args.flag("--ignore-eos");

  const bool json = args.flag("--json");
  const Tokenizer* tok = (*model)->tokenizer();
  std::vector<int32_t> out_ids;
  std::string text;
  std::optional<StreamDecoder> dec;
  if (tok) {
    dec.emplace(*tok);
    dec->set_prev(prompt->back());
  }
  auto st = generate(session, *prompt, sampler, go, [&](int32_t id) {
    out_ids.push_back(id);
    if (dec) {
      std::string piece = dec->push(id);
      if (json) {
        text += piece;
      } else {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      }
    }
    return true;
  });
  if (!st.ok()) return fail(st.status().message());
  if (dec) {
    std::string rest = dec->flush();
    if (json)
      text += rest;
    else
      std::fwrite(rest.data(), 1, rest.size(), stdout);
  }
  if (json) {
    nlohmann::json j;
    j["prompt_ids"] = *prompt;
    j["ids"] = out_ids;
    j["text"] = text;
    // Invalid UTF-8 cannot be produced by the stream decoder, but a model
    // without a tokenizer yields no text at all; replace rather than throw.
    std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  const GenerateStats& g = *st;
  std::fprintf(stderr,
               "\nprompt: %d tokens in %.3f s (%.2f tok/s) | generation: %d tokens in %.3f s "
               "(%.2f tok/s) | stop: %s | threads: %d | kernels: %s\n",
               g.n_prompt, g.prompt_seconds, g.n_prompt / std::max(g.prompt_seconds, 1e-9),
               g.n_generated, g.gen_seconds, g.n_generated / std::max(g.gen_seconds, 1e-9),
               g.stop_reason.c_str(), session.n_threads(), isa_name(active_isa()));
  return 0;
}

const RegisterCommand reg({"run", "generate text from a prompt", run});

}  // namespace
}  // namespace sf::cli
