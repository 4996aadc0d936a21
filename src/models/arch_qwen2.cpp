// Qwen2 / Qwen2.5 (GGUF arch "qwen2"): Llama + biases on q/k/v, neox RoPE,
// and usually an output head tied to the embeddings.
#include "models/arch.h"

namespace sf {

const ArchSpec& qwen2_arch() {
  static const ArchSpec spec{"qwen2", RopeMode::Neox, /*qkv_bias=*/true, /*qk_norm=*/false,
                             nullptr};
  return spec;
}

}  // namespace sf
