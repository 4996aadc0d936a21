// `starfire serve`: the OpenAI-compatible HTTP server (src/server) over the
// continuous-batching engine (runtime/engine.h). Listens first so /health can
// say "loading" while the model loads; SIGTERM/SIGINT drain gracefully
// (in-flight requests finish, new ones get 503).
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/command.h"
#include "cli/common.h"
#include "runtime/engine.h"
#include "server/server.h"

namespace sf::cli {
namespace {

Result<std::string> read_text(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return errorf("cannot read %s '%s'", what, path.c_str());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int serve(int argc, char** argv) {
  std::vector<Flag> flags = model_flags();
  for (auto& f : flags) {
    if (f.long_name == "--batch-size") {
      f.help = "token budget per engine step (decode tokens + prompt chunks)";
      f.default_value = "256";
    }
    if (f.long_name == "--ctx-size")  // per slot: KV memory is --parallel x this
      f.help = "context per request slot in tokens (0: model's, capped at 4096)";
  }
  flags.push_back(
      {"--host", "", "ADDR", "address to listen on (loopback unless told otherwise)", "127.0.0.1"});
  flags.push_back({"--port", "", "N", "port to listen on (0: any free port)", "8080"});
  flags.push_back({"--parallel", "-np", "N", "requests generating at once (sequence slots)", "4"});
  flags.push_back({"--api-key", "", "KEY", "require 'Authorization: Bearer KEY'", ""});
  flags.push_back({"--api-key-file", "", "PATH", "API keys, one per line", ""});
  flags.push_back(
      {"--alias", "", "NAME", "model id reported by /v1/models (default: file name)", ""});
  flags.push_back(
      {"--chat-template-file", "", "PATH", "Jinja chat template overriding the model's", ""});
  flags.push_back({"--max-queue", "", "N", "requests waiting for a slot before 429", "64"});
  flags.push_back({"--timeout", "", "SECONDS", "per-request time limit, queueing included", "600"});
  flags.push_back(
      {"--max-body", "", "BYTES", "largest request body accepted (413 above)", "8388608"});
  flags.push_back(
      {"--http-threads", "", "N", "HTTP worker threads (connections served at once)", "32"});
  Args args("serve", "-m MODEL.gguf [--host 127.0.0.1] [--port 8080] [--parallel N] [options]",
            flags);
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  auto threads = args.integer("--threads");
  auto ctx = args.integer("--ctx-size");
  auto batch = args.integer("--batch-size");
  auto port = args.integer("--port");
  auto parallel = args.integer("--parallel");
  auto max_queue = args.integer("--max-queue");
  auto max_body = args.integer("--max-body");
  auto http_threads = args.integer("--http-threads");
  for (auto* r : {&threads, &ctx, &batch, &port, &parallel, &max_queue, &max_body, &http_threads})
    if (!r->ok()) return fail(r->status().message());
  auto timeout = args.number("--timeout");
  if (!timeout.ok()) return fail(timeout.status().message());
  if (*port < 0 || *port > 65535) return fail("--port must be in 0..65535");
  if (*parallel < 1 || *parallel > 256) return fail("--parallel must be in 1..256");
  if (*batch < 1) return fail("--batch-size must be positive");
  if (*max_queue < 0) return fail("--max-queue must be >= 0");
  if (*max_body < 1024) return fail("--max-body must be at least 1024");
  if (*timeout <= 0) return fail("--timeout must be positive");

  server::ServerOptions so;
  so.host = args.str("--host");
  so.port = *port;
  so.max_body_bytes = static_cast<size_t>(*max_body);
  so.request_timeout_s = *timeout;
  so.http_threads = *http_threads;
  const std::string model_path = args.str("--model");
  so.model_id = args.has("--alias") ? args.str("--alias")
                                    : std::filesystem::path(model_path).filename().string();
  if (args.has("--api-key")) so.api_keys.push_back(args.str("--api-key"));
  if (args.has("--api-key-file")) {
    auto text = read_text(args.str("--api-key-file"), "API key file");
    if (!text.ok()) return fail(text.status().message());
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty() && line[0] != '#') so.api_keys.push_back(line);
    }
    if (so.api_keys.empty()) return fail("the API key file has no keys");
  }
  if (args.has("--chat-template-file")) {
    auto text = read_text(args.str("--chat-template-file"), "chat template file");
    if (!text.ok()) return fail(text.status().message());
    so.chat_template = *text;
  }

  // Signals are taken by sigwait below; every thread started from here on
  // inherits the mask, so none of them is interrupted by SIGTERM.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::Server server(so);
  if (Status s = server.bind(); !s.ok()) return fail(s.message());
  server.start();
  std::fprintf(stderr, "starfire serve: listening on http://%s:%d (loading %s)\n", so.host.c_str(),
               server.port(), model_path.c_str());

  auto model = load_model(args);
  if (!model.ok()) {
    server.stop();
    return fail(model.status().message());
  }
  EngineOptions eo;
  eo.n_parallel = *parallel;
  eo.n_ctx = *ctx;
  eo.n_batch = *batch;
  eo.n_threads = *threads;
  eo.max_queue = *max_queue;
  auto engine = std::make_shared<Engine>(*model, eo);
  if (Status s = server.set_engine(engine); !s.ok()) {
    server.stop();
    engine->stop();
    return fail(s.message());
  }
  std::fprintf(stdout, "listening on http://%s:%d\n", so.host.c_str(), server.port());
  std::fflush(stdout);
  std::fprintf(stderr,
               "starfire serve: ready: model '%s', %d slots x %d tokens of context, step budget "
               "%d tokens%s\n",
               so.model_id.c_str(), engine->n_parallel(), engine->n_ctx(),
               engine->options().n_batch, so.api_keys.empty() ? "" : ", API keys required");

  int sig = 0;
  sigwait(&sigs, &sig);
  std::fprintf(stderr, "starfire serve: %s: finishing requests in flight, refusing new ones\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  server.drain(30.0);
  engine->stop();
  std::fprintf(stderr, "starfire serve: stopped\n");
  return 0;
}

const RegisterCommand reg({"serve", "OpenAI-compatible HTTP server", serve});

}  // namespace
}  // namespace sf::cli
