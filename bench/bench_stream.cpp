// Memory bandwidth over arrays far larger than the caches:
//  * BM_Triad: STREAM's triad (a = b + s*c), two read streams and one write;
//  * BM_Read: one read-only stream (a sum), which is what token generation
//    does with the weights, so it is the roofline generation is measured
//    against (docs/PERFORMANCE.md). A triad's writes cost extra traffic
//    (read-for-ownership, write-back), so it reports less than reads alone.
// GCC 12's AVX-512 headers trip -Wuninitialized in reductions (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <benchmark/benchmark.h>
#include <immintrin.h>

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

// Sum of a[lo, hi) (hi - lo a multiple of 16), with a software prefetch 2 KiB
// ahead as the generation kernels do: without it one core keeps too few
// misses in flight (~21 instead of ~31 GB/s with two threads on the dev VM).
// Independent sums in registers, so loads, not adds, set the pace.
uint64_t read_sse2(const uint64_t* a, size_t lo, size_t hi) {
  __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = lo; i < hi; i += 8) {
    const __m128i* p = reinterpret_cast<const __m128i*>(a + i);
    _mm_prefetch(reinterpret_cast<const char*>(p) + 2048, _MM_HINT_T0);
    s0 = _mm_add_epi64(s0, _mm_loadu_si128(p));
    s1 = _mm_add_epi64(s1, _mm_loadu_si128(p + 1));
    s2 = _mm_add_epi64(s2, _mm_loadu_si128(p + 2));
    s3 = _mm_add_epi64(s3, _mm_loadu_si128(p + 3));
  }
  uint64_t lanes[2];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes),
                   _mm_add_epi64(_mm_add_epi64(s0, s1), _mm_add_epi64(s2, s3)));
  return lanes[0] + lanes[1];
}

// The same with 64-byte loads (what the AVX-512 kernels use), where the CPU
// has them: about 15% more bandwidth than 16-byte loads here.
__attribute__((target("avx512f"))) uint64_t read_avx512(const uint64_t* a, size_t lo, size_t hi) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0;
  for (size_t i = lo; i < hi; i += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(a + i) + 2048, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(a + i) + 2048 + 64, _MM_HINT_T0);
    s0 = _mm512_add_epi64(s0, _mm512_loadu_si512(a + i));
    s1 = _mm512_add_epi64(s1, _mm512_loadu_si512(a + i + 8));
  }
  return _mm512_reduce_add_epi64(_mm512_add_epi64(s0, s1));
}

void BM_Read(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const size_t n = size_t(1) << 27;  // 128M uint64: 1 GiB, like a small model's weights
  std::vector<uint64_t> a(n);
  for (size_t i = 0; i < n; ++i) a[i] = i;  // touched: real pages, not the shared zero page
  const bool wide = __builtin_cpu_supports("avx512f");
  std::vector<uint64_t> sums(threads);
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const size_t lo = n * t / threads / 16 * 16, hi = n * (t + 1) / threads / 16 * 16;
        sums[t] = wide ? read_avx512(a.data(), lo, hi) : read_sse2(a.data(), lo, hi);
      });
    for (auto& th : pool) th.join();
    benchmark::DoNotOptimize(sums.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(wide ? "64-byte loads" : "16-byte loads");
  state.counters["GB/s"] =
      benchmark::Counter(1.0 * n * sizeof(uint64_t) * state.iterations(),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Read)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
