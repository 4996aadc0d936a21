#include "server/server.h"

#include <thread>

#include "models/model.h"
#include "server/context.h"
#include "tokenizer/tokenizer.h"

namespace sf::server {

using nlohmann::json;

const Tokenizer* Context::tokenizer() const {
  return engine->model().tokenizer();
}

void send_json(httplib::Response& res, const json& body, int status) {
  res.status = status;
  // Generated text is valid UTF-8 by construction; token pieces may not be.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  if (e.status == 429) res.set_header("Retry-After", "1");
  send_json(res, e.body(), e.status);
}

namespace {

// Compares without an early exit, so response time does not leak a key's prefix.
bool same_key(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

const char* endpoint_label(const std::string& path) {
  static const char* kKnown[] = {"/v1/chat/completions",
                                 "/v1/completions",
                                 "/v1/embeddings",
                                 "/v1/models",
                                 "/health",
                                 "/metrics",
                                 "/tokenize",
                                 "/detokenize",
                                 "/chat/completions",
                                 "/completions",
                                 "/embeddings"};
  for (const char* k : kKnown)
    if (path == k) return k;
  return "other";
}

}  // namespace

Server::Server(ServerOptions opts) : ctx_(std::make_unique<Context>()) {
  ctx_->opts = std::move(opts);
  Context& c = *ctx_;
  httplib::Server& h = c.http;
  const int threads = c.opts.http_threads > 0 ? c.opts.http_threads : 32;
  h.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  h.set_payload_max_length(c.opts.max_body_bytes);
  h.set_read_timeout(30, 0);  // a client that stalls mid-request is dropped
  h.set_write_timeout(30, 0);
  h.set_keep_alive_timeout(10);
  h.set_tcp_nodelay(true);

  Context* cp = &c;
  h.set_pre_routing_handler([cp](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (cp->draining) {
      send_error(res,
                 {503, "the server is shutting down", "unavailable_error", "", "shutting_down"});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!cp->opts.api_keys.empty()) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      bool ok = false;
      if (auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0) {
        const std::string key = auth.substr(prefix.size());
        for (const auto& k : cp->opts.api_keys) ok = same_key(key, k) || ok;
      }
      if (!ok) {
        send_error(res, {401, "invalid or missing API key (send 'Authorization: Bearer KEY')",
                         "authentication_error", "", "invalid_api_key"});
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (!cp->ready) {
      send_error(res, {503, "the model is still loading", "unavailable_error", "", "loading"});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Statuses httplib sets itself (404, 413, 400 for a malformed request line)
  // come with an empty body: give them OpenAI's error shape.
  h.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.is_chunked_content_provider_) return;
    ApiError e{res.status, "", "invalid_request_error", "", ""};
    if (res.status == 404) {
      e.message = "no such endpoint: " + req.method + " " + req.path;
      e.code = "not_found";
    } else if (res.status == 413) {
      e.message = "the request body is too large";
      e.code = "request_too_large";
    } else if (res.status == 405) {
      e.message = "method not allowed";
    } else {
      e.message = "bad request";
    }
    send_json(res, e.body(), res.status);
  });
  h.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = std::string("internal error: ") + e.what();
        } catch (...) {
        }
        send_error(res, {500, what, "server_error", "", ""});
      });
  h.set_logger([cp](const httplib::Request& req, const httplib::Response& res) {
    cp->metrics.request(endpoint_label(req.path), res.status);
  });
  register_info_routes(c);
  register_chat_routes(c);
  register_completion_routes(c);
  register_embedding_routes(c);
}

Server::~Server() {
  stop();
}

Status Server::bind() {
  Context& c = *ctx_;
  if (c.opts.port == 0) {
    const int p = c.http.bind_to_any_port(c.opts.host);
    if (p <= 0) return errorf("cannot bind to %s (any port)", c.opts.host.c_str());
    c.port = p;
  } else {
    if (!c.http.bind_to_port(c.opts.host, c.opts.port))
      return errorf("cannot bind to %s:%d (in use, or not an address of this machine)",
                    c.opts.host.c_str(), c.opts.port);
    c.port = c.opts.port;
  }
  return {};
}

int Server::port() const {
  return ctx_->port;
}

void Server::start() {
  Context* c = ctx_.get();
  c->thread = std::thread([c] { c->http.listen_after_bind(); });
}

Status Server::set_engine(std::shared_ptr<Engine> engine) {
  Context& c = *ctx_;
  c.engine = std::move(engine);
  std::string source = c.opts.chat_template;
  const Tokenizer* tok = c.tokenizer();
  if (source.empty() && tok) source = tok->chat_template();
  if (!tok) {
    c.chat_template_error =
        "this model has no tokenizer, so chat requests cannot be served; use /v1/completions "
        "with token ids";
  } else if (source.empty()) {
    c.chat_template_error =
        "this model has no chat template: start the server with --chat-template-file FILE, or "
        "use /v1/completions";
  } else {
    auto t = jinja::Template::parse(source);
    if (!t.ok()) return t.status().with_context("chat template");
    c.chat_template.emplace(std::move(*t));
  }
  c.ready = true;
  return {};
}

void Server::drain(double grace_s) {
  Context& c = *ctx_;
  c.draining = true;
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(grace_s * 1000));
  while (c.in_flight.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop();
}

void Server::stop() {
  Context& c = *ctx_;
  if (!c.thread.joinable()) return;
  // httplib ignores stop() until its loop runs; a stop right after start() waits for it.
  for (int i = 0; i < 500 && !c.http.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  c.http.stop();
  c.thread.join();
}

Metrics& Server::metrics() {
  return ctx_->metrics;
}

}  // namespace sf::server
