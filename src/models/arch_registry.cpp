#include "models/arch.h"

namespace sf {

std::vector<const ArchSpec*> all_archs() {
  return {&llama_arch(), &qwen2_arch(), &qwen3_arch()};
}

const ArchSpec* find_arch(std::string_view name) {
  for (const ArchSpec* a : all_archs())
    if (name == a->name) return a;
  return nullptr;
}

}  // namespace sf
