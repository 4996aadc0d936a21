// Subcommands register themselves here, so adding a command is adding a file
// (src/cli/cmd_<name>.cpp) without touching main().
#pragma once

#include <string>
#include <vector>

namespace sf::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);  // argv excludes "starfire" and the command name
};

std::vector<Command>& commands();

struct RegisterCommand {
  explicit RegisterCommand(Command c) { commands().push_back(c); }
};

// Prints "starfire: <message>" to stderr and returns exit code 1.
int fail(const std::string& message);

}  // namespace sf::cli
