// What chat and text completions share: turning validated parameters into
// engine requests, submitting them, and waiting for or streaming the events.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/request.h"
#include "server/context.h"
#include "server/request_parse.h"

namespace sf::server {

class PeerWatch;
using Clock = std::chrono::steady_clock;

// Engine requests for `n` choices of one prompt (choice ids first_choice..),
// with OpenAI's sampling defaults. Refuses a prompt + max_tokens over the context.
ApiResult<std::vector<GenRequest>> make_requests(const Context& ctx, const CommonParams& p,
                                                 const std::vector<int32_t>& prompt,
                                                 int first_choice);

// Checks ids against the vocabulary (a client may send token ids).
std::optional<ApiError> check_token_ids(const Context& ctx, const std::vector<int32_t>& ids,
                                        const char* param);

// Submits; on refusal returns the error to send (429 with Retry-After when the
// queue is full, 503 while shutting down).
std::optional<ApiError> submit(Context& ctx, std::vector<GenRequest> reqs,
                               const std::shared_ptr<RequestStream>& stream);

// Everything one choice produced.
struct ChoiceResult {
  std::string text;
  std::vector<TokenLogprob> tokens;  // generated tokens (id >= 0)
  std::vector<TokenLogprob> prompt;  // prompt logprobs, if asked for
  std::vector<float> embedding;
  std::string finish_reason;
  int n_prompt = 0, n_cached = 0, n_generated = 0;
  bool failed = false;
  std::string error, error_type;
};

// Waits for all `n` choices. False if the client disconnected first (the
// request is then cancelled in the engine).
bool collect(Context& ctx, RequestStream& stream, int n, const PeerWatch& peer,
             std::vector<ChoiceResult>& out, Clock::time_point start);

// The API error for a choice that failed in the engine.
ApiError engine_error(const ChoiceResult& r);
ApiError event_error(const Event& e);  // the same, for an Error event

// Streams server-sent events: on_event appends frames for each engine event,
// on_end the closing frames (usage, [DONE]). A client that goes away cancels
// the request. The InFlight guard lives until the stream ends.
void stream_events(Context& ctx, httplib::Response& res, std::shared_ptr<RequestStream> stream,
                   int n, InFlight guard, Clock::time_point start,
                   std::function<void(const Event&, std::string&)> on_event,
                   std::function<void(std::string&)> on_end);

// One SSE frame: "data: <json>\n\n".
std::string sse(const nlohmann::json& j);

// Usage object: prompt tokens counted once per distinct prompt.
nlohmann::json usage_json(int prompt_tokens, int completion_tokens, int cached_tokens);

// A token's text as the API shows it (its piece; invalid UTF-8 replaced).
std::string token_text(const Context& ctx, int32_t id);

}  // namespace sf::server
