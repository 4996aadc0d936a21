#include "runtime/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "core/threadpool.h"
#include "models/batch.h"
#include "models/decoder.h"
#include "models/kv_cache.h"
#include "models/model.h"
#include "runtime/json_constraint.h"
#include "runtime/logprobs.h"
#include "runtime/scheduler.h"
#include "runtime/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace sf {

using Clock = std::chrono::steady_clock;

struct Engine::Work {
  GenRequest req;
  std::shared_ptr<RequestStream> out;
};

struct Engine::Slot {
  int id = 0;
  std::vector<int32_t> tokens;  // whose keys/values are in this slot's cache
  uint64_t last_used = 0;
  std::unique_ptr<Work> work;  // null: free
  uint64_t admitted = 0;
  int prompt_pos = 0;  // next prompt token to compute
  int n_cached = 0;
  bool decoding = false;
  int32_t next = -1;  // sampled, to be fed next step
  int n_generated = 0;
  std::optional<Sampler> sampler;
  std::optional<StreamDecoder> dec;
  StopMatcher stops;
  std::optional<JsonMatcher> json;
  std::vector<TokenLogprob> prompt_lp;
  std::vector<double> emb;
  std::vector<float> masked;
  std::vector<uint8_t> allowed;
};

struct Engine::State {
  State(const Model& m, const EngineOptions& o, int n_ctx, int max_rows)
      : pool(o.n_threads),
        cache(m.config(), n_ctx, o.n_parallel),
        scratch(m, o.n_batch, pool.size()),
        logits(static_cast<size_t>(max_rows) * m.config().n_vocab),
        hidden(static_cast<size_t>(max_rows) * m.config().n_embd) {}
  ThreadPool pool;
  KvCache cache;
  DecoderScratch scratch;
  Batch batch;
  std::vector<float> logits, hidden;
  std::vector<Slot> slots;
  std::deque<std::unique_ptr<Work>> pending;  // admitted to the engine, waiting for a slot
  uint64_t admissions = 0, clock = 0;
};

namespace {

int context_for(const Model& m, int requested) {
  if (requested > 0) return requested;
  return std::max(1, std::min(m.config().n_ctx_train > 0 ? m.config().n_ctx_train : 4096, 4096));
}

}  // namespace

Engine::Engine(std::shared_ptr<const Model> model, const EngineOptions& opts)
    : model_(std::move(model)), opts_(opts) {
  opts_.n_parallel = std::max(1, opts_.n_parallel);
  n_ctx_ = context_for(*model_, opts_.n_ctx);
  // Every generating slot needs one token and one row per step.
  opts_.n_batch = std::max(opts_.n_batch, opts_.n_parallel);
  max_rows_ = opts_.max_rows > 0 ? std::max(opts_.max_rows, opts_.n_parallel)
                                 : std::max(opts_.n_parallel, 32);
  max_rows_ = std::min(max_rows_, opts_.n_batch);
  const int V = model_->config().n_vocab;
  pieces_.resize(V);
  control_.assign(V, 0);
  if (const Tokenizer* tok = model_->tokenizer()) {
    for (int i = 0; i < V; ++i) {
      pieces_[i] = tok->token_to_piece(i);
      control_[i] = tok->is_control(i) || tok->is_eog(i);
    }
  }
  st_ = std::make_unique<State>(*model_, opts_, n_ctx_, max_rows_);
  st_->slots.resize(opts_.n_parallel);
  for (int i = 0; i < opts_.n_parallel; ++i) st_->slots[i].id = i;
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  stop();
}

void Engine::stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.waiting = waiting_.load();
  s.active = active_.load();
  s.steps = steps_.load();
  s.prompt_tokens = prompt_tokens_.load();
  s.cached_tokens = cached_tokens_.load();
  s.generated_tokens = generated_tokens_.load();
  s.requests_done = done_.load();
  return s;
}

Status Engine::check(const GenRequest& r) const {
  const int V = model_->config().n_vocab;
  if (r.prompt.empty()) return Status::error("the prompt is empty (it needs at least one token)");
  // Embeddings and max_tokens 0 (prompt scoring) decode nothing after the
  // prompt, so it may fill the whole context; generation needs one free slot.
  const bool decodes = !r.embedding && r.max_tokens != 0;
  if (static_cast<int>(r.prompt.size()) > n_ctx_ - (decodes ? 1 : 0))
    return errorf("the prompt has %zu tokens, more than the context of %d allows", r.prompt.size(),
                  n_ctx_);
  for (int32_t t : r.prompt)
    if (t < 0 || t >= V) return errorf("token id %d is out of range [0, %d)", t, V);
  for (const auto& [id, b] : r.sampling.logit_bias)
    if (id < 0 || id >= V) return errorf("logit_bias: token id %d is out of range [0, %d)", id, V);
  if (r.top_logprobs > 20) return Status::error("top_logprobs must be at most 20");
  return Sampler::validate(r.sampling);
}

