// sf::gemm on the trainer's linear-layer products, and OpenBLAS's cblas_sgemm
// on the same shapes when the build found OpenBLAS (STARFIRE_HAVE_OPENBLAS).
//
//   gemm/<shape>/f32        sf::gemm, GemmPrecision::F32
//   gemm/<shape>/bf16       sf::gemm, GemmPrecision::Bf16, the default path
//   gemm/<shape>/bf16dot    the same forced onto vdpbf16ps (CPUs with AVX512-BF16;
//                           the default uses it on AMD only, see gemm_kernels.h)
//   gemm/<shape>/openblas   cblas_sgemm (f32), same thread count
// OpenBLAS 0.3.21 does not know recent Xeons (model 207, Emerald Rapids) and
// falls back to its Prescott (SSE3) kernels; run with OPENBLAS_CORETYPE=SkylakeX
// for its AVX-512 kernels. The header line prints the core it uses.
// A linear layer with X (M x K) and W (N x K) runs Y = X W^T (fwd: No, Yes),
// dX = dY W (dx: No, No) and dW += dY^T X (dw: Yes, No, beta = 1); shape
// names say which, with M x N x K of the product. Threads: STARFIRE_BENCH_THREADS
// (default 2) for both libraries. Counter: GFLOP/s = 2 M N K / wall time.
// After the runs a table shows each shape's GFLOP/s side by side (the median
// when --benchmark_repetitions is given) and the ratios ours/OpenBLAS and
// bf16/f32.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/gemm.h"
#include "core/kernels/gemm_kernels.h"
#include "core/threadpool.h"

#ifdef STARFIRE_HAVE_OPENBLAS
// Declared here rather than through <cblas.h>: Debian's default cblas.h may be
// netlib's, which lacks openblas_set_num_threads. Enums as in cblas.h.
extern "C" {
void cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha,
                 const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);
void openblas_set_num_threads(int n);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}
#endif

namespace {

using sf::GemmPrecision;
using sf::Trans;
using sf::gemm_detail::Bf16Path;

struct Shape {
  const char* name;
  Trans ta, tb;
  int64_t m, n, k;
  float beta;
};

// 288 / 768 / 32000: a stories15M-sized model (dim 288, ffn 768, vocab 32000),
// 1024 tokens per step; 512 / 1376 / 1408 / 8192: a larger one at 2048 tokens.
const Shape kShapes[] = {
    {"head_fwd_1024x32000x288", Trans::No, Trans::Yes, 1024, 32000, 288, 0.0f},
    {"head_dx_1024x288x32000", Trans::No, Trans::No, 1024, 288, 32000, 0.0f},
    {"head_dw_32000x288x1024", Trans::Yes, Trans::No, 32000, 288, 1024, 1.0f},
    {"ffn_fwd_1024x768x288", Trans::No, Trans::Yes, 1024, 768, 288, 0.0f},
    {"ffn_dx_1024x288x768", Trans::No, Trans::No, 1024, 288, 768, 0.0f},
    {"ffn_dw_768x288x1024", Trans::Yes, Trans::No, 768, 288, 1024, 1.0f},
    {"ffn_fwd_2048x1376x512", Trans::No, Trans::Yes, 2048, 1376, 512, 0.0f},
    {"ffn_dx_2048x512x1376", Trans::No, Trans::No, 2048, 512, 1376, 0.0f},
    {"ffn_dw_1376x512x2048", Trans::Yes, Trans::No, 1376, 512, 2048, 1.0f},
    {"ffn_fwd_2048x1408x512", Trans::No, Trans::Yes, 2048, 1408, 512, 0.0f},
    {"head_fwd_2048x8192x512", Trans::No, Trans::Yes, 2048, 8192, 512, 0.0f},
    {"head_dw_8192x512x2048", Trans::Yes, Trans::No, 8192, 512, 2048, 1.0f},
};

int bench_threads() {
  const char* s = std::getenv("STARFIRE_BENCH_THREADS");
  const int n = s ? std::atoi(s) : 2;
  return n > 0 ? n : 2;
}

sf::ThreadPool& pool() {
  static sf::ThreadPool p(bench_threads());
  return p;
}

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (float& f : v) {
    x = x * 1664525u + 1013904223u;
    f = static_cast<float>(x >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  return v;
}

struct Operands {
  std::vector<float> a, b, c;
  int64_t lda, ldb, ldc;
  explicit Operands(const Shape& s) {
    const bool ta = s.ta == Trans::Yes, tb = s.tb == Trans::Yes;
    lda = ta ? s.m : s.k;
    ldb = tb ? s.k : s.n;
    ldc = s.n;
    a = random_values(static_cast<size_t>(s.m * s.k), 1);
    b = random_values(static_cast<size_t>(s.k * s.n), 2);
    c.assign(static_cast<size_t>(s.m * s.n), 0.0f);
  }
};

void set_flops(benchmark::State& state, const Shape& s) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * s.m * s.n * s.k, benchmark::Counter::kIsIterationInvariantRate);
}

