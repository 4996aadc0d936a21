// `starfire gen-model`: write a random-weight model in the real shape of a
// popular model, so speed can be measured without downloads.
#include <cstdio>

#include "cli/command.h"
#include "cli/common.h"
#include "models/model_shapes.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  Args args(
      "gen-model", "--shape PRESET --type TYPE -o out.gguf",
      {{"--arch", "", "ARCH", "override the architecture (llama, qwen2, qwen3)", ""},
       {"--shape", "", "NAME", "shape preset (--list-shapes)", "tiny"},
       {"--type", "", "TYPE", "type of every 2-D weight (F32, F16, BF16, Q8_0, Q4_K ...)", "F16"},
       {"--output", "-o", "PATH", "output GGUF file", ""},
       {"--seed", "-s", "S", "random seed", "1"},
       {"--layers", "", "N", "override the layer count", ""},
       {"--list-shapes", "", "", "list the shape presets", ""}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  if (args.flag("--list-shapes")) {
    for (const auto& p : shape_presets()) std::printf("%-16s %s\n", p.name, p.description);
    return 0;
  }
  auto spec = find_shape(args.str("--shape"));
  if (!spec) return fail("unknown shape '" + args.str("--shape") + "' (see --list-shapes)");
  auto type = type_from_name(args.str("--type"));
  if (!type || !traits(*type).computable)
    return fail("unknown or unsupported --type '" + args.str("--type") + "'");
  if (args.str("--output").empty()) return fail("give an output file with -o");
  spec->type = *type;
  if (args.has("--arch")) spec->arch = args.str("--arch");
  auto seed = args.integer("--seed");
  if (!seed.ok()) return fail(seed.status().message());
  spec->seed = static_cast<uint64_t>(*seed);
  if (args.has("--layers")) {
    auto layers = args.integer("--layers");
    if (!layers.ok() || *layers <= 0) return fail("--layers expects a positive integer");
    spec->n_layer = *layers;
  }
  std::fprintf(stderr, "writing %s (%s, %d layers, %s) ...\n", args.str("--output").c_str(),
               spec->arch.c_str(), spec->n_layer, type_name(*type));
  if (Status s = write_random_model(*spec, args.str("--output")); !s.ok()) return fail(s.message());
  return 0;
}

const RegisterCommand reg({"gen-model", "write a random-weight model of a real model's shape",
                           run});

}  // namespace
}  // namespace sf::cli
