// State shared by the server's route handlers (internal to src/server).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/engine.h"
#include "server/api_error.h"
#include "server/ids.h"
#include "server/metrics.h"
#include "server/server.h"
#include "tokenizer/jinja/template.h"

namespace sf {
class Model;
class Tokenizer;
}  // namespace sf

namespace sf::server {

struct Context {
  ServerOptions opts;
  httplib::Server http;
  std::thread thread;
  std::shared_ptr<Engine> engine;  // set once, before `ready`
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
  std::optional<jinja::Template> chat_template;
  std::string chat_template_error;  // why there is none
  Metrics metrics;
  int port = -1;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();

  const Model& model() const { return engine->model(); }
  const Tokenizer* tokenizer() const;
};

// Counts a request as in flight for graceful shutdown; movable into a
// streaming response's provider so it lasts until the last byte.
class InFlight {
 public:
  explicit InFlight(Context& c) : c_(&c) { ++c_->in_flight; }
  ~InFlight() {
    if (c_) --c_->in_flight;
  }
  InFlight(InFlight&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  InFlight& operator=(InFlight&&) = delete;

 private:
  Context* c_;
};

void send_json(httplib::Response& res, const nlohmann::json& body, int status = 200);
void send_error(httplib::Response& res, const ApiError& e);

void register_chat_routes(Context& ctx);
void register_completion_routes(Context& ctx);
void register_embedding_routes(Context& ctx);
void register_info_routes(Context& ctx);

}  // namespace sf::server
