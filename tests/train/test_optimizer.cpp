// AdamW, gradient clipping and the learning-rate schedule against
// straightforward double-precision references of torch's formulas, plus the
// properties exact resume relies on (results independent of thread count).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "core/threadpool.h"
#include "train/adamw.h"
#include "train/schedule.h"

namespace sf::train {
namespace {

ParamLayout small_layout() {
  ParamLayout l;
  l.add("token_embd.weight", {7, 5}, true);  // 35 elements (odd tail for the SIMD loop)
  l.add("blk.0.attn_norm.weight", {5}, false);
  l.add("blk.0.attn_q.weight", {3, 5}, true);
  l.add("blk.0.attn_q.bias", {3}, false);
  return l;
}

void fill(ParamBuffer<float>& b, const ParamLayout& l, std::mt19937& rng, float scale) {
  std::normal_distribution<float> n(0.0f, scale);
  b.allocate(l);
  for (const auto& t : l.tensors())
    for (size_t i = 0; i < t.size; ++i) b.data[t.offset + i] = n(rng);
}

// torch.optim.AdamW (single-tensor) in double precision.
struct RefAdamW {
  std::vector<double> p, m, v;
  void step(const ParamLayout& l, const std::vector<float>& g, int t, double lr,
            const AdamWConfig& c) {
    const double b1 = c.beta1, b2 = c.beta2;
    const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    for (const auto& ten : l.tensors())
      for (size_t i = ten.offset; i < ten.offset + ten.size; ++i) {
        if (ten.decay) p[i] *= 1 - lr * c.weight_decay;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * double(g[i]) * g[i];
        p[i] -= lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + c.eps);
      }
  }
};

TEST(AdamW, MatchesDoubleReferenceOverManySteps) {
  const ParamLayout l = small_layout();
  std::mt19937 rng(42);
  ParamBuffer<float> p, g, m, v;
  fill(p, l, rng, 1.0f);
  m.allocate(l);
  v.allocate(l);
  RefAdamW ref;
  ref.p.assign(p.data.begin(), p.data.end());
  ref.m.assign(l.total(), 0);
  ref.v.assign(l.total(), 0);
  AdamWConfig cfg;
  cfg.weight_decay = 0.1f;
  ThreadPool pool(2);
  for (int t = 1; t <= 50; ++t) {
    fill(g, l, rng, 0.5f);
    const float lr = lr_at(t, 5, 50, 1e-2f, 1e-3f);
    adamw_step(l, p, g, m, v, t, lr, cfg, pool);
    ref.step(l, g.data, t, lr, cfg);
  }
  double max_err = 0;
  for (size_t i = 0; i < l.total(); ++i)
    max_err = std::max(max_err, std::fabs(p.data[i] - ref.p[i]));
  EXPECT_LT(max_err, 2e-6) << "f32 AdamW drifted from the double reference";
  // Padding (between tensors) stays zero.
  for (const auto& t : l.tensors())
    for (size_t i = t.offset + t.size; i < (t.offset + t.size + 15) / 16 * 16; ++i)
      EXPECT_EQ(p.data[i], 0.0f);
}

TEST(AdamW, FirstStepMovesEachWeightByLrTimesSign) {
  // At t = 1 with zero moments, mhat / sqrt(vhat) = g / |g|: every parameter
  // moves by lr against its gradient's sign (plus decay where enabled).
  ParamLayout l;
  l.add("w", {4, 4}, true);
  l.add("norm", {4}, false);
  ParamBuffer<float> p, g, m, v;
  p.allocate(l);
  g.allocate(l);
  m.allocate(l);
  v.allocate(l);
  for (size_t i = 0; i < 16; ++i) {
    p.data[i] = 1.0f;
    g.data[i] = (i % 2 ? 3.0f : -0.25f);
  }
  for (size_t i = 16; i < 20; ++i) {
    p.data[i] = 1.0f;
    g.data[i] = 2.0f;
  }
  AdamWConfig cfg;
  cfg.weight_decay = 0.5f;
  ThreadPool pool(1);
  adamw_step(l, p, g, m, v, 1, 0.01f, cfg, pool);
  for (size_t i = 0; i < 16; ++i)
    EXPECT_NEAR(p.data[i], 1.0f * (1 - 0.01f * 0.5f) - 0.01f * (i % 2 ? 1 : -1), 1e-6) << i;
  for (size_t i = 16; i < 20; ++i) EXPECT_NEAR(p.data[i], 1.0f - 0.01f, 1e-6) << "no decay";
}

TEST(AdamW, SameBitsForAnyThreadCount) {
  ParamLayout l;
  l.add("a", {300, 257}, true);  // spans several blocks, odd sizes
  l.add("b", {1001}, false);
  l.add("c", {77, 131}, true);
  std::mt19937 rng(7);
  ParamBuffer<float> p0, g;
  fill(p0, l, rng, 1.0f);
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    ParamBuffer<float> p = p0, m, v;
    m.allocate(l);
    v.allocate(l);
    std::mt19937 grng(9);
    for (int t = 1; t <= 3; ++t) {
      fill(g, l, grng, 1.0f);
      const float n = clip_grad_norm(g, 1.0f, pool);
      EXPECT_GT(n, 1.0f);
      adamw_step(l, p, g, m, v, t, 1e-3f, AdamWConfig{}, pool);
    }
    results.push_back(p.data);
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

TEST(ClipGradNorm, NormAndScalingLikeTorch) {
  ParamLayout l;
  l.add("a", {3}, true);
  l.add("b", {2}, false);
  ParamBuffer<float> g;
  g.allocate(l);
  const float vals[5] = {3, 4, 0, 12, 0};  // |g| = 13
  for (int i = 0; i < 3; ++i) g.data[l[0].offset + i] = vals[i];
  for (int i = 0; i < 2; ++i) g.data[l[1].offset + i] = vals[3 + i];
  ParamBuffer<float> g2 = g;

  EXPECT_FLOAT_EQ(clip_grad_norm(g, 0.0f), 13.0f) << "max_norm 0: norm only";
  EXPECT_EQ(g.data, g2.data);
  EXPECT_FLOAT_EQ(clip_grad_norm(g, 100.0f), 13.0f) << "under the limit: unchanged";
  EXPECT_EQ(g.data, g2.data);

  EXPECT_FLOAT_EQ(clip_grad_norm(g, 1.0f), 13.0f) << "returns the norm before clipping";
  const float c = static_cast<float>(1.0 / (13.0 + 1e-6));
  EXPECT_FLOAT_EQ(g.data[l[0].offset], 3 * c);
  EXPECT_FLOAT_EQ(g.data[l[1].offset], 12 * c);
  EXPECT_NEAR(clip_grad_norm(g, 0.0f), 1.0f, 1e-6);

  ThreadPool pool(2);
  EXPECT_EQ(clip_grad_norm(g2, 1.0f, pool), 13.0f);
  EXPECT_EQ(g.data, g2.data) << "pooled version: same bits";

  g.data[0] = std::nanf("");
  EXPECT_TRUE(std::isnan(clip_grad_norm(g, 1.0f))) << "NaN reaches the caller";
}

TEST(ClipGradNorm, DoubleAccumulationOfManySmallValues) {
  // 4M values of 1e-3: an f32 running sum of squares would stall; double does not.
  ParamLayout l;
  l.add("a", {1 << 22}, true);
  ParamBuffer<float> g;
  g.allocate(l);
  std::fill(g.data.begin(), g.data.end(), 1e-3f);
  const double want = std::sqrt(double(1 << 22) * double(1e-3f) * double(1e-3f));
  EXPECT_NEAR(clip_grad_norm(g, 0.0f), want, want * 1e-6);
}

TEST(Schedule, WarmupCosineAndFloor) {
  // Warmup reaches the peak at `warmup`, starting at max/warmup (step 1).
  EXPECT_FLOAT_EQ(lr_at(1, 10, 100, 1.0f, 0.1f), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(5, 10, 100, 1.0f, 0.1f), 0.5f);
  EXPECT_FLOAT_EQ(lr_at(10, 10, 100, 1.0f, 0.1f), 1.0f);
  // Cosine: halfway between warmup and total is the midpoint of max and min.
  EXPECT_FLOAT_EQ(lr_at(55, 10, 100, 1.0f, 0.1f), 0.55f);
  EXPECT_FLOAT_EQ(lr_at(100, 10, 100, 1.0f, 0.1f), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(101, 10, 100, 1.0f, 0.1f), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(5000, 10, 100, 1.0f, 0.1f), 0.1f);
  // Monotone decay after warmup.
  for (int s = 11; s <= 100; ++s)
    EXPECT_LE(lr_at(s, 10, 100, 1.0f, 0.1f), lr_at(s - 1, 10, 100, 1.0f, 0.1f)) << s;
  // No warmup: step 1 is already (almost) the peak; degenerate totals end at min.
  EXPECT_NEAR(lr_at(1, 0, 100, 1.0f, 0.0f), 1.0f, 1e-3);
  EXPECT_FLOAT_EQ(lr_at(20, 10, 10, 1.0f, 0.2f), 0.2f);
  EXPECT_FLOAT_EQ(lr_at(10, 10, 10, 1.0f, 0.2f), 1.0f);
}

TEST(AdamW, FifteenMillionParametersAtMemorySpeed) {
  // The step reads p, g, m, v and writes p, m, v: ~420 MB for 15M
  // parameters, so it is bound by memory bandwidth. Compared with a plain
  // loop moving the same bytes over the same pool (the machine's ceiling),
  // rather than with a fixed time that depends on the machine and its load.
  ParamLayout l;
  for (int i = 0; i < 15; ++i) l.add("w" + std::to_string(i), {1000, 1000}, i % 2 == 0);
  ParamBuffer<float> p, g, m, v;
  p.allocate(l);
  g.allocate(l);
  m.allocate(l);
  v.allocate(l);
  std::fill(g.data.begin(), g.data.end(), 0.01f);
  ThreadPool pool(ThreadPool::default_threads());
  adamw_step(l, p, g, m, v, 1, 1e-3f, AdamWConfig{}, pool);  // page in
  auto stream = [&] {
    const int64_t n = static_cast<int64_t>(p.data.size()), block = 1 << 15;
    pool.parallel_for((n + block - 1) / block, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b * block; i < std::min(n, e * block); ++i) {
        p.data[i] += g.data[i] * 1e-3f;
        m.data[i] = m.data[i] * 0.9f + g.data[i];
        v.data[i] = v.data[i] * 0.95f + g.data[i];
      }
    });
  };
  double best = 1e9, best_clip = 1e9, best_stream = 1e9;
  using ms = std::chrono::duration<double, std::milli>;
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    adamw_step(l, p, g, m, v, 2 + r, 1e-3f, AdamWConfig{}, pool);
    auto t1 = std::chrono::steady_clock::now();
    clip_grad_norm(g, 1e9f, pool);
    auto t2 = std::chrono::steady_clock::now();
    stream();
    auto t3 = std::chrono::steady_clock::now();
    best = std::min(best, ms(t1 - t0).count());
    best_clip = std::min(best_clip, ms(t2 - t1).count());
    best_stream = std::min(best_stream, ms(t3 - t2).count());
  }
  std::printf(
      "15M params, %d threads: AdamW step %.2f ms, grad norm %.2f ms, plain loop over the same "
      "buffers %.2f ms\n",
      pool.size(), best, best_clip, best_stream);
  EXPECT_LT(best, 2.5 * best_stream + 5.0);
}

}  // namespace
}  // namespace sf::train
