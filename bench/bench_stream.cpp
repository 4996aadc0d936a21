// Memory bandwidth over arrays far larger than the caches:
//  * BM_Triad: STREAM's triad (a = b + s*c), two read streams and one write;
//  * BM_Read: one read-only stream (a sum), which is what token generation
//    does with the weights, so it is the roofline generation is measured
//    against (docs/PERFORMANCE.md). A triad's writes cost extra traffic
//    (read-for-ownership, write-back), so it reports less than reads alone.
#include <benchmark/benchmark.h>
#include <emmintrin.h>

#include <cstdint>
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
  state.counters["GB/s"] =
      benchmark::Counter(3.0 * n * sizeof(double) * state.iterations(), benchmark::Counter::kIsRate,
                         benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Triad)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_Read(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const size_t n = size_t(1) << 27;  // 128M uint64: 1 GiB, like a small model's weights
  std::vector<uint64_t> a(n);
  for (size_t i = 0; i < n; ++i) a[i] = i;  // touched: real pages, not the shared zero page
  std::vector<uint64_t> sums(threads);
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const size_t lo = n * t / threads / 8 * 8, hi = n * (t + 1) / threads / 8 * 8;
        // Four independent 16-byte sums per 64-byte line, in registers (SSE2,
        // the x86-64 baseline), so loads, not adds, set the pace.
        __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t i = lo; i < hi; i += 8) {
          const __m128i* p = reinterpret_cast<const __m128i*>(&a[i]);
          a0 = _mm_add_epi64(a0, _mm_loadu_si128(p));
          a1 = _mm_add_epi64(a1, _mm_loadu_si128(p + 1));
          a2 = _mm_add_epi64(a2, _mm_loadu_si128(p + 2));
          a3 = _mm_add_epi64(a3, _mm_loadu_si128(p + 3));
        }
        uint64_t lanes[2];
        _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes),
                         _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3)));
        const uint64_t s = lanes[0] + lanes[1];
        sums[t] = s;
      });
    for (auto& th : pool) th.join();
    benchmark::DoNotOptimize(sums.data());
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] =
      benchmark::Counter(1.0 * n * sizeof(uint64_t) * state.iterations(),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Read)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