Admission Engine::submit(std::vector<GenRequest> reqs,
                         std::vector<std::shared_ptr<RequestStream>> outs, std::string* why) {
  for (const auto& r : reqs)
    if (Status s = check(r); !s.ok()) {
      if (why) *why = s.message();
      return Admission::Invalid;
    }
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) return Admission::Stopped;
  if (waiting_.load() + static_cast<int>(reqs.size()) > opts_.max_queue)
    return Admission::QueueFull;
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto w = std::make_unique<Work>();
    w->req = std::move(reqs[i]);
    w->out = outs[i];
    incoming_.push_back(std::move(w));
  }
  waiting_ += static_cast<int>(reqs.size());
  cv_.notify_all();
  return Admission::Accepted;
}

const TokenTrie& Engine::trie() {
  if (!trie_) trie_ = std::make_unique<TokenTrie>(pieces_, control_);
  return *trie_;
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      bool busy = !st_->pending.empty();
      for (const auto& s : st_->slots) busy = busy || s.work != nullptr;
      // Idle: sleep until a request arrives; busy: poll briefly so cancels and
      // deadlines of queued requests are seen even when nothing can run.
      if (!busy) cv_.wait(l, [&] { return stopping_ || !incoming_.empty(); });
      if (stopping_) break;
      while (!incoming_.empty()) {
        st_->pending.push_back(std::move(incoming_.front()));
        incoming_.pop_front();
      }
    }
    if (!step()) {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(5),
                   [&] { return stopping_ || !incoming_.empty(); });
    }
  }
  // Shutting down: whatever is left ends with an error rather than silence.
  std::unique_lock<std::mutex> l(mu_);
  while (!incoming_.empty()) {
    st_->pending.push_back(std::move(incoming_.front()));
    incoming_.pop_front();
  }
  l.unlock();
  for (auto& w : st_->pending) {
    Event e;
    e.kind = EventKind::Error;
    e.error = "the server is shutting down";
    e.error_type = "unavailable";
    e.choice = w->req.choice;
    w->out->push(std::move(e));
  }
  st_->pending.clear();
  waiting_ = 0;
  for (auto& s : st_->slots)
    if (s.work) fail(s, "the server is shutting down", "unavailable");
}

void Engine::emit(Slot& s, Event e) {
  e.choice = s.work->req.choice;
  s.work->out->push(std::move(e));
}

void Engine::release(Slot& s) {
  s.work.reset();
  s.sampler.reset();
  s.dec.reset();
  s.json.reset();
  s.prompt_lp.clear();
  s.emb.clear();
  s.decoding = false;
  s.last_used = ++st_->clock;
  --active_;
  ++done_;
}

// The final event goes out after the slot is released, so a client that sees
// it also sees the engine's counters already updated.
void Engine::fail(Slot& s, const std::string& message, const std::string& type) {
  Event e;
  e.kind = EventKind::Error;
  e.error = message;
  e.error_type = type;
  e.choice = s.work->req.choice;
  auto out = s.work->out;
  release(s);
  out->push(std::move(e));
}

void Engine::finish(Slot& s, const std::string& reason) {
  std::string tail;
  if (s.dec) tail = s.dec->flush();
  bool matched = false;
  tail = s.stops.push(tail, matched);
  if (!matched) tail += s.stops.flush();
  if (!tail.empty()) {
    Event t;
    t.kind = EventKind::Token;
    t.text = std::move(tail);  // text only: token.id stays -1
    emit(s, std::move(t));
  }
  Event e;
  e.kind = EventKind::Done;
  e.finish_reason = reason;
  e.n_prompt = static_cast<int>(s.work->req.prompt.size());
  e.n_cached = s.n_cached;
  e.n_generated = s.n_generated;
  e.choice = s.work->req.choice;
  auto out = s.work->out;
  release(s);
  out->push(std::move(e));
}

