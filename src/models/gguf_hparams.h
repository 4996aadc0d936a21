// The architecture metadata llama.cpp and our loader read for a Llama-family
// model ("<arch>.context_length", head counts, RoPE base/scaling, key_length
// when heads are not n_embd / n_head wide ...), derived from a ModelConfig.
// One list, so the HF converter and the trainer's export write the same keys.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "formats/gguf.h"
#include "models/config.h"

namespace sf {

using GgufKv = std::vector<std::pair<std::string, gguf::Value>>;

// Keys under `c.arch`; general.* and tokenizer.* keys are the caller's.
GgufKv hparams_kv(const ModelConfig& c);

}  // namespace sf
