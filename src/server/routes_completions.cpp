// POST /v1/completions: raw prompts (text or token ids, one or many), `echo`
// with prompt logprobs for scoring (lm-evaluation-harness's loglikelihood
// requests: max_tokens 0, echo true, logprobs N), plain JSON or SSE.
#include <cmath>

#include "models/model.h"
#include "server/context.h"
#include "server/generation.h"
#include "server/peer_watch.h"
#include "tokenizer/tokenizer.h"

namespace sf::server {
namespace {

using nlohmann::json;

// The legacy logprobs object: tokens, token_logprobs, top_logprobs, text_offset.
struct LegacyLogprobs {
  json tokens = json::array(), token_logprobs = json::array(), top = json::array(),
       offsets = json::array();
  size_t offset = 0;
  void add(const Context& ctx, const TokenLogprob& t, bool with_top) {
    const std::string text = token_text(ctx, t.id);
    tokens.push_back(text);
    if (std::isnan(t.logprob)) {
      token_logprobs.push_back(nullptr);
      top.push_back(nullptr);
    } else {
      token_logprobs.push_back(t.logprob);
      json m = json::object();
      if (with_top)
        for (const auto& a : t.top) m[token_text(ctx, a.id)] = a.logprob;
      top.push_back(m);
    }
    offsets.push_back(offset);
    offset += text.size();
  }
  json to_json() const {
    return {{"tokens", tokens},
            {"token_logprobs", token_logprobs},
            {"top_logprobs", top},
            {"text_offset", offsets}};
  }
};

// The prompt as text, for echo (token-id prompts are detokenized).
std::string prompt_text(const Context& ctx, const PromptInput& p) {
  if (!p.is_ids) return p.text;
  const Tokenizer* tok = ctx.tokenizer();
  return tok ? tok->decode(p.ids) : std::string();
}

void handle_completions(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  const auto start = Clock::now();
  InFlight guard(ctx);
  auto pr = parse_completion_request(req.body, ctx.opts.limits);
  if (!pr.ok()) return send_error(res, pr.error);
  CompletionRequest& c = *pr.value;
  const Tokenizer* tok = ctx.tokenizer();
  const int n = c.common.n;
  const int n_choices = static_cast<int>(c.prompts.size()) * n;
  std::vector<GenRequest> all;
  std::vector<std::string> echo_text;
  for (size_t i = 0; i < c.prompts.size(); ++i) {
    const PromptInput& p = c.prompts[i];
    std::vector<int32_t> ids;
    if (p.is_ids) {
      if (auto e = check_token_ids(ctx, p.ids, "prompt")) return send_error(res, *e);
      ids = p.ids;
    } else {
      if (!tok)
        return send_error(res, bad_request("this model has no tokenizer: send the prompt as "
                                           "token ids",
                                           "prompt", "no_tokenizer"));
      ids = tok->encode(p.text, /*add_special=*/true, /*parse_special=*/true);
    }
    if (ids.empty()) return send_error(res, bad_request("a prompt is empty", "prompt"));
    auto reqs = make_requests(ctx, c.common, ids, static_cast<int>(i) * n);
    if (!reqs.ok()) return send_error(res, reqs.error);
    for (auto& r : *reqs.value) {
      r.top_logprobs = c.logprobs;
      r.prompt_logprobs = c.echo && c.logprobs >= 0;
      all.push_back(std::move(r));
    }
    echo_text.push_back(c.echo ? prompt_text(ctx, p) : std::string());
  }
  auto stream = std::make_shared<RequestStream>();
  if (auto e = submit(ctx, std::move(all), stream)) return send_error(res, *e);
  const std::string id = random_id("cmpl-");
  const int64_t created = unix_now();
  const std::string model = ctx.opts.model_id;

  if (!c.common.stream) {
    PeerWatch peer(req.remote_addr, req.remote_port, req.local_port);
    std::vector<ChoiceResult> results;
    if (!collect(ctx, *stream, n_choices, peer, results, start)) {
      res.status = 499;
      return;
    }
    json choices = json::array();
    int completion = 0, prompt_tokens = 0, cached = 0;
    for (int i = 0; i < n_choices; ++i) {
      const ChoiceResult& r = results[i];
      if (r.failed) return send_error(res, engine_error(r));
      json lp = nullptr;
      if (c.logprobs >= 0) {
        LegacyLogprobs l;
        for (const auto& t : r.prompt) l.add(ctx, t, true);
        for (const auto& t : r.tokens) l.add(ctx, t, true);
        lp = l.to_json();
      }
      choices.push_back({{"index", i},
                         {"text", echo_text[i / n] + r.text},
                         {"logprobs", lp},
                         {"finish_reason", r.finish_reason}});
      completion += r.n_generated;
      if (i % n == 0) {
        prompt_tokens += r.n_prompt;
        cached += r.n_cached;
      }
    }
    send_json(res, {{"id", id},
                    {"object", "text_completion"},
                    {"created", created},
                    {"model", model},
                    {"system_fingerprint", "starfire"},
                    {"choices", choices},
                    {"usage", usage_json(prompt_tokens, completion, cached)}});
    return;
  }

  struct StreamState {
    std::vector<bool> started;
    int prompt_tokens = 0, completion = 0, cached = 0;
  };
  auto ss = std::make_shared<StreamState>();
  ss->started.assign(n_choices, false);
  const bool include_usage = c.common.include_usage;
  const int logprobs = c.logprobs;
  Context* cp = &ctx;
  auto frame = [id, created, model, include_usage](json choice) {
    json j = {{"id", id},
              {"object", "text_completion"},
              {"created", created},
              {"model", model},
              {"system_fingerprint", "starfire"},
              {"choices", json::array({std::move(choice)})}};
    if (include_usage) j["usage"] = nullptr;
    return sse(j);
  };
  auto on_event = [ss, cp, frame, echo_text, n, logprobs](const Event& e, std::string& out) {
    const int i = e.choice;
    auto text_chunk = [&](const std::string& text, json lp, json finish) {
      out += frame({{"index", i},
                    {"text", text},
                    {"logprobs", std::move(lp)},
                    {"finish_reason", std::move(finish)}});
    };
    if (!ss->started[i] && e.kind != EventKind::Error) {
      ss->started[i] = true;
      // Echo: the prompt comes first (with its logprobs, sent when they arrive).
      if (!echo_text[i / n].empty() && logprobs < 0) text_chunk(echo_text[i / n], nullptr, nullptr);
    }
    switch (e.kind) {
      case EventKind::PromptLogprobs: {
        LegacyLogprobs l;
        for (const auto& t : e.prompt) l.add(*cp, t, true);
        text_chunk(echo_text[i / n], l.to_json(), nullptr);
        break;
      }
      case EventKind::Token: {
        json lp = nullptr;
        if (logprobs >= 0 && e.token.id >= 0) {
          LegacyLogprobs l;
          l.add(*cp, e.token, true);
          lp = l.to_json();
        }
        if (!e.text.empty() || !lp.is_null()) text_chunk(e.text, lp, nullptr);
        break;
      }
      case EventKind::Done:
        text_chunk("", nullptr, e.finish_reason);
        ss->completion += e.n_generated;
        if (i % n == 0) {
          ss->prompt_tokens += e.n_prompt;
          ss->cached += e.n_cached;
        }
        break;
      case EventKind::Error:
        out += sse({{"error", event_error(e).body()["error"]}});
        break;
      default:
        break;
    }
  };
  auto on_end = [ss, id, created, model, include_usage](std::string& out) {
    if (include_usage)
      out += sse({{"id", id},
                  {"object", "text_completion"},
                  {"created", created},
                  {"model", model},
                  {"choices", json::array()},
                  {"usage", usage_json(ss->prompt_tokens, ss->completion, ss->cached)}});
    out += "data: [DONE]\n\n";
  };
  stream_events(ctx, res, stream, n_choices, std::move(guard), start, on_event, on_end);
}

}  // namespace

void register_completion_routes(Context& ctx) {
  auto h = [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_completions(ctx, req, res);
  };
  ctx.http.Post("/v1/completions", h);
  ctx.http.Post("/completions", h);
}

}  // namespace sf::server
