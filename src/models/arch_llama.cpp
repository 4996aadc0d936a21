// Llama 2 / Llama 3 / Mistral (GGUF arch "llama"): the plain decoder. GGUF
// stores q/k already permuted for adjacent-pair RoPE; Llama 3's long-context
// frequency factors come as the optional `rope_freqs.weight` tensor.
#include "models/arch.h"

namespace sf {

const ArchSpec& llama_arch() {
  static const ArchSpec spec{"llama", RopeMode::Norm, /*qkv_bias=*/false, /*qk_norm=*/false,
                             nullptr};
  return spec;
}

}  // namespace sf
