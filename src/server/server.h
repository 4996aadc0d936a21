// The OpenAI-compatible HTTP server: cpp-httplib worker threads parse and
// validate requests and hand them to the runtime Engine, whose single thread
// does all model work; responses (plain JSON or server-sent events) are
// written by the worker that owns the connection.
//
// Lifecycle: bind() → start() (GET /health answers 503 "loading") →
// set_engine() once the model is loaded (200) → drain() on SIGTERM (new
// requests get 503, in-flight ones finish) → stop().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/request_parse.h"

namespace sf {
class Engine;
}

namespace sf::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (see Server::port())
  std::vector<std::string> api_keys;  // empty: no authentication
  std::string model_id = "starfire";  // the id /v1/models lists (--alias or file name)
  std::string chat_template;          // overrides the model's own template when set
  size_t max_body_bytes = 8u << 20;   // larger bodies get 413
  double request_timeout_s = 600;     // per request, queueing included
  int http_threads = 0;               // 0: 2 * n_parallel + 16
  ParseLimits limits;
};

class Metrics;
struct Context;

class Server {
 public:
  explicit Server(ServerOptions opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket (so a test can learn the port before serving).
  Status bind();
  int port() const;
  // Serves on a background thread until stop().
  void start();
  // The model is loaded: chat template parsed (an unusable one is an error),
  // endpoints answer. The server keeps a reference to the engine.
  Status set_engine(std::shared_ptr<Engine> engine);
  // Graceful shutdown: refuses new requests (503), waits up to grace_s for
  // those in flight to finish, then stops listening.
  void drain(double grace_s);
  void stop();
  Metrics& metrics();

 private:
  std::unique_ptr<Context> ctx_;
};

}  // namespace sf::server