void bm_ours(benchmark::State& state, Shape s, GemmPrecision prec, Bf16Path path) {
  Operands o(s);
  sf::gemm_detail::set_bf16_path(path);
  for (auto _ : state) {
    sf::gemm(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, s.beta,
             o.c.data(), o.ldc, pool(), prec);
    benchmark::ClobberMemory();
  }
  sf::gemm_detail::set_bf16_path(Bf16Path::Auto);
  set_flops(state, s);
}

#ifdef STARFIRE_HAVE_OPENBLAS
void bm_openblas(benchmark::State& state, Shape s) {
  Operands o(s);
  openblas_set_num_threads(bench_threads());
  const int ta = s.ta == Trans::Yes ? 112 : 111, tb = s.tb == Trans::Yes ? 112 : 111;
  for (auto _ : state) {
    cblas_sgemm(101, ta, tb, static_cast<int>(s.m), static_cast<int>(s.n), static_cast<int>(s.k),
                1.0f, o.a.data(), static_cast<int>(o.lda), o.b.data(), static_cast<int>(o.ldb),
                s.beta, o.c.data(), static_cast<int>(o.ldc));
    benchmark::ClobberMemory();
  }
  set_flops(state, s);
}
#endif

// Collects GFLOP/s per (shape, implementation) for the closing table.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      const std::string name = r.benchmark_name();  // gemm/<shape>/<impl>[/real_time]
      const size_t a = name.find('/'), b = name.find('/', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string row = name.substr(a + 1, b - a - 1);
      const std::string impl = name.substr(b + 1, name.find('/', b + 1) - b - 1);
      const auto it = r.counters.find("GFLOP/s");
      if (it == r.counters.end()) continue;
      if (!table_.count(row)) order_.push_back(row);
      table_[row][impl].push_back(it->second.value);
    }
  }

  void print_table() const {
    if (order_.empty()) return;
    std::printf("\nGFLOP/s (median of runs), %d threads\n", bench_threads());
    std::printf("%-26s %9s %9s %9s %9s %10s %9s\n", "shape", "f32", "bf16", "bf16dot", "openblas",
                "f32/oblas", "bf16/f32");
    for (const std::string& row : order_) {
      const auto& v = table_.at(row);
      auto get = [&](const char* impl) {
        const auto it = v.find(impl);
        if (it == v.end() || it->second.empty()) return 0.0;
        std::vector<double> x = it->second;
        std::sort(x.begin(), x.end());
        return x.size() % 2 ? x[x.size() / 2] : 0.5 * (x[x.size() / 2 - 1] + x[x.size() / 2]);
      };
      auto cell = [](double x) {
        char buf[16];
        if (x > 0)
          std::snprintf(buf, sizeof buf, "%9.1f", x);
        else
          std::snprintf(buf, sizeof buf, "%9s", "-");
        return std::string(buf);
      };
      auto ratio = [](double a, double b) {
        char buf[16];
        if (a > 0 && b > 0)
          std::snprintf(buf, sizeof buf, "%9.2fx", a / b);
        else
          std::snprintf(buf, sizeof buf, "%10s", "-");
        return std::string(buf);
      };
      const double f = get("f32"), h = get("bf16"), d = get("bf16dot"), o = get("openblas");
      std::printf("%-26s %s %s %s %s %s %s\n", row.c_str(), cell(f).c_str(), cell(h).c_str(),
                  cell(d).c_str(), cell(o).c_str(), ratio(f, o).c_str(), ratio(h, f).c_str());
    }
  }

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::map<std::string, std::vector<double>>> table_;
};

void register_all() {
  for (const Shape& s : kShapes) {
    const std::string base = std::string("gemm/") + s.name + "/";
    benchmark::RegisterBenchmark((base + "f32").c_str(), bm_ours, s, GemmPrecision::F32,
                                 Bf16Path::Auto)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.3)
        ->UseRealTime();
    benchmark::RegisterBenchmark((base + "bf16").c_str(), bm_ours, s, GemmPrecision::Bf16,
                                 Bf16Path::Auto)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.3)
        ->UseRealTime();
    if (sf::active_isa() == sf::Isa::Avx512 && sf::cpu_features().avx512bf16)
      benchmark::RegisterBenchmark((base + "bf16dot").c_str(), bm_ours, s, GemmPrecision::Bf16,
                                   Bf16Path::Dot)
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.3)
          ->UseRealTime();
#ifdef STARFIRE_HAVE_OPENBLAS
    benchmark::RegisterBenchmark((base + "openblas").c_str(), bm_openblas, s)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.3)
        ->UseRealTime();
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("ISA: %s, threads: %d, kernels: f32 %s, bf16 %s\n", sf::describe_isa().c_str(),
              bench_threads(), sf::gemm_detail::select_kernel(false)->name,
              sf::gemm_detail::select_kernel(true)->name);
#ifdef STARFIRE_HAVE_OPENBLAS
  openblas_set_num_threads(bench_threads());
  std::printf("OpenBLAS: %s (core %s)\n", openblas_get_config(), openblas_get_corename());
#else
  std::printf("OpenBLAS: not found at configure time (no comparison column)\n");
#endif
  register_all();
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_table();
  benchmark::Shutdown();
  return 0;
}