void Engine::admit() {
  auto& pending = st_->pending;
  // Requests cancelled or expired while queued never take a slot.
  for (auto it = pending.begin(); it != pending.end();) {
    const GenRequest& r = (*it)->req;
    const bool expired = r.deadline && Clock::now() > *r.deadline;
    if ((*it)->out->cancelled() || expired) {
      Event e;
      e.kind = EventKind::Error;
      e.error = expired ? "the request timed out while queued" : "cancelled";
      e.error_type = expired ? "timeout" : "cancelled";
      e.choice = (*it)->req.choice;
      (*it)->out->push(std::move(e));
      it = pending.erase(it);
      --waiting_;
    } else {
      ++it;
    }
  }
  while (!pending.empty()) {
    std::vector<SlotCache> view(st_->slots.size());
    for (size_t i = 0; i < view.size(); ++i)
      view[i] = {st_->slots[i].work == nullptr, st_->slots[i].tokens, st_->slots[i].last_used};
    const GenRequest& r = pending.front()->req;
    int reuse = 0;
    const int i = pick_slot(view, r.prompt, !r.prompt_logprobs && !r.embedding, reuse);
    if (i < 0) break;
    Slot& s = st_->slots[i];
    s.work = std::move(pending.front());
    pending.pop_front();
    --waiting_;
    ++active_;
    const GenRequest& q = s.work->req;
    s.tokens.resize(reuse);
    s.prompt_pos = reuse;
    s.n_cached = reuse;
    cached_tokens_ += reuse;
    s.admitted = ++st_->admissions;
    s.decoding = false;
    s.n_generated = 0;
    s.sampler.emplace(q.sampling);
    s.stops = StopMatcher(q.stop);
    if (const Tokenizer* tok = model_->tokenizer()) {
      s.dec.emplace(*tok);
      s.dec->set_prev(q.prompt.back());
    }
    if (q.json_schema) s.json.emplace(q.json_schema);
    if (q.embedding) s.emb.assign(model_->config().n_embd, 0.0);
    if (q.prompt_logprobs) {
      s.prompt_lp.clear();
      TokenLogprob first;
      first.id = q.prompt[0];
      first.logprob = std::numeric_limits<float>::quiet_NaN();
      s.prompt_lp.push_back(first);
    }
  }
}

bool Engine::handle_token(Slot& s, const float* row) {
  const GenRequest& r = s.work->req;
  const int V = model_->config().n_vocab;
  const Tokenizer* tok = model_->tokenizer();
  std::span<const float> logits(row, V);
  if (s.json) {
    s.allowed.assign(V, 0);
    s.json->allowed(trie(), s.allowed);
    if (s.json->accepting() && tok)
      for (int i = 0; i < V; ++i)
        if (tok->is_eog(i)) s.allowed[i] = 1;
    s.masked.assign(row, row + V);
    bool any = false;
    for (int i = 0; i < V; ++i) {
      if (!s.allowed[i]) s.masked[i] = -std::numeric_limits<float>::infinity();
      any = any || s.allowed[i];
    }
    if (!any) {
      fail(s, "constrained decoding reached a state no token can extend", "server_error");
      return false;
    }
    logits = s.masked;
  }
  auto picked = s.sampler->sample(logits);
  if (!picked.ok()) {
    fail(s, picked.status().message(), "invalid_request_error");
    return false;
  }
  const int32_t id = *picked;
  s.sampler->accept(id);
  ++generated_tokens_;
  if (tok && tok->is_eog(id) && (!r.ignore_eos || s.json)) {
    finish(s, "stop");
    return false;
  }
  ++s.n_generated;
  Event e;
  e.kind = EventKind::Token;
  if (r.top_logprobs >= 0)
    e.token = token_logprob(std::span<const float>(row, V), id, r.top_logprobs);
  else
    e.token.id = id;
  bool matched = false;
  e.text = s.stops.push(s.dec ? s.dec->push(id) : std::string(), matched);
  emit(s, std::move(e));
  if (matched) {
    if (s.dec) s.dec->reset();  // text after the stop string is dropped
    finish(s, "stop");
    return false;
  }
  if (s.json) {
    if (!s.json->feed(pieces_[id])) {
      fail(s, "constrained decoding: sampled a token outside the grammar", "server_error");
      return false;
    }
    if (s.json->done()) {
      finish(s, "stop");
      return false;
    }
  }
  if (r.max_tokens >= 0 && s.n_generated >= r.max_tokens) {
    finish(s, "length");
    return false;
  }
  if (static_cast<int>(s.tokens.size()) + 1 > n_ctx_) {
    finish(s, "length");
    return false;
  }
  s.next = id;
  s.decoding = true;
  return true;
}

