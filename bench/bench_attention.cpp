// The attention kernel (core/attention.h) per ISA level, one thread:
//   attention/<level>/hd<head_dim>/keys<n>/rows<r>
// rows 128 = one prompt job (8 query heads of a GQA group x 16 entries),
// rows 8 = one decoded token's group; every row sees all n keys.
// GFLOP/s counts the two products (q.k and p.v): 4 * rows * n * head_dim.
// The old per-position path (a dot product and an axpy per key, core/ops.h)
// runs as "loops" for comparison.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/attention.h"
#include "core/cpu.h"
#include "core/ops.h"

namespace {

struct Inputs {
  std::vector<float> k, v, q, out;
  std::vector<const float*> qp;
  std::vector<float*> op;
  std::vector<int> n_keys;
  Inputs(int head_dim, int keys, int rows) {
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    const int stride = 4 * head_dim;  // four KV heads per position, as in TinyLlama
    k.resize(static_cast<size_t>(keys) * stride);
    v.resize(k.size());
    q.resize(static_cast<size_t>(rows) * head_dim);
    out.resize(q.size());
    for (float& x : k) x = nd(rng);
    for (float& x : v) x = nd(rng);
    for (float& x : q) x = nd(rng);
    for (int r = 0; r < rows; ++r) {
      qp.push_back(q.data() + r * head_dim);
      op.push_back(out.data() + r * head_dim);
      n_keys.push_back(keys);
    }
  }
};

// level < 0: the old loops (scores, softmax, axpy per key).
void bm_attention(benchmark::State& state, int level, int head_dim, int keys, int rows) {
  if (level >= 0 && !sf::set_isa(static_cast<sf::Isa>(level))) {
    state.SkipWithError("level not supported by this CPU");
    return;
  }
  Inputs in(head_dim, keys, rows);
  const int64_t stride = 4 * head_dim;
  const float scale = 0.125f;
  std::vector<float> scratch(sf::attend_scratch_floats(head_dim, rows)), sc(keys);
  for (auto _ : state) {
    if (level >= 0) {
      sf::attend({rows, in.qp.data(), in.op.data(), in.n_keys.data()},
                 {in.k.data(), in.v.data(), stride}, head_dim, scale, scratch.data());
    } else {
      for (int r = 0; r < rows; ++r) {
        for (int p = 0; p < keys; ++p)
          sc[p] = sf::dot_f32(in.qp[r], in.k.data() + p * stride, head_dim) * scale;
        sf::softmax(sc.data(), keys);
        std::memset(in.op[r], 0, head_dim * sizeof(float));
        for (int p = 0; p < keys; ++p)
          sf::axpy(sc[p], in.v.data() + p * stride, in.op[r], head_dim);
      }
    }
    benchmark::DoNotOptimize(in.out.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(4.0 * rows * keys * head_dim * state.iterations(),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  sf::set_isa(sf::best_isa());
}

void register_all() {
  for (int hd : {64, 128})
    for (int keys : {512, 2048})
      for (int rows : {128, 8})
        for (int level : {-1, 0, 1, 2}) {
          const std::string name =
              std::string("attention/") +
              (level < 0 ? "loops" : sf::isa_name(static_cast<sf::Isa>(level))) + "/hd" +
              std::to_string(hd) + "/keys" + std::to_string(keys) + "/rows" + std::to_string(rows);
          benchmark::RegisterBenchmark(name.c_str(), bm_attention, level, hd, keys, rows)
              ->Unit(benchmark::kMicrosecond)
              ->MinTime(0.2);
        }
}

const int registered = (register_all(), 0);

}  // namespace
