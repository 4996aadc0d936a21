// Sampler stages on small hand-made logits (expected outcomes worked out by
// hand in the comments), the chain's error handling, seeded determinism, and
// a statistical check that the random draw follows the softmax.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace sf {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

Candidates make(std::vector<float> logits) {
  Candidates c;
  c.assign(logits);
  return c;
}

std::vector<int32_t> ids(const Candidates& c) {
  std::vector<int32_t> v;
  for (const Candidate& x : c.items) v.push_back(x.id);
  return v;
}

std::vector<float> logits_by_id(const Candidates& c) {
  std::vector<float> v(c.size());
  for (const Candidate& x : c.items) v[static_cast<size_t>(x.id)] = x.logit;
  return v;
}

// Logits whose softmax is exactly `probs` (up to float rounding).
std::vector<float> log_of(std::vector<double> probs) {
  std::vector<float> v;
  for (double p : probs) v.push_back(static_cast<float>(std::log(p)));
  return v;
}

// Params with every truncation stage off: the draw is a plain softmax.
SamplerParams untruncated(float temperature) {
  SamplerParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

// ---- Rng

TEST(Rng, Splitmix64MatchesReference) {
  // First output of splitmix64 from state 0 (Vigna's reference code).
  uint64_t s = 0;
  EXPECT_EQ(splitmix64(s), 0xE220A8397B1DCDAFull);
}

TEST(Rng, UniformIsInUnitIntervalAndSeeded) {
  Rng a(1), b(1), c(2);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    double u = a.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_EQ(u, b.uniform());
    differs |= (u != c.uniform());
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, StateRoundTrips) {
  Rng a(77);
  a.next();
  Rng b(0);
  b.set_state(a.state());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next(), b.next());
}

// ---- Stages

