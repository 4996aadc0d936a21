#include "server/generation.h"

#include <random>

#include "models/model.h"
#include "server/peer_watch.h"
#include "tokenizer/tokenizer.h"

namespace sf::server {

using nlohmann::json;

ApiResult<std::vector<GenRequest>> make_requests(const Context& ctx, const CommonParams& p,
                                                 const std::vector<int32_t>& prompt,
                                                 int first_choice) {
  const int n_ctx = ctx.engine->n_ctx();
  const int n_prompt = static_cast<int>(prompt.size());
  if (n_prompt == 0) return bad_request("the prompt is empty", "prompt");
  // max_tokens 0 scores the prompt only (echo + logprobs): no slot for a new token.
  const int64_t want =
      static_cast<int64_t>(n_prompt) + (p.max_tokens == 0 ? 0 : std::max(p.max_tokens, 1));
  if (want > n_ctx) {
    ApiError e =
        bad_request("This model's maximum context length is " + std::to_string(n_ctx) +
                        " tokens. However, you requested " + std::to_string(want) + " tokens (" +
                        std::to_string(n_prompt) + " in the prompt, " +
                        std::to_string(p.max_tokens < 0 ? 1 : p.max_tokens) +
                        " for the completion). Please reduce the prompt or max_tokens.",
                    p.max_tokens > 0 ? "max_tokens" : "messages", "context_length_exceeded");
    return e;
  }
  std::vector<GenRequest> out;
  std::random_device rd;
  for (int j = 0; j < p.n; ++j) {
    GenRequest r;
    r.prompt = prompt;
    r.max_tokens = p.max_tokens;
    r.stop = p.stop;
    r.ignore_eos = p.ignore_eos;
    r.choice = first_choice + j;
    SamplerParams& s = r.sampling;
    // OpenAI semantics: only temperature and top_p unless extensions are given.
    s.temperature = p.top_p <= 0.0f ? 0.0f : p.temperature;
    s.top_p = p.top_p <= 0.0f ? 1.0f : p.top_p;
    s.top_k = p.top_k;
    s.min_p = p.min_p;
    s.repeat_penalty = p.repetition_penalty;
    s.penalty_last_n = -1;  // generated tokens only: the prompt is not accepted
    s.frequency_penalty = p.frequency_penalty;
    s.presence_penalty = p.presence_penalty;
    s.logit_bias = p.logit_bias;
    // A given seed reproduces; the n choices of one call differ from each other.
    s.seed = p.seed ? static_cast<uint64_t>(*p.seed) + static_cast<uint64_t>(j)
                    : (static_cast<uint64_t>(rd()) << 32) ^ rd();
    r.deadline = Clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(ctx.opts.request_timeout_s * 1000));
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<ApiError> check_token_ids(const Context& ctx, const std::vector<int32_t>& ids,
                                        const char* param) {
  const int V = ctx.model().config().n_vocab;
  for (int32_t id : ids)
    if (id < 0 || id >= V)
      return bad_request("token id " + std::to_string(id) +
                             " is out of range: the vocabulary has " + std::to_string(V) +
                             " tokens",
                         param, "invalid_value");
  return std::nullopt;
}

std::optional<ApiError> submit(Context& ctx, std::vector<GenRequest> reqs,
                               const std::shared_ptr<RequestStream>& stream) {
  std::vector<std::shared_ptr<RequestStream>> outs(reqs.size(), stream);
  std::string why;
  switch (ctx.engine->submit(std::move(reqs), std::move(outs), &why)) {
    case Admission::Accepted:
      return std::nullopt;
    case Admission::QueueFull:
      ctx.metrics.rejected();
      return ApiError{429, "the server is busy: the request queue is full; retry shortly",
                      "rate_limit_error", "", "queue_full"};
    case Admission::Stopped:
      return ApiError{503, "the server is shutting down", "unavailable_error", "", "shutting_down"};
    case Admission::Invalid:
      return bad_request(why);
  }
  return std::nullopt;
}

namespace {

// Per-choice timing for the TTFT / inter-token histograms.
struct Timing {
  explicit Timing(int n) : last(n) {}
  std::vector<std::optional<Clock::time_point>> last;
  void token(Metrics& m, int choice, Clock::time_point start) {
    if (choice < 0 || choice >= static_cast<int>(last.size())) return;
    const auto now = Clock::now();
    if (!last[choice])
      m.ttft.observe(std::chrono::duration<double>(now - start).count());
    else
      m.itl.observe(std::chrono::duration<double>(now - *last[choice]).count());
    last[choice] = now;
  }
};

void account(Context& ctx, const Event& e) {
  if (e.kind == EventKind::Done) {
    ctx.metrics.prompt_tokens(e.n_prompt);
    ctx.metrics.generated_tokens(e.n_generated);
  }
}

}  // namespace

bool collect(Context& ctx, RequestStream& stream, int n, const PeerWatch& peer,
             std::vector<ChoiceResult>& out, Clock::time_point start) {
  out.assign(n, {});
  Timing timing(n);
  int done = 0;
  auto next_check = Clock::now();
  while (done < n) {
    // Every 25 ms, whether or not events keep coming, look for a hang-up.
    if (Clock::now() >= next_check) {
      if (peer.closed()) {
        stream.cancel();
        return false;
      }
      next_check = Clock::now() + std::chrono::milliseconds(25);
    }
    Event e;
    if (!stream.pop(e, std::chrono::milliseconds(25))) continue;
    if (e.choice < 0 || e.choice >= n) continue;
    ChoiceResult& r = out[e.choice];
    account(ctx, e);
    switch (e.kind) {
      case EventKind::Token:
        r.text += e.text;
        if (e.token.id >= 0) {
          r.tokens.push_back(std::move(e.token));
          timing.token(ctx.metrics, e.choice, start);
        }
        break;
      case EventKind::PromptLogprobs:
        r.prompt = std::move(e.prompt);
        break;
      case EventKind::Embedding:
        r.embedding = std::move(e.embedding);
        break;
      case EventKind::Done:
        r.finish_reason = e.finish_reason;
        r.n_prompt = e.n_prompt;
        r.n_cached = e.n_cached;
        r.n_generated = e.n_generated;
        ++done;
        break;
      case EventKind::Error:
        r.failed = true;
        r.error = e.error;
        r.error_type = e.error_type;
        ++done;
        break;
    }
  }
  ctx.metrics.e2e.observe(std::chrono::duration<double>(Clock::now() - start).count());
  return true;
}

ApiError engine_error(const ChoiceResult& r) {
  if (r.error_type == "timeout") return {504, r.error, "timeout_error", "", "timeout"};
  if (r.error_type == "unavailable") return {503, r.error, "unavailable_error", "", ""};
  if (r.error_type == "invalid_request_error") return bad_request(r.error);
  return {500, r.error, "server_error", "", ""};
}

ApiError event_error(const Event& e) {
  ChoiceResult r;
  r.failed = true;
  r.error = e.error;
  r.error_type = e.error_type;
  return engine_error(r);
}

void stream_events(Context& ctx, httplib::Response& res, std::shared_ptr<RequestStream> stream,
                   int n, InFlight guard, Clock::time_point start,
                   std::function<void(const Event&, std::string&)> on_event,
                   std::function<void(std::string&)> on_end) {
  struct State {
    State(InFlight g, int n) : guard(std::move(g)), timing(n) {}
    InFlight guard;
    Timing timing;
    std::shared_ptr<RequestStream> stream;
    int n = 0, done = 0;
    bool finished = false;
    std::function<void(const Event&, std::string&)> on_event;
    std::function<void(std::string&)> on_end;
  };
  auto st = std::make_shared<State>(std::move(guard), n);
  st->stream = std::move(stream);
  st->n = n;
  st->on_event = std::move(on_event);
  st->on_end = std::move(on_end);
  Context* c = &ctx;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [st, c, start](size_t, httplib::DataSink& sink) -> bool {
        std::string out;
        const auto until = Clock::now() + std::chrono::milliseconds(100);
        while (!st->finished && Clock::now() < until) {
          if (!sink.is_writable()) {
            st->stream->cancel();
            return false;
          }
          // Wait for the first event; then take only what is already there,
          // so each token is written as soon as it exists.
          Event e;
          if (!st->stream->pop(e, std::chrono::milliseconds(out.empty() ? 20 : 0))) {
            if (!out.empty()) break;
            continue;
          }
          account(*c, e);
          if (e.kind == EventKind::Token && e.token.id >= 0)
            st->timing.token(c->metrics, e.choice, start);
          if (e.kind == EventKind::Done || e.kind == EventKind::Error) ++st->done;
          st->on_event(e, out);
          if (st->done >= st->n) {
            st->on_end(out);
            st->finished = true;
            c->metrics.e2e.observe(std::chrono::duration<double>(Clock::now() - start).count());
          }
        }
        if (!out.empty() && !sink.write(out.data(), out.size())) {
          st->stream->cancel();
          return false;
        }
        if (st->finished) sink.done();
        return true;
      },
      [st](bool ok) {
        if (!ok || !st->finished) st->stream->cancel();
      });
}

std::string sse(const json& j) {
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

json usage_json(int prompt_tokens, int completion_tokens, int cached_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}};
}

std::string token_text(const Context& ctx, int32_t id) {
  const auto& pieces = ctx.engine->pieces();
  if (id < 0 || static_cast<size_t>(id) >= pieces.size()) return {};
  return pieces[id];
}

}  // namespace sf::server
