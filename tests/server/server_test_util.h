// Helpers for the server tests: random-weight models with a chat template, and
// the `starfire serve` binary as a child process on a free loopback port.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "models/model.h"
#include "models/random_model.h"
#include "test_util.h"

extern char** environ;

namespace sf::test {

// ChatML, as Qwen and many fine-tunes use it.
inline const char* kChatMl =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "(message['content'] or '') + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

// A tiny llama with a byte-level vocabulary (every byte is a token, so any
// text and any JSON can be generated) and, unless told otherwise, ChatML.
inline std::string random_chat_model(const std::string& name, bool with_template = true,
                                     int n_vocab = 512, int n_ctx = 1024) {
  RandomModelSpec spec;
  spec.n_vocab = n_vocab;
  spec.n_ctx = n_ctx;
  spec.seed = 11;
  if (with_template) spec.chat_template = kChatMl;
  const std::string path = tmp_path(name + ".gguf").string();
  Status s = write_random_model(spec, path);
  EXPECT_TRUE(s.ok()) << s.message();
  return path;
}

inline std::shared_ptr<const Model> load(const std::string& path) {
  auto m = Model::load_gguf(path);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : nullptr;
}

// `starfire serve` in a child process; stopped (SIGTERM, then SIGKILL) on destruction.
class ServerProcess {
 public:
  // Starts the binary with --port 0 and waits (bounded) for "listening on http://H:P".
  explicit ServerProcess(std::vector<std::string> args, int timeout_s = 60) {
    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<std::string> full = {STARFIRE_BINARY, "serve", "--port", "0"};
    for (auto& a : args) full.push_back(a);
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, STARFIRE_BINARY, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
      pid_ = -1;
      close(out[0]);
      return;
    }
    out_ = out[0];
    std::string buf;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char c[256];
      const ssize_t n = read(out_, c, sizeof c);
      if (n <= 0) break;  // the server exited
      buf.append(c, static_cast<size_t>(n));
      const size_t at = buf.find("listening on http://");
      const size_t eol = at == std::string::npos ? at : buf.find('\n', at);
      if (eol != std::string::npos) {
        const std::string url = buf.substr(at + 20, eol - at - 20);
        host_ = url.substr(0, url.rfind(':'));
        port_ = std::stoi(url.substr(url.rfind(':') + 1));
        return;
      }
    }
  }
  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGTERM);
      if (wait_exit(30) < -1) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
    }
    if (out_ >= 0) close(out_);
  }
  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  void signal(int sig) { kill(pid_, sig); }
  // Exit code, -1 for a signal, -2 if still running after timeout_s.
  int wait_exit(int timeout_s) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < until) {
      int st = 0;
      const pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -2;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = -1;
  bool exited_ = false;
  std::string host_;
};

}  // namespace sf::test
