// Command-line flags declared once: the declaration drives parsing, help text
// and defaults, so they never drift apart.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace sf::cli {

struct Flag {
  std::string long_name;   // "--temp"
  std::string short_name;  // "-t" or ""
  std::string value_name;  // "T"; empty: a boolean switch
  std::string help;
  std::string default_value;
};

class Args {
 public:
  Args(std::string command, std::string usage, std::vector<Flag> flags);

  // Parses argv (after the command name). Positional arguments are kept in order.
  Status parse(int argc, char** argv);
  std::string help() const;

  bool has(const std::string& long_name) const;         // given on the command line
  std::string str(const std::string& long_name) const;  // value or default
  // Every value given for a repeatable flag, in command-line order (str()
  // returns the last one).
  std::vector<std::string> all(const std::string& long_name) const;
  Result<int> integer(const std::string& long_name) const;
  Result<double> number(const std::string& long_name) const;
  bool flag(const std::string& long_name) const { return has(long_name); }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  const Flag* find(const std::string& name) const;
  std::string command_, usage_;
  std::vector<Flag> flags_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_values_;
  std::vector<std::string> positional_;
};

// Parses "1,2,3" into ids.
Result<std::vector<int32_t>> parse_id_list(const std::string& s);

}  // namespace sf::cli
