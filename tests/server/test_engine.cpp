// The continuous-batching engine without HTTP: batched generation equals one
// sequence at a time, prefix reuse, cancellation, the bounded queue, prompt
// logprobs against the session's own logits, embeddings, deadlines; and the
// scheduler's per-step plans and the stop-string matcher alone.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/logprobs.h"
#include "runtime/scheduler.h"
#include "runtime/session.h"
#include "runtime/stop_strings.h"
#include "server_test_util.h"

namespace sf {
namespace {

using namespace std::chrono_literals;

struct Output {
  std::vector<int32_t> ids;
  std::string text;
  std::vector<TokenLogprob> prompt_lp;
  std::vector<float> embedding;
  Event done;
  bool failed = false;
  std::string error;
};

// Reads one stream until its Done/Error (bounded).
Output drain(RequestStream& s, int timeout_s = 60) {
  Output o;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < until) {
    Event e;
    if (!s.pop(e, 50ms)) continue;
    switch (e.kind) {
      case EventKind::Token:
        if (e.token.id >= 0) o.ids.push_back(e.token.id);
        o.text += e.text;
        break;
      case EventKind::PromptLogprobs:
        o.prompt_lp = e.prompt;
        break;
      case EventKind::Embedding:
        o.embedding = e.embedding;
        break;
      case EventKind::Done:
        o.done = e;
        return o;
      case EventKind::Error:
        o.failed = true;
        o.error = e.error;
        return o;
    }
  }
  o.failed = true;
  o.error = "timed out waiting for the engine";
  return o;
}

GenRequest greedy(std::vector<int32_t> prompt, int max_tokens) {
  GenRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.sampling.penalty_last_n = 0;
  r.ignore_eos = true;
  return r;
}

std::shared_ptr<RequestStream> submit_one(Engine& e, GenRequest r) {
  auto s = std::make_shared<RequestStream>();
  std::vector<GenRequest> v;
  v.push_back(std::move(r));
  EXPECT_EQ(e.submit(std::move(v), {s}), Admission::Accepted);
  return s;
}

// Greedy continuation computed by a plain Session, one sequence alone.
std::vector<int32_t> reference(std::shared_ptr<const Model> m, const std::vector<int32_t>& prompt,
                               int n) {
  SessionOptions so;
  so.n_ctx = 512;
  so.n_threads = 2;
  Session s(m, so);
  SamplerParams sp;
  sp.temperature = 0;
  sp.penalty_last_n = 0;
  Sampler sampler(sp);
  GenerateOptions go;
  go.n_predict = n;
  go.stop_at_eog = false;
  std::vector<int32_t> out;
  auto st = generate(s, prompt, sampler, go, [&](int32_t id) {
    out.push_back(id);
    return true;
  });
  EXPECT_TRUE(st.ok());
  return out;
}

std::vector<int32_t> prompt_of(int len, int seed) {
  std::vector<int32_t> p = {1};
  for (int i = 1; i < len; ++i) p.push_back(3 + (seed * 131 + i * 37) % 500);
  return p;
}

TEST(Engine, BatchedGenerationEqualsOneSequenceAtATime) {
  auto model = test::load(test::random_chat_model("engine_batch"));
  ASSERT_TRUE(model);
  EngineOptions eo;
  eo.n_parallel = 3;
  eo.n_ctx = 512;
  eo.n_batch = 16;  // small budget: prompts are prefilled in chunks between decodes
  eo.n_threads = 2;
  Engine engine(model, eo);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (int i = 0; i < 6; ++i) {
    prompts.push_back(prompt_of(5 + i * 9, i));
    streams.push_back(submit_one(engine, greedy(prompts.back(), 12)));
  }
  for (int i = 0; i < 6; ++i) {
    Output o = drain(*streams[i]);
    ASSERT_FALSE(o.failed) << o.error;
    EXPECT_EQ(o.ids, reference(model, prompts[i], 12)) << "request " << i;
    EXPECT_EQ(o.done.finish_reason, "length");
    EXPECT_EQ(o.done.n_generated, 12);
  }
  EXPECT_EQ(engine.stats().active, 0);
}

TEST(Engine, ReusesACachedPrefix) {
  auto model = test::load(test::random_chat_model("engine_prefix"));
  ASSERT_TRUE(model);
  EngineOptions eo;
  eo.n_parallel = 1;
  eo.n_ctx = 256;
  eo.n_threads = 2;
  Engine engine(model, eo);
  std::vector<int32_t> system = prompt_of(40, 3);
  std::vector<int32_t> a = system, b = system;
  a.insert(a.end(), {50, 51, 52});
  b.insert(b.end(), {60, 61});
  Output oa = drain(*submit_one(engine, greedy(a, 4)));
  ASSERT_FALSE(oa.failed) << oa.error;
  EXPECT_EQ(oa.done.n_cached, 0);
  Output ob = drain(*submit_one(engine, greedy(b, 6)));
  ASSERT_FALSE(ob.failed) << ob.error;
  EXPECT_EQ(ob.done.n_cached, 40);  // the shared system prompt was not recomputed
  EXPECT_EQ(ob.ids, reference(model, b, 6));
  // The same prompt again: everything but the last token is reused.
  Output oc = drain(*submit_one(engine, greedy(b, 6)));
  EXPECT_EQ(oc.done.n_cached, static_cast<int>(b.size()) - 1);
  EXPECT_EQ(oc.ids, ob.ids);
}

TEST(Engine, CancelFreesTheSlotAtOnce) {
  auto model = test::load(test::random_chat_model("engine_cancel"));
  ASSERT_TRUE(model);
  EngineOptions eo;
  eo.n_parallel = 1;
  eo.n_ctx = 1024;
  eo.n_threads = 2;
  Engine engine(model, eo);
  auto s = submit_one(engine, greedy(prompt_of(8, 1), 1000));
  Event e;
  bool got_token = false;
  for (int i = 0; i < 200 && !got_token; ++i)
    got_token = s->pop(e, 50ms) && e.kind == EventKind::Token;
  ASSERT_TRUE(got_token);
  s->cancel();
  Output o = drain(*s, 10);
  EXPECT_TRUE(o.failed);
  EXPECT_EQ(o.error, "cancelled");
  EXPECT_LT(o.ids.size(), 900u);
  EXPECT_EQ(engine.stats().active, 0);
  // The slot serves the next request.
  Output next = drain(*submit_one(engine, greedy(prompt_of(8, 2), 3)));
  EXPECT_FALSE(next.failed) << next.error;
}

TEST(Engine, BoundedQueueRefuses) {
  auto model = test::load(test::random_chat_model("engine_queue"));
  ASSERT_TRUE(model);
  EngineOptions eo;
  eo.n_parallel = 1;
  eo.n_ctx = 1024;
  eo.max_queue = 1;
  eo.n_threads = 2;
  Engine engine(model, eo);
  std::vector<std::shared_ptr<RequestStream>> accepted;
  int refused = 0;
  for (int i = 0; i < 4; ++i) {
    auto s = std::make_shared<RequestStream>();
    std::vector<GenRequest> v;
    v.push_back(greedy(prompt_of(8, i), 900));
    const Admission a = engine.submit(std::move(v), {s});
    if (a == Admission::QueueFull)
      ++refused;
    else
      accepted.push_back(s);
  }
  EXPECT_GE(refused, 2);  // one may run and one wait; the rest are refused
  for (auto& s : accepted) s->cancel();
  for (auto& s : accepted) drain(*s, 10);
}

TEST(Engine, PromptLogprobsEqualTheSessionsLogits) {
  auto model = test::load(test::random_chat_model("engine_lp"));
  ASSERT_TRUE(model);
  EngineOptions eo;
  eo.n_parallel = 2;
  eo.n_ctx = 256;
  eo.n_batch = 8;  // chunked, several row groups
  eo.max_rows = 4;
  eo.n_threads = 2;
  Engine engine(model, eo);
  const std::vector<int32_t> p = prompt_of(21, 5);
  GenRequest r = greedy(p, 0);
  r.prompt_logprobs = true;
  r.top_logprobs = 3;
  Output o = drain(*submit_one(engine, r));
  ASSERT_FALSE(o.failed) << o.error;
  ASSERT_EQ(o.prompt_lp.size(), p.size());
  EXPECT_TRUE(std::isnan(o.prompt_lp[0].logprob));
  SessionOptions so;
  so.n_ctx = 256;
  Session s(model, so);
  std::vector<float> all;
  ASSERT_TRUE(s.feed(p, &all).ok());
  const size_t V = static_cast<size_t>(model->config().n_vocab);
  for (size_t i = 1; i < p.size(); ++i) {
    std::span<const float> row(all.data() + (i - 1) * V, V);
    const double want = row[p[i]] - log_sum_exp(row);
    EXPECT_NEAR(o.prompt_lp[i].logprob, want, 1e-4) << "position " << i;
    ASSERT_EQ(o.prompt_lp[i].top.size(), 3u);
    EXPECT_GE(o.prompt_lp[i].top[0].logprob, o.prompt_lp[i].top[1].logprob);
  }
  EXPECT_EQ(o.done.finish_reason, "length");
  EXPECT_EQ(o.done.n_generated, 0);
}

TEST(Engine, EmbeddingsAreUnitLengthAndIndependentOfBatching) {
  auto model = test::load(test::random_chat_model("engine_emb"));
  ASSERT_TRUE(model);
  EngineOptions eo;
  eo.n_parallel = 2;
  eo.n_ctx = 256;
  eo.n_threads = 2;
  Engine engine(model, eo);
  GenRequest r;
  r.prompt = prompt_of(30, 9);
  r.embedding = true;
  Output alone = drain(*submit_one(engine, r));
  ASSERT_FALSE(alone.failed) << alone.error;
  ASSERT_EQ(alone.embedding.size(), static_cast<size_t>(model->config().n_embd));
  double norm = 0;
  for (float x : alone.embedding) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-4);
  // Alongside a generating request the vector is the same.
  auto gen = submit_one(engine, greedy(prompt_of(12, 1), 20));
  Output mixed = drain(*submit_one(engine, r));
  drain(*gen);
  ASSERT_EQ(mixed.embedding.size(), alone.embedding.size());
  for (size_t i = 0; i < alone.embedding.size(); ++i)
    EXPECT_NEAR(mixed.embedding[i], alone.embedding[i], 1e-5);
}

