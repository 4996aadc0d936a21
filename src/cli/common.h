// Pieces several commands share: model loading with helpful errors, prompt
// handling (text or explicit ids), sampler flags, JSON float formatting.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "models/lora_adapter.h"
#include "models/lora_apply.h"
#include "models/model.h"
#include "runtime/sampler.h"

namespace sf::cli {

// Flags shared by commands that load a model and take a prompt.
std::vector<Flag> model_flags();
std::vector<Flag> prompt_flags();
std::vector<Flag> sampling_flags();

// The model of -m; without -m, $STARFIRE_MODEL, else the shipped default model
// (models/default.gguf here, then beside the binary: default_model_candidates()).
Result<std::shared_ptr<const Model>> load_model(const Args& args);
std::vector<std::string> default_model_candidates();

// --lora FILE[:SCALE], repeatable: a LoRA adapter GGUF or a PEFT folder, with
// an optional multiplier (default 1). Commands that apply adapters add it.
Flag lora_flag();
// "FILE[:SCALE]" -> (FILE, SCALE); a FILE that exists as given wins, so paths
// with ':' still work.
Result<std::pair<std::string, float>> parse_lora_spec(const std::string& spec);
// One adapter: a GGUF file, or a PEFT folder read for `cfg`.
Result<LoraAdapter> read_lora(const std::string& path, const ModelConfig& cfg);
// Every --lora, in order, checked against the model.
Result<std::vector<LoraAdapter>> read_loras(const Args& args, const Model& model);
// read_loras resolved for SessionOptions::lora; nullptr when no --lora was given.
Result<std::shared_ptr<const LoraSet>> load_loras(const Args& args, const Model& model);
// Token ids from --prompt-ids, or -p/--prompt (or --file) through the model's tokenizer.
Result<std::vector<int32_t>> prompt_ids(const Args& args, const Model& model);
Result<SamplerParams> sampler_params(const Args& args);

// Shortest decimal that reads back as the same float.
std::string float_str(float x);

}  // namespace sf::cli
