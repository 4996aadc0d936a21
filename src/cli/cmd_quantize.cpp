// `starfire quantize`: GGUF -> GGUF with llama.cpp's mixed recipes (models/quantize.h).
#include <cstdio>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "models/quantize.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  std::string types;
  for (const QuantRecipe& r : quant_recipes())
    types += std::string(types.empty() ? "" : ", ") + r.name;
  Args args("quantize", "IN.gguf OUT.gguf TYPE   (TYPE: " + types + ")",
            {{"--threads", "-t", "N", "threads (0: all cores)", "0"},
             {"--plan", "", "", "list each tensor's chosen type", ""}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help") || args.positional().size() != 3) {
    std::fputs(args.help().c_str(), args.flag("--help") ? stdout : stderr);
    return args.flag("--help") ? 0 : 1;
  }
  auto recipe = find_recipe(args.positional()[2]);
  if (!recipe) return fail("unknown type '" + args.positional()[2] + "' (known: " + types + ")");
  auto threads = args.integer("--threads");
  if (!threads.ok()) return fail(threads.status().message());
  QuantizeOptions opt;
  opt.n_threads = *threads;
  ProgressBar bar("quantize " + std::string(recipe->name));
  opt.progress = [&](size_t done, size_t total, uint64_t bytes) { bar.update(done, total, bytes); };
  auto rep = quantize_gguf(args.positional()[0], args.positional()[1], *recipe, opt);
  bar.finish();
  if (!rep.ok()) return fail(rep.status().message());
  if (args.flag("--plan"))
    for (const auto& [name, type] : rep->plan)
      std::printf("  %-40s %s\n", name.c_str(), type_name(type));
  std::printf("%s: %s, %.2f M parameters: %s -> %s (%.2f bits per weight)\n",
              args.positional()[1].c_str(), recipe->name, rep->n_params / 1e6,
              human_bytes(static_cast<double>(rep->bytes_in)).c_str(),
              human_bytes(static_cast<double>(rep->bytes_out)).c_str(), rep->bits_per_weight());
  std::printf("  file %s;", human_bytes(static_cast<double>(rep->file_bytes)).c_str());
  for (const auto& [type, cb] : rep->by_type)
    std::printf(" %s: %zu tensors (%s);", type.c_str(), cb.first,
                human_bytes(static_cast<double>(cb.second)).c_str());
  std::printf("\n");
  if (rep->n_fallback)
    std::printf("  %zu tensors used a fallback type (rows not a multiple of the block size)\n",
                rep->n_fallback);
  if (rep->requantized)
    std::fprintf(stderr,
                 "starfire: note: the input was already quantized; quantizing the "
                 "original f16/bf16 weights gives a better file\n");
  return 0;
}

const RegisterCommand reg({"quantize", "quantize a GGUF model (Q8_0 ... Q2_K, Q4_K_M ...)", run});

}  // namespace
}  // namespace sf::cli