TEST(Engine, StopStringsAndDeadlines) {
  auto model = test::load(test::random_chat_model("engine_stop"));
  ASSERT_TRUE(model);
  EngineOptions eo;
  eo.n_parallel = 2;
  eo.n_ctx = 256;
  eo.n_threads = 2;
  Engine engine(model, eo);
  Output full = drain(*submit_one(engine, greedy(prompt_of(6, 4), 30)));
  ASSERT_FALSE(full.failed);
  ASSERT_GE(full.text.size(), 8u);
  const std::string stop = full.text.substr(4, 3);
  GenRequest r = greedy(prompt_of(6, 4), 30);
  r.stop = {stop};
  Output cut = drain(*submit_one(engine, r));
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(cut.done.finish_reason, "stop");

  GenRequest late = greedy(prompt_of(6, 4), 30);
  late.deadline = std::chrono::steady_clock::now() - 1s;
  Output o = drain(*submit_one(engine, late));
  EXPECT_TRUE(o.failed);
  EXPECT_NE(o.error.find("timed out"), std::string::npos);
}

TEST(Scheduler, DecodesFirstThenPrefillChunksInAdmissionOrder) {
  std::vector<SlotView> s(4);
  s[0] = {true, true, 0, false, 1};     // generating
  s[1] = {true, false, 500, false, 3};  // long prompt, admitted later
  s[2] = {true, false, 10, false, 2};   // short prompt, admitted first
  s[3] = {true, true, 0, false, 4};     // generating
  auto plan = plan_step(s, 64, 8);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_TRUE(plan[0].decode && plan[0].slot == 0);
  EXPECT_TRUE(plan[1].decode && plan[1].slot == 3);
  EXPECT_EQ(plan[2].slot, 2);
  EXPECT_EQ(plan[2].n_tokens, 10);
  EXPECT_EQ(plan[2].n_rows, 1);  // its last prompt token
  EXPECT_EQ(plan[3].slot, 1);
  EXPECT_EQ(plan[3].n_tokens, 64 - 2 - 10);  // the rest of the budget: a chunk
  EXPECT_EQ(plan[3].n_rows, 0);
}

