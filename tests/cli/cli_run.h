// Runs the built `starfire` binary for the CLI tests: exit code, stdout and
// stderr of one command line (run through the shell, so quoting works as
// typed).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "test_util.h"

namespace sf::test {

struct CmdResult {
  int code;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a shell command line; stderr is captured separately.
inline CmdResult shell(const std::string& cmd_line) {
  // tmp_path carries the pid, so test executables running in parallel do
  // not share the file.
  const std::string err_path = tmp_path("cli_stderr.txt").string();
  const std::string cmd = "{ " + cmd_line + " ; } 2>" + err_path;
  CmdResult r{};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "", "popen failed"};
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = read_file(err_path);
  return r;
}

inline CmdResult starfire(const std::string& args) {
  return shell(std::string(STARFIRE_BINARY) + " " + args);
}

}  // namespace sf::test
