// POST /v1/embeddings: each input's final-normed hidden states, mean-pooled
// over its tokens and L2-normalized (as OpenAI's embeddings are unit length);
// `encoding_format` float or base64 (little-endian float32).
#include <cstring>

#include "models/model.h"
#include "server/context.h"
#include "server/generation.h"
#include "server/peer_watch.h"
#include "tokenizer/tokenizer.h"

namespace sf::server {
namespace {

using nlohmann::json;

std::string base64(const void* data, size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = (p[i] << 16) | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < n ? k[(v >> 6) & 63] : '=';
    out += i + 2 < n ? k[v & 63] : '=';
  }
  return out;
}

void handle_embeddings(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  const auto start = Clock::now();
  InFlight guard(ctx);
  auto pr = parse_embedding_request(req.body, ctx.opts.limits);
  if (!pr.ok()) return send_error(res, pr.error);
  EmbeddingRequest& e = *pr.value;
  const Tokenizer* tok = ctx.tokenizer();
  std::vector<GenRequest> reqs;
  for (size_t i = 0; i < e.inputs.size(); ++i) {
    GenRequest r;
    if (e.inputs[i].is_ids) {
      if (auto err = check_token_ids(ctx, e.inputs[i].ids, "input")) return send_error(res, *err);
      r.prompt = e.inputs[i].ids;
    } else {
      if (!tok)
        return send_error(res, bad_request("this model has no tokenizer: send token ids", "input",
                                           "no_tokenizer"));
      r.prompt = tok->encode(e.inputs[i].text, /*add_special=*/true, /*parse_special=*/false);
    }
    if (r.prompt.empty()) return send_error(res, bad_request("an input is empty", "input"));
    if (static_cast<int>(r.prompt.size()) > ctx.engine->n_ctx())
      return send_error(
          res, bad_request(
                   "input " + std::to_string(i) + " has " + std::to_string(r.prompt.size()) +
                       " tokens, more than the context of " + std::to_string(ctx.engine->n_ctx()),
                   "input", "context_length_exceeded"));
    r.embedding = true;
    r.choice = static_cast<int>(i);
    r.deadline = Clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(ctx.opts.request_timeout_s * 1000));
    reqs.push_back(std::move(r));
  }
  const int n = static_cast<int>(reqs.size());
  auto stream = std::make_shared<RequestStream>();
  if (auto err = submit(ctx, std::move(reqs), stream)) return send_error(res, *err);
  PeerWatch peer(req.remote_addr, req.remote_port, req.local_port);
  std::vector<ChoiceResult> results;
  if (!collect(ctx, *stream, n, peer, results, start)) {
    res.status = 499;
    return;
  }
  json data = json::array();
  int tokens = 0;
  for (int i = 0; i < n; ++i) {
    const ChoiceResult& r = results[i];
    if (r.failed) return send_error(res, engine_error(r));
    json item = {{"object", "embedding"}, {"index", i}};
    if (e.base64)
      item["embedding"] = base64(r.embedding.data(), r.embedding.size() * sizeof(float));
    else
      item["embedding"] = r.embedding;
    data.push_back(std::move(item));
    tokens += r.n_prompt;
  }
  send_json(res, {{"object", "list"},
                  {"data", data},
                  {"model", ctx.opts.model_id},
                  {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

}  // namespace

void register_embedding_routes(Context& ctx) {
  auto h = [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_embeddings(ctx, req, res);
  };
  ctx.http.Post("/v1/embeddings", h);
  ctx.http.Post("/embeddings", h);
}

}  // namespace sf::server
