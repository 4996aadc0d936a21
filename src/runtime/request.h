// What a client asks the engine for, and what the engine sends back.
//
// A GenRequest is built and validated by the caller (the HTTP layer) and handed
// to Engine::submit(); from then on the engine thread owns the work and reports
// through the request's RequestStream, a small thread-safe event queue that the
// submitting thread reads. Either side may end it: the engine by pushing a
// final Done/Error event, the client by cancel() (a disconnected HTTP client),
// which the engine notices at its next step and frees the sequence slot.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/sampler.h"

namespace sf {

class JsonSchema;

struct TopLogprob {
  int32_t id;
  float logprob;
};

// Log-probability of one token under the model's raw distribution (softmax of
// the logits before any sampling transform, as OpenAI reports them).
struct TokenLogprob {
  int32_t id = -1;
  float logprob = 0;
  std::vector<TopLogprob> top;  // highest first; empty unless asked for
};

struct GenRequest {
  std::vector<int32_t> prompt;  // at least one token
  SamplerParams sampling;
  int max_tokens = -1;            // -1: until end-of-generation or the context is full
  std::vector<std::string> stop;  // stop strings; the matched text is not returned
  bool ignore_eos = false;
  int top_logprobs = -1;  // -1: no logprobs; 0..20: chosen token + that many alternatives
  // Echo-style scoring: the logprob of every prompt token given its prefix
  // (what lm-evaluation-harness asks /v1/completions for). Disables prefix reuse.
  bool prompt_logprobs = false;
  // Embedding request: no generation; the final-normed hidden states of the
  // prompt are mean-pooled and L2-normalized.
  bool embedding = false;
  // Constrained decoding: only tokens that keep the output a valid prefix of a
  // document matching this schema are allowed; end-of-generation only once it
  // is complete.
  std::shared_ptr<const JsonSchema> json_schema;
  // Absolute deadline; the engine ends the request with an error after it.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Which of the caller's choices this is (OpenAI `n`): copied into every
  // event, so the n requests of one call can share one RequestStream.
  int choice = 0;
};

enum class EventKind { Token, PromptLogprobs, Embedding, Done, Error };

struct Event {
  EventKind kind = EventKind::Token;
  int choice = 0;  // GenRequest::choice
  // Token: the text released by this token (may be empty while a possible
  // stop string or an incomplete UTF-8 sequence is held back, or longer when
  // held-back text is released), the token and, if asked, its logprobs.
  std::string text;
  TokenLogprob token;
  // PromptLogprobs: one entry per prompt token (the first has no logprob: nan).
  std::vector<TokenLogprob> prompt;
  std::vector<float> embedding;
  // Done: "stop" (end-of-generation, stop string or schema complete) or "length".
  std::string finish_reason;
  int n_prompt = 0;     // prompt tokens
  int n_cached = 0;     // of which reused from the prefix cache
  int n_generated = 0;  // completion tokens
  // Error: message, and the HTTP-ish class of it ("timeout", "server_error").
  std::string error;
  std::string error_type;
};

// The engine → client channel of one API call (one or more GenRequests, told
// apart by Event::choice). Thread-safe.
class RequestStream {
 public:
  void push(Event e) {
    {
      std::lock_guard<std::mutex> l(mu_);
      events_.push_back(std::move(e));
    }
    cv_.notify_all();
  }
  // Waits up to `timeout` for an event. False when none arrived in time.
  bool pop(Event& out, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> l(mu_);
    if (!cv_.wait_for(l, timeout, [&] { return !events_.empty(); })) return false;
    out = std::move(events_.front());
    events_.pop_front();
    return true;
  }
  // The client is gone or gave up; the engine drops the request at its next step.
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace sf
