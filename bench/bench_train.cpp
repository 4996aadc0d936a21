// One training step of the trainer (zero grads, forward + backward over a
// B x T batch of random tokens, global-norm clip, AdamW) on the two shapes
// issue #6 compares with PyTorch: tools/perf/compare_torch_train.py runs this
// and tools/perf/torch_train_bench.py alternately and prints the ratios.
// Reports tokens/s (B*T per step) as a counter.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/threadpool.h"
#include "train/adamw.h"
#include "train/model.h"

namespace {

struct Shape {
  const char* name;
  int dim, layers, heads, ff, vocab, seq, batch;
};
constexpr Shape kShapes[] = {
    {"stories15m", 288, 6, 6, 768, 32000, 256, 4},  // llama2.c's stories15M, tied head
    {"d512", 512, 8, 8, 1376, 8192, 512, 2},
};

int bench_threads() {
  const char* t = std::getenv("STARFIRE_BENCH_THREADS");
  return t ? std::atoi(t) : 2;
}

void BM_TrainStep(benchmark::State& state) {
  const Shape& s = kShapes[state.range(0)];
  const auto precision = state.range(1) ? sf::GemmPrecision::Bf16 : sf::GemmPrecision::F32;
  sf::ModelConfig cfg;
  cfg.arch = "llama";
  cfg.n_vocab = s.vocab;
  cfg.n_embd = s.dim;
  cfg.n_layer = s.layers;
  cfg.n_head = cfg.n_head_kv = s.heads;
  cfg.head_dim = s.dim / s.heads;
  cfg.rope_dim = cfg.head_dim;
  cfg.n_ff = s.ff;
  cfg.n_ctx_train = s.seq;
  cfg.tied_output = true;
  auto model = sf::train::TrainModel::create(cfg, 1, {precision});
  if (!model.ok()) {
    state.SkipWithError(model.status().message().c_str());
    return;
  }
  auto& m = *model.value();
  sf::ThreadPool pool(bench_threads());
  std::mt19937 rng(0);
  std::vector<int32_t> tokens(static_cast<size_t>(s.batch) * s.seq), targets(tokens.size());
  for (auto& t : tokens) t = static_cast<int32_t>(rng() % s.vocab);
  for (auto& t : targets) t = static_cast<int32_t>(rng() % s.vocab);
  sf::train::ParamBuffer<float> mom, var;
  mom.allocate(m.layout());
  var.allocate(m.layout());
  sf::train::AdamWConfig opt;
  int step = 0;
  for (auto _ : state) {
    m.grads().zero();
    auto loss = m.forward_backward(tokens.data(), targets.data(), nullptr, s.batch, s.seq, 1.0f,
                                   pool);
    if (!loss.ok()) {
      state.SkipWithError(loss.status().message().c_str());
      return;
    }
    sf::train::clip_grad_norm(m.grads(), 1.0f);
    sf::train::adamw_step(m.layout(), m.params(), m.grads(), mom, var, ++step, 1e-3f, opt, pool);
  }
  state.counters["tokens_per_s"] = benchmark::Counter(
      static_cast<double>(s.batch) * s.seq, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(s.name) + (state.range(1) ? "/bf16" : "/f32"));
}

}  // namespace

BENCHMARK(BM_TrainStep)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"shape", "bf16"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);