bool Engine::step() {
  State& st = *st_;
  // Cancelled (client gone) or expired requests leave at once.
  for (auto& s : st.slots) {
    if (!s.work) continue;
    if (s.work->out->cancelled()) {
      fail(s, "cancelled", "cancelled");
    } else if (s.work->req.deadline && Clock::now() > *s.work->req.deadline) {
      fail(s, "the request timed out", "timeout");
    }
  }
  admit();

  std::vector<SlotView> views(st.slots.size());
  for (size_t i = 0; i < st.slots.size(); ++i) {
    const Slot& s = st.slots[i];
    if (!s.work) continue;
    views[i].busy = true;
    views[i].decoding = s.decoding;
    views[i].n_pending = static_cast<int>(s.work->req.prompt.size()) - s.prompt_pos;
    views[i].all_rows = s.work->req.prompt_logprobs || s.work->req.embedding;
    views[i].admitted = s.admitted;
  }
  const std::vector<Chunk> plan = plan_step(views, opts_.n_batch, max_rows_);
  if (plan.empty()) return false;

  Batch& b = st.batch;
  b.clear();
  bool want_logits = false, want_hidden = false;
  for (const Chunk& c : plan) {
    Slot& s = st.slots[c.slot];
    if (c.decode) {
      b.add(s.next, static_cast<int32_t>(s.tokens.size()), c.slot, true);
      want_logits = true;
      continue;
    }
    const GenRequest& r = s.work->req;
    const int end = s.prompt_pos + c.n_tokens;
    const bool all = r.prompt_logprobs || r.embedding;
    for (int p = s.prompt_pos; p < end; ++p)
      b.add(r.prompt[p], p, c.slot, all || p + 1 == static_cast<int>(r.prompt.size()));
    if (r.embedding)
      want_hidden = true;
    else
      want_logits = true;
  }
  Status fs =
      forward(*model_, b, st.cache, st.scratch, st.pool, want_logits ? st.logits.data() : nullptr,
              want_hidden ? st.hidden.data() : nullptr);
  ++steps_;
  if (!fs.ok()) {
    for (const Chunk& c : plan)
      if (st.slots[c.slot].work) fail(st.slots[c.slot], fs.message(), "server_error");
    return true;
  }

  const int V = model_->config().n_vocab, E = model_->config().n_embd;
  int row = 0;
  for (const Chunk& c : plan) {
    Slot& s = st.slots[c.slot];
    if (c.decode) {
      s.tokens.push_back(s.next);
      const float* lr = st.logits.data() + static_cast<size_t>(row++) * V;
      handle_token(s, lr);
      continue;
    }
    const GenRequest& r = s.work->req;
    const int start = s.prompt_pos, end = start + c.n_tokens;
    const int n_prompt = static_cast<int>(r.prompt.size());
    s.tokens.insert(s.tokens.end(), r.prompt.begin() + start, r.prompt.begin() + end);
    s.prompt_pos = end;
    prompt_tokens_ += c.n_tokens;
    const float* last = nullptr;
    for (int p = start; p < end; ++p) {
      if (!(r.prompt_logprobs || r.embedding || p + 1 == n_prompt)) continue;
      const float* lr = st.logits.data() + static_cast<size_t>(row) * V;
      if (r.embedding) {
        const float* h = st.hidden.data() + static_cast<size_t>(row) * E;
        for (int k = 0; k < E; ++k) s.emb[k] += h[k];
      } else if (r.prompt_logprobs && p + 1 < n_prompt) {
        s.prompt_lp.push_back(token_logprob(std::span<const float>(lr, V), r.prompt[p + 1],
                                            std::max(0, r.top_logprobs)));
      }
      if (p + 1 == n_prompt) last = lr;
      ++row;
    }
    if (end < n_prompt) continue;
    // The prompt is complete.
    if (r.embedding) {
      Event e;
      e.kind = EventKind::Embedding;
      double norm = 0;
      for (double& x : s.emb) {
        x /= n_prompt;
        norm += x * x;
      }
      norm = norm > 0 ? std::sqrt(norm) : 1.0;
      e.embedding.resize(E);
      for (int k = 0; k < E; ++k) e.embedding[k] = static_cast<float>(s.emb[k] / norm);
      emit(s, std::move(e));
      finish(s, "stop");
      continue;
    }
    if (r.prompt_logprobs) {
      Event e;
      e.kind = EventKind::PromptLogprobs;
      e.prompt = std::move(s.prompt_lp);
      emit(s, std::move(e));
    }
    if (r.max_tokens == 0) {
      finish(s, "length");
      continue;
    }
    handle_token(s, last);
  }
  return true;
}

}  // namespace sf
