// Pieces several commands share: model loading with helpful errors, prompt
// handling (text or explicit ids), sampler flags, JSON float formatting.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "models/model.h"
#include "runtime/sampler.h"

namespace sf::cli {

// Flags shared by commands that load a model and take a prompt.
std::vector<Flag> model_flags();
std::vector<Flag> prompt_flags();
std::vector<Flag> sampling_flags();

Result<std::shared_ptr<const Model>> load_model(const Args& args);
// Token ids from --prompt-ids, or -p/--prompt (or --file) through the model's tokenizer.
Result<std::vector<int32_t>> prompt_ids(const Args& args, const Model& model);
Result<SamplerParams> sampler_params(const Args& args);

// Shortest decimal that reads back as the same float.
std::string float_str(float x);

}  // namespace sf::cli
