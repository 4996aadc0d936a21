// GET /health, /v1/models, /metrics; POST /tokenize, /detokenize.
#include "models/model.h"
#include "server/context.h"
#include "server/generation.h"
#include "tokenizer/tokenizer.h"

namespace sf::server {
namespace {

using nlohmann::json;

json model_json(const Context& ctx) {
  const ModelConfig& c = ctx.model().config();
  return {
      {"id", ctx.opts.model_id},
      {"object", "model"},
      {"created",
       std::chrono::duration_cast<std::chrono::seconds>(ctx.started.time_since_epoch()).count()},
      {"owned_by", "starfire"},
      {"meta",
       {{"arch", c.arch},
        {"n_vocab", c.n_vocab},
        {"n_ctx", ctx.engine->n_ctx()},
        {"n_ctx_train", c.n_ctx_train},
        {"n_embd", c.n_embd},
        {"n_parallel", ctx.engine->n_parallel()}}}};
}

}  // namespace

void register_info_routes(Context& ctx) {
  Context* c = &ctx;
  // Health answers before the model is loaded (the pre-routing gate lets it through).
  ctx.http.Get("/health", [c](const httplib::Request&, httplib::Response& res) {
    if (c->draining) return send_json(res, {{"status", "shutting down"}}, 503);
    if (!c->ready) return send_json(res, {{"status", "loading model"}}, 503);
    send_json(res, {{"status", "ok"}});
  });
  ctx.http.Get("/v1/models", [c](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"object", "list"}, {"data", json::array({model_json(*c)})}});
  });
  ctx.http.Get(R"(/v1/models/(.+))", [c](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] != c->opts.model_id)
      return send_error(res, {404, "the model '" + std::string(req.matches[1]) + "' does not exist",
                              "invalid_request_error", "model", "model_not_found"});
    send_json(res, model_json(*c));
  });
  ctx.http.Get("/metrics", [c](const httplib::Request&, httplib::Response& res) {
    const EngineStats s = c->engine->stats();
    res.set_content(c->metrics.render(&s, c->engine->n_parallel()), "text/plain; version=0.0.4");
  });
  ctx.http.Post("/tokenize", [c](const httplib::Request& req, httplib::Response& res) {
    auto pr = parse_tokenize_request(req.body);
    if (!pr.ok()) return send_error(res, pr.error);
    const Tokenizer* tok = c->tokenizer();
    if (!tok)
      return send_error(res, bad_request("this model has no tokenizer", "", "no_tokenizer"));
    // Untrusted text: special tokens written in it stay text.
    const auto ids = tok->encode(pr.value->content, pr.value->add_special, false);
    json tokens = json::array();
    for (int32_t id : ids) {
      if (pr.value->with_pieces)
        tokens.push_back({{"id", id}, {"piece", token_text(*c, id)}});
      else
        tokens.push_back(id);
    }
    send_json(res, {{"tokens", tokens}});
  });
  ctx.http.Post("/detokenize", [c](const httplib::Request& req, httplib::Response& res) {
    auto pr = parse_detokenize_request(req.body);
    if (!pr.ok()) return send_error(res, pr.error);
    const Tokenizer* tok = c->tokenizer();
    if (!tok)
      return send_error(res, bad_request("this model has no tokenizer", "", "no_tokenizer"));
    if (auto e = check_token_ids(*c, pr.value->tokens, "tokens")) return send_error(res, *e);
    send_json(res, {{"content", tok->decode(pr.value->tokens)}});
  });
}

}  // namespace sf::server
