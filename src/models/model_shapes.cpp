#include "models/model_shapes.h"

namespace sf {
namespace {

RandomModelSpec shape(const char* arch, int vocab, int embd, int layers, int heads, int kv_heads,
                      int ff, int ctx, float rope_base, float eps, bool tied) {
  RandomModelSpec s;
  s.arch = arch;
  s.n_vocab = vocab;
  s.n_embd = embd;
  s.n_layer = layers;
  s.n_head = heads;
  s.n_head_kv = kv_heads;
  s.n_ff = ff;
  s.n_ctx = ctx;
  s.rope_base = rope_base;
  s.rms_eps = eps;
  s.tied_output = tied;
  return s;
}

}  // namespace

const std::vector<ShapePreset>& shape_presets() {
  // Dimensions from each model's published config.json.
  static const std::vector<ShapePreset> presets = {
      {"qwen2.5-0.5b", "Qwen2.5-0.5B (494M params, tied output)",
       shape("qwen2", 151936, 896, 24, 14, 2, 4864, 32768, 1e6f, 1e-6f, true)},
      {"qwen2.5-1.5b", "Qwen2.5-1.5B (1.54B params, tied output)",
       shape("qwen2", 151936, 1536, 28, 12, 2, 8960, 32768, 1e6f, 1e-6f, true)},
      {"tinyllama-1.1b", "TinyLlama-1.1B (1.1B params)",
       shape("llama", 32000, 2048, 22, 32, 4, 5632, 2048, 1e4f, 1e-5f, false)},
      {"llama-3.2-1b", "Llama-3.2-1B (1.24B params, tied output)",
       shape("llama", 128256, 2048, 16, 32, 8, 8192, 131072, 5e5f, 1e-5f, true)},
      {"qwen3-0.6b", "Qwen3-0.6B (head size 128, q/k norm, tied output)",
       [] {
         auto s = shape("qwen3", 151936, 1024, 28, 16, 8, 3072, 40960, 1e6f, 1e-6f, true);
         s.head_dim = 128;
         return s;
       }()},
      {"tiny", "a 2-layer toy for tests",
       shape("llama", 512, 256, 2, 4, 2, 512, 512, 1e4f, 1e-5f, false)},
  };
  return presets;
}

std::optional<RandomModelSpec> find_shape(const std::string& name) {
  for (const auto& p : shape_presets())
    if (name == p.name) return p.spec;
  return std::nullopt;
}

}  // namespace sf
