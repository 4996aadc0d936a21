// STREAM-style triad (a = b + s*c) over arrays far larger than the caches:
// the machine's sustainable memory bandwidth, the roofline that token
// generation is measured against (docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>

#include <thread>
#include <vector>

namespace {

void BM_Triad(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const size_t n = size_t(1) << 25;  // 32M doubles per array: 3 x 256 MiB
  std::vector<double> a(n, 0.0), b(n, 1.0), c(n, 2.0);
  const double s = 3.0;
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        for (size_t i = lo; i < hi; ++i) a[i] = b[i] + s * c[i];
      });
    for (auto& th : pool) th.join();
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  // STREAM counts 3 arrays moved per iteration (2 reads, 1 write).
  state.counters["GB/s"] = benchmark::Counter(3.0 * n * sizeof(double) * state.iterations(),
                                              benchmark::Counter::kIsRate,
                                              benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Triad)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
