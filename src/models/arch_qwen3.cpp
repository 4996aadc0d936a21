// Qwen3 (GGUF arch "qwen3"): Llama + per-head RMSNorm on q and k before RoPE,
// neox RoPE, no biases; the head size is explicit (key_length) because it need
// not equal n_embd / n_head.
#include "models/arch.h"

namespace sf {
namespace {

Status read_qwen3(const gguf::GgufFile& f, ModelConfig& cfg) {
  auto kl = f.get_int("qwen3.attention.key_length");
  auto vl = f.get_int("qwen3.attention.value_length");
  if (kl && vl && *kl != *vl)
    return errorf("%s: qwen3.attention.key_length (%lld) != value_length (%lld) is not supported",
                  f.path().c_str(), static_cast<long long>(*kl), static_cast<long long>(*vl));
  if (kl) cfg.head_dim = static_cast<int>(*kl);
  return {};
}

}  // namespace

const ArchSpec& qwen3_arch() {
  static const ArchSpec spec{"qwen3", RopeMode::Neox, /*qkv_bias=*/false, /*qk_norm=*/true,
                             read_qwen3};
  return spec;
}

}  // namespace sf
