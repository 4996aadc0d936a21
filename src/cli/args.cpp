#include "cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace sf::cli {

Args::Args(std::string command, std::string usage, std::vector<Flag> flags)
    : command_(std::move(command)), usage_(std::move(usage)), flags_(std::move(flags)) {
  flags_.push_back({"--help", "-h", "", "show this help", ""});
}

const Flag* Args::find(const std::string& name) const {
  for (const Flag& f : flags_)
    if (f.long_name == name || (!f.short_name.empty() && f.short_name == name)) return &f;
  return nullptr;
}

Status Args::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(a[1]) || a[1] == '.'))) {
      std::string value;
      bool inline_value = false;
      if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      const Flag* f = find(a);
      if (!f)
        return errorf("starfire %s: unknown option '%s' (see 'starfire %s --help')",
                      command_.c_str(), a.c_str(), command_.c_str());
      if (f->value_name.empty()) {
        values_[f->long_name] = "1";
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= argc)
          return errorf("starfire %s: option %s needs a value (%s)", command_.c_str(), a.c_str(),
                        f->value_name.c_str());
        value = argv[++i];
      }
      values_[f->long_name] = value;
      all_values_[f->long_name].push_back(value);
    } else {
      positional_.push_back(a);
    }
  }
  return {};
}

std::string Args::help() const {
  std::string s = "usage: starfire " + command_ + " " + usage_ + "\n\noptions:\n";
  for (const Flag& f : flags_) {
    std::string left = "  " + (f.short_name.empty() ? "    " : f.short_name + ", ") + f.long_name;
    if (!f.value_name.empty()) left += " " + f.value_name;
    if (left.size() < 30) left.resize(30, ' ');
    s += left + " " + f.help;
    if (!f.default_value.empty()) s += " (default: " + f.default_value + ")";
    s += "\n";
  }
  return s;
}

bool Args::has(const std::string& long_name) const {
  return values_.count(long_name) > 0;
}

std::vector<std::string> Args::all(const std::string& long_name) const {
  auto it = all_values_.find(long_name);
  return it == all_values_.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::str(const std::string& long_name) const {
  if (auto it = values_.find(long_name); it != values_.end()) return it->second;
  const Flag* f = find(long_name);
  return f ? f->default_value : "";
}

Result<int> Args::integer(const std::string& long_name) const {
  std::string v = str(long_name);
  char* end = nullptr;
  errno = 0;
  long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE || x < -2147483647L || x > 2147483647L)
    return errorf("starfire %s: %s expects an integer, got '%s'", command_.c_str(),
                  long_name.c_str(), v.c_str());
  return static_cast<int>(x);
}

Result<double> Args::number(const std::string& long_name) const {
  std::string v = str(long_name);
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(x))
    return errorf("starfire %s: %s expects a number, got '%s'", command_.c_str(), long_name.c_str(),
                  v.c_str());
  return x;
}

Result<std::vector<int32_t>> parse_id_list(const std::string& s) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    char* end = nullptr;
    errno = 0;
    long x = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || errno == ERANGE || x < 0 || x > 2147483647L)
      return errorf(
          "--prompt-ids: '%s' is not a token id (expected a comma-separated list of "
          "non-negative integers like 1,2,3)",
          part.c_str());
    ids.push_back(static_cast<int32_t>(x));
    i = j + 1;
  }
  return ids;
}

}  // namespace sf::cli
