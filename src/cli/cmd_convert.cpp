// `starfire convert`: a Hugging Face folder to a GGUF file (models/hf_convert.h).
#include <cstdio>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "models/hf_convert.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  Args args("convert", "HF_FOLDER OUT.gguf [--type f16|bf16|f32|q8_0]",
            {{"--type", "", "TYPE", "type of 2-D weights: f16, bf16, f32 or q8_0", "f16"},
             {"--threads", "-t", "N", "threads for q8_0 (0: all cores)", "0"}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help") || args.positional().size() != 2) {
    std::fputs(args.help().c_str(), args.flag("--help") ? stdout : stderr);
    return args.flag("--help") ? 0 : 1;
  }
  auto type = type_from_name(args.str("--type"));
  if (!type) return fail("--type must be f16, bf16, f32 or q8_0, not '" + args.str("--type") + "'");
  auto threads = args.integer("--threads");
  if (!threads.ok()) return fail(threads.status().message());
  ConvertOptions opt;
  opt.out_type = *type;
  opt.n_threads = *threads;
  ProgressBar bar("convert");
  opt.progress = [&](size_t done, size_t total, uint64_t bytes) { bar.update(done, total, bytes); };
  const std::string& out = args.positional()[1];
  auto rep = convert_hf_to_gguf(args.positional()[0], out, opt);
  bar.finish();
  if (!rep.ok()) return fail(rep.status().message());
  std::printf("wrote %s: arch %s, %zu tensors, %.2f M parameters, %.2f MiB, %.2f bits per weight",
              out.c_str(), rep->arch.c_str(), rep->n_tensors, rep->n_params / 1e6,
              rep->tensor_bytes / 1048576.0,
              rep->n_params ? 8.0 * rep->tensor_bytes / rep->n_params : 0.0);
  if (rep->n_fallback)
    std::printf(" (%zu tensors in F16: rows not a multiple of the block size)", rep->n_fallback);
  std::printf("\n");
  return 0;
}

const RegisterCommand reg({"convert", "convert a Hugging Face folder to GGUF", run});

}  // namespace
}  // namespace sf::cli
