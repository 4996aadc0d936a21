// `starfire lora`: LoRA adapter tools.
//   lora merge -m BASE.gguf --lora A.gguf[:SCALE] ... -o OUT.gguf [--type T]
//       bakes the adapters into a copy of the base (models/lora_merge.h);
//   lora convert IN OUT -m BASE
//       PEFT folder -> llama.cpp adapter GGUF, or adapter GGUF -> PEFT folder
//       (the base model supplies the configuration: architecture, heads for
//       the q/k row order, shapes to check).
// Applying adapters at inference is `--lora` on run, chat, logits and bench.
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "models/lora_merge.h"

namespace sf::cli {
namespace {

constexpr const char* kUsage =
    "usage: starfire lora merge -m BASE.gguf --lora A.gguf[:SCALE] [--lora ...] -o OUT.gguf "
    "[--type T]\n"
    "       starfire lora convert PEFT_DIR OUT.gguf -m BASE   (PEFT -> llama.cpp GGUF adapter)\n"
    "       starfire lora convert ADAPTER.gguf OUT_DIR -m BASE   (GGUF adapter -> PEFT folder)\n";

Result<std::shared_ptr<const Model>> base_model(const Args& args) {
  if (!args.has("--model"))
    return Status::error("give the base model with -m (its configuration checks the adapter)");
  return Model::load(args.str("--model"));
}

int merge(int argc, char** argv) {
  Args args("lora merge", "-m BASE.gguf --lora A.gguf[:SCALE] ... -o OUT.gguf [--type T]",
            {{"--model", "-m", "PATH", "base model (GGUF)", ""},
             lora_flag(),
             {"--output", "-o", "PATH", "merged model to write (GGUF)", ""},
             {"--type", "", "T",
              "type of the merged weights (F32, F16, Q8_0 ...; default: each weight's own)", ""},
             {"--threads", "-t", "N", "threads (0: all cores)", "0"}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  if (!args.has("--lora")) return fail("lora merge: give at least one --lora ADAPTER");
  if (!args.has("--output")) return fail("lora merge: give the output file with -o OUT.gguf");
  if (!args.positional().empty())
    return fail("lora merge: unexpected argument '" + args.positional()[0] + "'");
  LoraMergeOptions opt;
  if (args.has("--type")) {
    auto t = type_from_name(args.str("--type"));
    if (!t || !traits(*t).computable)
      return fail("lora merge: unknown or unsupported --type '" + args.str("--type") +
                  "' (e.g. F32, F16, BF16, Q8_0, Q4_K)");
    opt.out_type = *t;
  }
  auto threads = args.integer("--threads");
  if (!threads.ok()) return fail(threads.status().message());
  opt.n_threads = *threads;
  auto model = base_model(args);
  if (!model.ok()) return fail(model.status().message());
  auto adapters = read_loras(args, **model);
  if (!adapters.ok()) return fail(adapters.status().message());
  ProgressBar bar("lora merge");
  opt.progress = [&](size_t done, size_t total, uint64_t bytes) { bar.update(done, total, bytes); };
  auto rep = merge_lora(**model, *adapters, args.str("--output"), opt);
  bar.finish();
  if (!rep.ok()) return fail(rep.status().message());
  std::printf("%s: %zu tensors, %zu with adapters merged, %s\n", args.str("--output").c_str(),
              rep->n_tensors, rep->n_merged,
              human_bytes(static_cast<double>(rep->file_bytes)).c_str());
  return 0;
}

int convert(int argc, char** argv) {
  Args args("lora convert", "IN OUT -m BASE",
            {{"--model", "-m", "PATH", "base model the adapter belongs to", ""},
             {"--base-name", "", "NAME",
              "base_model_name_or_path for a PEFT folder (default: the model's name)", ""}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  if (args.positional().size() != 2) {
    std::fputs(kUsage, stderr);
    return 1;
  }
  const std::string& in = args.positional()[0];
  const std::string& out = args.positional()[1];
  auto model = base_model(args);
  if (!model.ok()) return fail(model.status().message());
  const ModelConfig& cfg = (*model)->config();
  if (std::filesystem::is_directory(in)) {
    auto a = load_lora_peft(in, cfg);
    if (!a.ok()) return fail(a.status().message());
    if (Status s = save_lora_gguf(*a, out); !s.ok()) return fail(s.message());
    std::printf("%s: LoRA adapter GGUF, %zu tensor pairs, rank %d, alpha %g\n", out.c_str(),
                a->tensors.size(), a->rank, a->alpha);
    return 0;
  }
  auto a = load_lora_gguf(in);
  if (!a.ok()) return fail(a.status().message());
  if (Status s = validate_lora(*a, cfg); !s.ok()) return fail(in + ": " + s.message());
  std::string name = args.str("--base-name");
  if (name.empty()) name = cfg.name.empty() ? args.str("--model") : cfg.name;
  if (Status s = save_lora_peft(*a, cfg, name, out); !s.ok()) return fail(s.message());
  std::printf("%s: PEFT adapter folder, %zu tensor pairs, r %d, lora_alpha %g\n", out.c_str(),
              a->tensors.size(), a->rank, a->alpha);
  return 0;
}

int run(int argc, char** argv) {
  if (argc >= 1 && std::strcmp(argv[0], "merge") == 0) return merge(argc - 1, argv + 1);
  if (argc >= 1 && std::strcmp(argv[0], "convert") == 0) return convert(argc - 1, argv + 1);
  const bool help =
      argc >= 1 && (std::strcmp(argv[0], "--help") == 0 || std::strcmp(argv[0], "-h") == 0);
  std::fputs(kUsage, help ? stdout : stderr);
  if (!help && argc >= 1) std::fprintf(stderr, "starfire lora: unknown subcommand '%s'\n", argv[0]);
  return help ? 0 : 1;
}

const RegisterCommand reg({"lora", "LoRA adapters: merge into a model, convert PEFT <-> GGUF",
                           run});

}  // namespace
}  // namespace sf::cli