TEST(Scheduler, AllRowsChunksRespectTheRowCap) {
  std::vector<SlotView> s(2);
  s[0] = {true, true, 0, false, 1};
  s[1] = {true, false, 100, true, 2};  // echo logprobs: every row
  auto plan = plan_step(s, 64, 8);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[1].n_tokens, 7);
  EXPECT_EQ(plan[1].n_rows, 7);
}

TEST(Scheduler, PicksTheSlotWithTheLongestSharedPrefix) {
  std::vector<int32_t> a = {1, 2, 3, 4, 5}, b = {1, 2, 9}, prompt = {1, 2, 3, 4, 7, 8};
  std::vector<SlotCache> slots = {{true, b, 5}, {true, a, 9}, {false, prompt, 1}};
  int reuse = -1;
  EXPECT_EQ(pick_slot(slots, prompt, true, reuse), 1);
  EXPECT_EQ(reuse, 4);
  EXPECT_EQ(pick_slot(slots, prompt, false, reuse), 0);  // no reuse: least recently used
  EXPECT_EQ(reuse, 0);
  std::vector<int32_t> same = {1, 2, 3, 4, 5};
  EXPECT_EQ(pick_slot(slots, same, true, reuse), 1);
  EXPECT_EQ(reuse, 4);  // the last token is always recomputed
}

TEST(StopMatcher, HoldsBackPossibleStartsAndCutsAtTheStop) {
  StopMatcher m({"END", "\n\n"});
  bool hit = false;
  EXPECT_EQ(m.push("hello E", hit), "hello ");
  EXPECT_FALSE(hit);
  EXPECT_EQ(m.push("N", hit), "");
  EXPECT_EQ(m.push("x", hit), "ENx");
  EXPECT_EQ(m.push("a\n", hit), "a");
  EXPECT_EQ(m.push("\nrest", hit), "");
  EXPECT_TRUE(hit);
  StopMatcher none;
  EXPECT_EQ(none.push("abc", hit), "abc");
  StopMatcher tail({"xyz"});
  EXPECT_EQ(tail.push("abx", hit), "ab");
  EXPECT_EQ(tail.flush(), "x");
}

}  // namespace
}  // namespace sf
