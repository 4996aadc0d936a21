// The `starfire` binary: dispatches to the registered subcommands.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/command.h"

namespace sf::cli {

std::vector<Command>& commands() {
  static std::vector<Command> c;
  return c;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "starfire: %s\n", message.c_str());
  return 1;
}

}  // namespace sf::cli

static void usage() {
  auto cmds = sf::cli::commands();
  std::sort(cmds.begin(), cmds.end(),
            [](const auto& a, const auto& b) { return std::strcmp(a.name, b.name) < 0; });
  std::printf(
      "Starfire: self-hosted LLM inference, serving and training\n\n"
      "usage: starfire <command> [options]   (starfire <command> --help for details)\n\n"
      "commands:\n");
  for (const auto& c : cmds) std::printf("  %-12s %s\n", c.name, c.summary);
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    usage();
    return argc < 2 ? 1 : 0;
  }
  for (const auto& c : sf::cli::commands())
    if (std::strcmp(c.name, argv[1]) == 0) return c.run(argc - 2, argv + 2);
  std::fprintf(stderr, "starfire: unknown command '%s' (run 'starfire --help' for the list)\n",
               argv[1]);
  return 1;
}
