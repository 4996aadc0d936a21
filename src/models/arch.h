// The architecture registry. Each supported `general.architecture` has one
// small file (models/arch_<name>.cpp) stating only how it differs from the
// shared Llama-style decoder: RoPE mode, biases, q/k norms, tied output.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "formats/gguf.h"
#include "models/config.h"

namespace sf {

struct ArchSpec {
  const char* name;
  RopeMode rope_mode;
  bool qkv_bias;
  bool qk_norm;
  // Extra metadata reading beyond the shared keys (may be nullptr).
  Status (*read_extra)(const gguf::GgufFile& f, ModelConfig& cfg);
};

const ArchSpec& llama_arch();
const ArchSpec& qwen2_arch();
const ArchSpec& qwen3_arch();

// nullptr when the architecture is not supported.
const ArchSpec* find_arch(std::string_view name);
std::vector<const ArchSpec*> all_archs();

}  // namespace sf
