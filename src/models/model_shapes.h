// Real shapes of popular open models, for writing random-weight stand-ins
// (`starfire gen-model`) whose speed matches the real thing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "models/random_model.h"

namespace sf {

struct ShapePreset {
  const char* name;
  const char* description;
  RandomModelSpec spec;  // type and seed left at defaults
};

const std::vector<ShapePreset>& shape_presets();
std::optional<RandomModelSpec> find_shape(const std::string& name);

}  // namespace sf
