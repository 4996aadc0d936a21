#include "tokenizer/jinja/args.h"

#include <cstring>

#include "tokenizer/jinja/error.h"

namespace sf::jinja {

BoundArgs::BoundArgs(std::string_view fn, const CallArgs& args,
                     std::initializer_list<const char*> params, size_t required)
    : fn_(fn), names_(params), vals_(params.size()) {
  if (args.pos.size() > names_.size()) {
    fail(fn_ + "() takes at most " + std::to_string(names_.size()) + " argument(s) (" +
         std::to_string(args.pos.size()) + " given)");
  }
  std::vector<bool> given(names_.size(), false);
  for (size_t i = 0; i < args.pos.size(); ++i) {
    vals_[i] = args.pos[i];
    given[i] = true;
  }
  for (const auto& [k, v] : args.kw) {
    size_t i = 0;
    while (i < names_.size() && k != names_[i]) ++i;
    if (i == names_.size()) fail(fn_ + "() got an unexpected keyword argument '" + k + "'");
    if (given[i]) fail(fn_ + "() got multiple values for argument '" + k + "'");
    vals_[i] = v;
    given[i] = true;
  }
  for (size_t i = 0; i < required; ++i)
    if (!given[i]) fail(fn_ + "() missing required argument '" + names_[i] + "'");
}

int64_t BoundArgs::get_int(size_t i, int64_t def) const {
  if (!has(i) || vals_[i].is_none()) return def;
  if (!vals_[i].is_integral())
    fail(fn_ + "(): argument '" + names_[i] + "' must be an integer, not " + type_name(vals_[i]));
  return vals_[i].as_int();
}

bool BoundArgs::get_bool(size_t i, bool def) const {
  return has(i) ? truthy(vals_[i]) : def;
}

std::string BoundArgs::get_str(size_t i, std::string def) const {
  if (!has(i) || vals_[i].is_none()) return def;
  if (!vals_[i].is_string())
    fail(fn_ + "(): argument '" + names_[i] + "' must be a string, not " + type_name(vals_[i]));
  return vals_[i].as_string();
}

}  // namespace sf::jinja