TEST(SamplerStages, AssignNumbersTokensInOrder) {
  Candidates c = make({0.5f, -1.0f, 2.0f});
  EXPECT_EQ(ids(c), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_FALSE(c.sorted);
  EXPECT_FALSE(c.has_probs);
}

TEST(SamplerStages, LogitBiasAddsAndBans) {
  Candidates c = make({1, 2, 3});
  std::vector<std::pair<int32_t, float>> bias = {{0, 1.5f}, {2, -kInf}, {1, 0.5f}, {1, 0.25f}};
  apply_logit_bias(c, bias);
  // 1 + 1.5 = 2.5; 2 + 0.5 + 0.25 = 2.75 (repeated ids add); 3 - inf = banned.
  EXPECT_EQ(logits_by_id(c), (std::vector<float>{2.5f, 2.75f, -kInf}));
  EXPECT_EQ(pick_greedy(c), 1);
  softmax(c);
  EXPECT_EQ(c.items[2].prob, 0.0f);  // a banned token has probability exactly 0
}

TEST(SamplerStages, LogitBiasKeepsBanAndIgnoresUnknownIds) {
  Candidates c = make({1, 2});
  std::vector<std::pair<int32_t, float>> bias = {{0, -kInf}, {0, 100.0f}, {7, 1.0f}, {-3, 1.0f}};
  apply_logit_bias(c, bias);
  EXPECT_EQ(logits_by_id(c), (std::vector<float>{-kInf, 2.0f}));
}

TEST(SamplerStages, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  Candidates c = make({2.0f, -1.0f, 3.0f, 0.5f, 0.0f});
  std::vector<int32_t> recent = {0, 1, 0, 1, 0, 4};
  apply_repetition_penalty(c, recent, 2.0f);
  // Once per distinct token however often it occurs: 2/2 = 1, -1*2 = -2,
  // 0*2 = 0; tokens 2 and 3 were not seen.
  EXPECT_EQ(logits_by_id(c), (std::vector<float>{1.0f, -2.0f, 3.0f, 0.5f, 0.0f}));
}

TEST(SamplerStages, RepetitionPenaltyOfOneIsNoOp) {
  Candidates c = make({2.0f, -1.0f});
  std::vector<int32_t> recent = {0, 1};
  apply_repetition_penalty(c, recent, 1.0f);
  EXPECT_EQ(logits_by_id(c), (std::vector<float>{2.0f, -1.0f}));
}

TEST(SamplerStages, FrequencyAndPresencePenalty) {
  Candidates c = make({1, 1, 1, 1});
  std::vector<int32_t> recent = {0, 0, 0, 2};
  apply_frequency_presence_penalty(c, recent, 0.5f, 0.25f);
  // Token 0: 1 - 3*0.5 - 0.25 = -0.75; token 2: 1 - 1*0.5 - 0.25 = 0.25.
  EXPECT_EQ(logits_by_id(c), (std::vector<float>{-0.75f, 1.0f, 0.25f, 1.0f}));

  Candidates d = make({1, 1});
  std::vector<int32_t> once = {0, 0};
  apply_frequency_presence_penalty(d, once, -1.0f, 0.0f);  // negative encourages
  EXPECT_EQ(logits_by_id(d), (std::vector<float>{3.0f, 1.0f}));
}

TEST(SamplerStages, TemperatureScalesTheDistribution) {
  // Logits {1, 2, 3}. At temperature t the top token has probability
  // 1 / (1 + e^(-1/t) + e^(-2/t)).
  auto top_prob = [](float t) {
    Candidates c = make({1, 2, 3});
    apply_temperature(c, t);
    softmax(c);
    return c.items[2].prob;
  };
  EXPECT_NEAR(top_prob(1.0f), 1.0 / (1.0 + std::exp(-1.0) + std::exp(-2.0)), 1e-6);  // 0.665
  EXPECT_NEAR(top_prob(0.5f), 1.0 / (1.0 + std::exp(-2.0) + std::exp(-4.0)), 1e-6);  // 0.867
  EXPECT_NEAR(top_prob(2.0f), 1.0 / (1.0 + std::exp(-0.5) + std::exp(-1.0)), 1e-6);  // 0.506

  // The stage stores (logit - max) / t: shifted so the max is 0.
  Candidates c = make({1, 2, 3});
  apply_temperature(c, 0.5f);
  EXPECT_EQ(logits_by_id(c), (std::vector<float>{-4.0f, -2.0f, 0.0f}));
}

TEST(SamplerStages, TinyTemperatureDoesNotOverflow) {
  Candidates c = make({1000.0f, 999.0f, -kInf});
  apply_temperature(c, 1e-37f);
  softmax(c);
  EXPECT_EQ(c.items[0].prob, 1.0f);
  EXPECT_EQ(c.items[1].prob, 0.0f);
  EXPECT_EQ(c.items[2].prob, 0.0f);
}

TEST(SamplerStages, TopKKeepsTheKLargestSorted) {
  Candidates c = make({0.1f, 5.0f, 3.0f, 4.5f, -2.0f, 4.0f});
  apply_top_k(c, 2);
  EXPECT_EQ(ids(c), (std::vector<int32_t>{1, 3}));
  EXPECT_TRUE(c.sorted);

  Candidates d = make({0.1f, 5.0f, 3.0f, 4.5f, -2.0f, 4.0f});
  apply_top_k(d, 3);
  EXPECT_EQ(ids(d), (std::vector<int32_t>{1, 3, 5}));
}

TEST(SamplerStages, TopKTiesGoToLowerIds) {
  Candidates c = make({1, 2, 2, 2});
  apply_top_k(c, 2);
  EXPECT_EQ(ids(c), (std::vector<int32_t>{1, 2}));
}

TEST(SamplerStages, TopKMatchesFullSortWithManyTies) {
  // Quantized logits give many ties; both the heap path (small k) and the
  // nth_element path (large k) must keep the canonical first k, in order.
  Rng rng(11);
  std::vector<float> logits(1000);
  for (float& x : logits) x = static_cast<float>(static_cast<int>(rng.uniform() * 20));
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  for (int k : {1, 5, 40, 62, 63, 700}) {
    Candidates c = make(logits);
    apply_top_k(c, k);
    EXPECT_EQ(ids(c), std::vector<int32_t>(order.begin(), order.begin() + k)) << "k=" << k;
  }
}

TEST(SamplerStages, TopKZeroOrLargeIsNoOp) {
  Candidates c = make({1, 3, 2});
  apply_top_k(c, 0);
  EXPECT_EQ(c.size(), 3u);
  apply_top_k(c, 3);
  EXPECT_EQ(c.size(), 3u);
  apply_top_k(c, 100);
  EXPECT_EQ(ids(c), (std::vector<int32_t>{0, 1, 2}));
}

TEST(SamplerStages, TopPKeepsSmallestNucleus) {
  // Probabilities 0.1, 0.4, 0.2, 0.3 → canonical order 1 (0.4), 3 (0.3),
  // 2 (0.2), 0 (0.1); cumulative 0.4, 0.7, 0.9, 1.0. An unsorted list keeps
  // its (id) order; a sorted one stays sorted.
  const std::vector<float> l = log_of({0.1, 0.4, 0.2, 0.3});
  auto kept = [&](float p, bool presorted) {
    Candidates c = make(l);
    if (presorted) {
      std::sort(c.items.begin(), c.items.end(),
                [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
      c.sorted = true;
    }
    apply_top_p(c, p);
    EXPECT_EQ(c.sorted, presorted);
    return ids(c);
  };
  EXPECT_EQ(kept(0.35f, false), (std::vector<int32_t>{1}));        // 0.4 >= 0.35
  EXPECT_EQ(kept(0.5f, false), (std::vector<int32_t>{1, 3}));      // 0.4 < 0.5 <= 0.7
  EXPECT_EQ(kept(0.75f, false), (std::vector<int32_t>{1, 2, 3}));  // 0.7 < 0.75 <= 0.9
  EXPECT_EQ(kept(0.95f, false), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(kept(1e-6f, false), (std::vector<int32_t>{1}));          // always at least one
  EXPECT_EQ(kept(1.0f, false), (std::vector<int32_t>{0, 1, 2, 3}));  // off

  EXPECT_EQ(kept(0.35f, true), (std::vector<int32_t>{1}));
  EXPECT_EQ(kept(0.5f, true), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(kept(0.75f, true), (std::vector<int32_t>{1, 3, 2}));
  EXPECT_EQ(kept(0.95f, true), (std::vector<int32_t>{1, 3, 2, 0}));
  EXPECT_EQ(kept(1e-6f, true), (std::vector<int32_t>{1}));
}

TEST(SamplerStages, TopPTiesAtTheBoundaryGoToLowerIds) {
  // Four tied tokens (0.225 each) and one smaller: p = 0.4 is crossed at the
  // second tied token (0.45), so exactly two are kept, the lowest ids.
  const std::vector<float> l = log_of({0.1, 0.225, 0.225, 0.225, 0.225});
  Candidates c = make(l);
  apply_top_p(c, 0.4f);
  EXPECT_EQ(ids(c), (std::vector<int32_t>{1, 2}));
}

TEST(SamplerStages, TopPOnLargeVocabMatchesFullSort) {
  // The bucketed boundary search against a reference that sorts everything,
  // on flat (wide nucleus) and peaky logits.
  Rng rng(99);
  for (float scale : {3.0f, 12.0f, 40.0f}) {
    std::vector<float> logits(20000);
    for (float& x : logits) x = static_cast<float>(rng.uniform() * scale);
    for (float p : {0.1f, 0.5f, 0.9f, 0.99f}) {
      Candidates c = make(logits);
      apply_top_p(c, p);

      Candidates ref = make(logits);
      softmax(ref);
      std::sort(ref.items.begin(), ref.items.end(), [](const Candidate& a, const Candidate& b) {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
      });
      double cum = 0;
      size_t n = 0;
      while (n < ref.size() && cum < p) cum += ref.items[n++].prob;
      ref.items.resize(n);
      std::vector<int32_t> want = ids(ref);
      std::sort(want.begin(), want.end());
      EXPECT_EQ(ids(c), want) << "scale=" << scale << " p=" << p;
    }
  }
}

TEST(SamplerStages, MinPKeepsTokensNearTheMax) {
  // Probabilities 0.5, 0.25, 0.125, 0.05, 0.075.
  const std::vector<float> l = log_of({0.5, 0.25, 0.125, 0.05, 0.075});
  auto kept = [&](float p) {
    Candidates c = make(l);
    apply_min_p(c, p);
    return ids(c);
  };
  EXPECT_EQ(kept(0.2f), (std::vector<int32_t>{0, 1, 2}));        // threshold 0.1
  EXPECT_EQ(kept(0.12f), (std::vector<int32_t>{0, 1, 2, 4}));    // threshold 0.06; order kept
  EXPECT_EQ(kept(0.4f), (std::vector<int32_t>{0, 1}));           // threshold 0.2
  EXPECT_EQ(kept(1.0f), (std::vector<int32_t>{0}));              // only the max
  EXPECT_EQ(kept(0.0f), (std::vector<int32_t>{0, 1, 2, 3, 4}));  // off
}

TEST(SamplerStages, SoftmaxSubtractsMax) {
  Candidates c = make({1000.0f, 1000.0f, -kInf});
  softmax(c);
  EXPECT_EQ(c.items[0].prob, 0.5f);
  EXPECT_EQ(c.items[1].prob, 0.5f);
  EXPECT_EQ(c.items[2].prob, 0.0f);
  EXPECT_TRUE(c.has_probs);

  Candidates d = make({0.0f, std::log(2.0f)});
  softmax(d);
  EXPECT_NEAR(d.items[0].prob, 1.0 / 3.0, 1e-7);
  EXPECT_NEAR(d.items[1].prob, 2.0 / 3.0, 1e-7);
}

TEST(SamplerStages, GreedyTiesGoToLowestId) {
  Candidates c = make({1, 3, 3, 2});
  EXPECT_EQ(pick_greedy(c), 1);
  Candidates d = make({-kInf, -kInf, 0.0f, 0.0f});
  EXPECT_EQ(pick_greedy(d), 2);
}

TEST(SamplerStages, RandomPickNeverChoosesZeroProbability) {
  Candidates c = make({-kInf, 0.0f, -kInf});
  Rng rng(5);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(pick_random(c, rng), 1);
}

// ---- Sampler chain

TEST(Sampler, TemperatureZeroIsGreedyOverBiasedLogits) {
  SamplerParams p = untruncated(0.0f);
  p.logit_bias = {{3, -kInf}};
  Sampler s(p);
  std::vector<float> logits = {1, 2, 2, 9};
  // Token 3 is banned; 1 and 2 tie → lowest id.
  Result<int32_t> r = s.sample(logits);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, 1);

  SamplerParams neg = untruncated(-1.0f);  // negative also means greedy
  Sampler g(neg);
  EXPECT_EQ(*g.sample(logits), 3);
}

TEST(Sampler, GreedyDoesNotAdvanceRng) {
  Sampler s(untruncated(0.0f));
  const auto before_state = s.rng().state();
  std::vector<float> logits = {1, 2, 3};
  ASSERT_TRUE(s.sample(logits).ok());
  EXPECT_EQ(s.rng().state(), before_state);
}

TEST(Sampler, PenaltiesUseOnlyTheLastNAcceptedTokens) {
  SamplerParams p = untruncated(0.0f);
  p.repeat_penalty = 2.0f;
  p.penalty_last_n = 2;
  Sampler s(p);
  for (int32_t t : {0, 1, 2}) s.accept(t);
  std::vector<float> logits = {4, 4, 4, 4};
  ASSERT_TRUE(s.sample(logits).ok());
  // Window {1, 2}: 4/2 = 2 for those; 0 fell out of the window.
  EXPECT_EQ(logits_by_id(s.candidates()), (std::vector<float>{4, 2, 2, 4}));

  // Batched trimming of the history keeps the window right.
  for (int i = 0; i < 1000; ++i) s.accept(i % 4 == 3 ? 3 : 0);
  s.accept(1);
  s.accept(3);
  ASSERT_TRUE(s.sample(logits).ok());
  EXPECT_EQ(logits_by_id(s.candidates()), (std::vector<float>{4, 2, 4, 2}));
}

TEST(Sampler, PenaltyLastNAllAndNone) {
  SamplerParams p = untruncated(0.0f);
  p.presence_penalty = 1.0f;
  p.penalty_last_n = -1;
  Sampler all(p);
  for (int32_t t : {0, 1, 2, 0}) all.accept(t);
  std::vector<float> logits = {4, 4, 4, 4};
  ASSERT_TRUE(all.sample(logits).ok());
  EXPECT_EQ(logits_by_id(all.candidates()), (std::vector<float>{3, 3, 3, 4}));
  EXPECT_EQ(*all.sample(logits), 3);

  p.penalty_last_n = 0;
  Sampler none(p);
  for (int32_t t : {0, 1, 2}) none.accept(t);
  ASSERT_TRUE(none.sample(logits).ok());
  EXPECT_EQ(logits_by_id(none.candidates()), (std::vector<float>{4, 4, 4, 4}));
}

TEST(Sampler, CandidatesExposeTheDrawnFromDistribution) {
  SamplerParams p = untruncated(1.0f);
  p.top_k = 2;
  Sampler s(p);
  std::vector<float> logits = {0.0f, std::log(3.0f), -1.0f, 0.0f};
  // Top-2 by (logit desc, id asc): id 1 (ln 3), then id 0 (0, beats id 3 on tie).
  Result<int32_t> r = s.sample(logits);
  ASSERT_TRUE(r.ok());
  const Candidates& c = s.candidates();
  EXPECT_EQ(ids(c), (std::vector<int32_t>{1, 0}));
  EXPECT_NEAR(c.items[0].prob, 0.75, 1e-6);
  EXPECT_NEAR(c.items[1].prob, 0.25, 1e-6);
  EXPECT_TRUE(*r == 0 || *r == 1);
}

TEST(Sampler, AllBannedIsAnError) {
  SamplerParams p = untruncated(0.8f);
  p.logit_bias = {{0, -kInf}, {1, -kInf}, {2, -kInf}};
  Sampler s(p);
  std::vector<float> logits = {1, 2, 3};
  Result<int32_t> r = s.sample(logits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("every token is banned"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(s.candidates().items.empty());

  // Model logits already -inf count too (a greedy sampler fails the same way).
  Sampler g(untruncated(0.0f));
  std::vector<float> dead = {-kInf, -kInf};
  EXPECT_FALSE(g.sample(dead).ok());
}

TEST(Sampler, InvalidLogitsAreErrors) {
  Sampler s(untruncated(0.8f));
  std::vector<float> nan_row = {1, 2, std::nanf(""), 3};
  Result<int32_t> r = s.sample(nan_row);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("token 2 is NaN"), std::string::npos) << r.status().message();

  std::vector<float> inf_row = {kInf, 0};
  r = s.sample(inf_row);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("+inf"), std::string::npos);

  EXPECT_FALSE(s.sample(std::span<const float>()).ok());

  SamplerParams p = untruncated(0.8f);
  p.logit_bias = {{5, 1.0f}};
  Sampler b(p);
  std::vector<float> small = {1, 2, 3};
  r = b.sample(small);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("token id 5 is outside the vocabulary (3 tokens)"),
            std::string::npos)
      << r.status().message();
}

TEST(Sampler, ErrorsDoNotAdvanceRng) {
  Sampler a(untruncated(1.0f)), b(untruncated(1.0f));
  std::vector<float> bad = {std::nanf("")};
  EXPECT_FALSE(a.sample(bad).ok());
  std::vector<float> logits = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*a.sample(logits), *b.sample(logits));
}

// Random logits over a vocabulary of `vocab`, deterministic per step.
std::vector<float> step_logits(int step, size_t vocab) {
  Rng r(static_cast<uint64_t>(step) * 7919 + 1);
  std::vector<float> v(vocab);
  for (float& x : v) x = static_cast<float>(r.uniform() * 8.0 - 4.0);
  return v;
}

std::vector<int32_t> generate(SamplerParams p, int steps) {
  Sampler s(std::move(p));
  std::vector<int32_t> out;
  for (int i = 0; i < steps; ++i) {
    Result<int32_t> t = s.sample(step_logits(i, 500));
    EXPECT_TRUE(t.ok());
    out.push_back(*t);
    s.accept(*t);
  }
  return out;
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  SamplerParams p;  // defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05
  p.repeat_penalty = 1.1f;
  p.frequency_penalty = 0.2f;
  p.presence_penalty = 0.1f;
  p.seed = 123;
  const std::vector<int32_t> a = generate(p, 1000);
  const std::vector<int32_t> b = generate(p, 1000);
  EXPECT_EQ(a, b);

  p.seed = 124;
  const std::vector<int32_t> c = generate(p, 1000);
  int differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i] != c[i];
  EXPECT_GT(differing, 500) << "a different seed should change most draws";
}

TEST(Sampler, ResetReplaysTheSameSequence) {
  SamplerParams p;
  p.repeat_penalty = 1.3f;
  Sampler s(p);
  std::vector<int32_t> first, second;
  for (int i = 0; i < 50; ++i)
    first.push_back(*s.sample(step_logits(i, 300))), s.accept(first.back());
  s.reset();
  for (int i = 0; i < 50; ++i)
    second.push_back(*s.sample(step_logits(i, 300))), s.accept(second.back());
  EXPECT_EQ(first, second);
}

TEST(Sampler, SeededSequenceIsStableAcrossBuilds) {
  // Golden: pins the RNG, the uniform conversion and the walk order, so a
  // change that would alter users' seeded outputs fails here.
  SamplerParams p;
  p.seed = 42;
  const std::vector<int32_t> got = generate(p, 12);
  const std::vector<int32_t> golden = {452, 254, 81, 96, 4, 145, 84, 184, 278, 440, 348, 201};
  EXPECT_EQ(got, golden);
}

// Checks `counts` (from n draws) against `probs` per bucket within 4 sigma,
// and by chi-square against a critical value for p = 0.001.
void expect_matches_distribution(const std::vector<int>& counts, const std::vector<double>& probs,
                                 int n, double chi2_critical) {
  double chi2 = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double expected = n * probs[i];
    if (probs[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i;
      continue;
    }
    const double sigma = std::sqrt(n * probs[i] * (1 - probs[i]));
    EXPECT_LE(std::abs(counts[i] - expected), 4 * sigma + 1)
        << "token " << i << ": " << counts[i] << " draws, expected " << expected;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  EXPECT_LT(chi2, chi2_critical);
}

TEST(Sampler, DrawFrequenciesMatchSoftmax) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f};
  std::vector<double> probs;
  double z = 0;
  for (float l : logits) z += std::exp(static_cast<double>(l));
  for (float l : logits) probs.push_back(std::exp(static_cast<double>(l)) / z);

  Sampler s(untruncated(1.0f));
  const int n = 100000;
  std::vector<int> counts(logits.size());
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(*s.sample(logits))];
  expect_matches_distribution(counts, probs, n, 18.47);  // df = 4
}

