// The serving engine: one thread owns the model's KV cache, activations and
// thread pool, and runs continuous batching over many requests (see
// runtime/scheduler.h for the per-step policy). Other threads only submit
// requests and read their RequestStream; nothing they do blocks a step.
//
// Per step: admit waiting requests to free sequence slots (reusing a cached
// prefix), drop cancelled or timed-out ones, plan a batch within the token
// budget (one token per generating sequence, then prompt chunks), run one
// forward pass, then sample, detokenize, apply stop strings and the JSON
// constraint, and push events.
//
// Thread-safety: submit(), stats() and stop() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/request.h"

namespace sf {

class Model;
class TokenTrie;

struct EngineOptions {
  int n_parallel = 4;  // sequence slots (requests generating at once)
  int n_ctx = 0;       // context per slot; 0: the model's training context, capped at 4096
  int n_batch = 256;   // token budget per step (decode tokens + prefill chunks)
  int n_threads = 0;   // 0: all hardware threads
  int max_queue = 64;  // requests waiting for a slot before submit() refuses
  int max_rows = 0;    // logits/hidden rows per step; 0: max(n_parallel, 32)
};

struct EngineStats {
  int waiting = 0;
  int active = 0;
  uint64_t steps = 0;
  uint64_t prompt_tokens = 0;     // prompt tokens computed
  uint64_t cached_tokens = 0;     // prompt tokens reused from the prefix cache
  uint64_t generated_tokens = 0;  // tokens sampled
  uint64_t requests_done = 0;
};

enum class Admission { Accepted, QueueFull, Stopped, Invalid };

class Engine {
 public:
  // Sizes everything from the options; the thread starts at once.
  Engine(std::shared_ptr<const Model> model, const EngineOptions& opts);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues requests that belong together (the `n` choices of one API call):
  // all are accepted or none. Invalid: a bad request (message in `why`), which
  // the HTTP layer normally catches first.
  Admission submit(std::vector<GenRequest> reqs, std::vector<std::shared_ptr<RequestStream>> outs,
                   std::string* why = nullptr);

  // Stops the thread; requests still queued or running end with an error.
  void stop();

  const Model& model() const { return *model_; }
  int n_ctx() const { return n_ctx_; }  // per request
  int n_parallel() const { return opts_.n_parallel; }
  const EngineOptions& options() const { return opts_; }
  EngineStats stats() const;

  // The text of each token as generated (for constrained decoding and tests).
  const std::vector<std::string>& pieces() const { return pieces_; }

 private:
  struct Slot;
  struct Work;
  void loop();
  bool step();
  void admit();
  void finish(Slot& s, const std::string& reason);
  void fail(Slot& s, const std::string& message, const std::string& type);
  void release(Slot& s);
  void emit(Slot& s, Event e);
  bool handle_token(Slot& s, const float* row);
  Status check(const GenRequest& r) const;
  const TokenTrie& trie();

  std::shared_ptr<const Model> model_;
  EngineOptions opts_;
  int n_ctx_ = 0;
  int max_rows_ = 0;
  std::vector<std::string> pieces_;
  std::vector<uint8_t> control_;  // tokens never allowed inside constrained JSON
  std::unique_ptr<TokenTrie> trie_;

  struct State;  // everything the engine thread owns
  std::unique_ptr<State> st_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Work>> incoming_;
  bool stopping_ = false;
  std::atomic<int> waiting_{0}, active_{0};
  std::atomic<uint64_t> steps_{0}, prompt_tokens_{0}, cached_tokens_{0}, generated_tokens_{0},
      done_{0};
  std::thread thread_;
};

}  // namespace sf
