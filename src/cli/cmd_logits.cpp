// `starfire logits`: the logits of every prompt position, for checking the
// forward pass against a reference implementation.
#include <cstdio>
#include <string>

#include "cli/command.h"
#include "cli/common.h"
#include "runtime/session.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  std::vector<Flag> flags = model_flags();
  flags.push_back(lora_flag());
  for (auto& f : prompt_flags()) flags.push_back(f);
  flags.push_back({"--json", "", "", "print {\"ids\": [...], \"logits\": [[...], ...]}", ""});
  Args args("logits", "-m MODEL.gguf (-p PROMPT | --prompt-ids 1,2,3) --json", flags);
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  auto model = load_model(args);
  if (!model.ok()) return fail(model.status().message());
  auto ids = prompt_ids(args, **model);
  if (!ids.ok()) return fail(ids.status().message());
  auto threads = args.integer("--threads");
  auto ctx = args.integer("--ctx-size");
  if (!threads.ok()) return fail(threads.status().message());
  if (!ctx.ok()) return fail(ctx.status().message());
  SessionOptions so;
  so.n_threads = *threads;
  so.n_ctx = *ctx > 0 ? *ctx : std::max<int>(static_cast<int>(ids->size()), 1);
  auto lora = load_loras(args, **model);
  if (!lora.ok()) return fail(lora.status().message());
  so.lora = *lora;
  Session session(*model, so);
  std::vector<float> logits;
  if (Status s = session.feed(*ids, &logits); !s.ok()) return fail(s.message());

  const size_t vocab = static_cast<size_t>((*model)->config().n_vocab);
  std::string out = "{\"ids\": [";
  for (size_t i = 0; i < ids->size(); ++i) out += (i ? ", " : "") + std::to_string((*ids)[i]);
  out += "], \"logits\": [";
  for (size_t r = 0; r < ids->size(); ++r) {
    out += r ? ", [" : "[";
    for (size_t v = 0; v < vocab; ++v) {
      if (v) out += ", ";
      out += float_str(logits[r * vocab + v]);
    }
    out += "]";
  }
  out += "]}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

const RegisterCommand reg({"logits", "print the logits of every prompt position", run});

}  // namespace
}  // namespace sf::cli