TEST(Sampler, DrawFrequenciesMatchTemperatureAndTopK) {
  // Temperature 0.5 then top-k 3: weights e^(2*l) over ids 2, 1, 3 only.
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f};
  std::vector<double> probs(logits.size(), 0.0);
  double z = 0;
  for (size_t i : {1u, 2u, 3u}) z += std::exp(2.0 * logits[i]);
  for (size_t i : {1u, 2u, 3u}) probs[i] = std::exp(2.0 * logits[i]) / z;

  SamplerParams p = untruncated(0.5f);
  p.top_k = 3;
  p.seed = 7;
  Sampler s(p);
  const int n = 100000;
  std::vector<int> counts(logits.size());
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(*s.sample(logits))];
  expect_matches_distribution(counts, probs, n, 13.82);  // df = 2
}

// ---- validate()

TEST(SamplerValidate, AcceptsSensibleParams) {
  EXPECT_TRUE(Sampler::validate(SamplerParams()).ok());
  SamplerParams p;
  p.temperature = -1.0f;  // greedy
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.penalty_last_n = -1;
  p.frequency_penalty = -2.0f;
  p.logit_bias = {{3, -kInf}, {4, 2.0f}};
  EXPECT_TRUE(Sampler::validate(p).ok()) << Sampler::validate(p).message();
  EXPECT_TRUE(Sampler::create(p).ok());
}

TEST(SamplerValidate, RejectsNonsenseWithClearMessages) {
  struct Case {
    void (*mutate)(SamplerParams&);
    const char* expect;  // substring of the message
  };
  const std::vector<Case> cases = {
      {[](SamplerParams& p) { p.top_p = 0.0f; }, "top_p must be in (0, 1]"},
      {[](SamplerParams& p) { p.top_p = 1.5f; },
       "top_p must be in (0, 1] (1 disables it), got 1.5"},
      {[](SamplerParams& p) { p.top_p = std::nanf(""); }, "top_p must be in (0, 1]"},
      {[](SamplerParams& p) { p.top_k = -1; }, "top_k must be >= 0 (0 disables it), got -1"},
      {[](SamplerParams& p) { p.temperature = std::nanf(""); },
       "temperature must be a finite number"},
      {[](SamplerParams& p) { p.temperature = kInf; }, "temperature must be a finite number"},
      {[](SamplerParams& p) { p.min_p = -0.1f; }, "min_p must be in [0, 1]"},
      {[](SamplerParams& p) { p.min_p = 2.0f; }, "min_p must be in [0, 1]"},
      {[](SamplerParams& p) { p.repeat_penalty = 0.0f; },
       "repeat_penalty must be a finite number > 0"},
      {[](SamplerParams& p) { p.repeat_penalty = std::nanf(""); }, "repeat_penalty"},
      {[](SamplerParams& p) { p.penalty_last_n = -2; }, "penalty_last_n must be >= -1"},
      {[](SamplerParams& p) { p.frequency_penalty = std::nanf(""); },
       "frequency_penalty must be a finite"},
      {[](SamplerParams& p) { p.presence_penalty = kInf; }, "presence_penalty must be a finite"},
      {[](SamplerParams& p) {
         p.logit_bias = {{-1, 1.0f}};
       },
       "logit_bias[0]: token id must be >= 0"},
      {[](SamplerParams& p) {
         p.logit_bias = {{1, 0.0f}, {2, kInf}};
       },
       "logit_bias[1]: bias for token 2"},
      {[](SamplerParams& p) {
         p.logit_bias = {{1, std::nanf("")}};
       },
       "or -inf to ban it"},
  };
  for (const Case& c : cases) {
    SamplerParams p;
    c.mutate(p);
    Status st = Sampler::validate(p);
    ASSERT_FALSE(st.ok()) << c.expect;
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << st.message();
    EXPECT_EQ(st.message().rfind("sampler: ", 0), 0u) << st.message();
    EXPECT_FALSE(Sampler::create(p).ok());
  }
}

}  // namespace
}  // namespace sf
