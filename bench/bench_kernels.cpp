// Weight x activation kernels per type and ISA level, side by side.
//
//   matmul/<type>/<rows>x<cols>/M<m>/<isa>   the public matmul() on a thread
//       pool (STARFIRE_BENCH_THREADS, default 2). Weights are rotated through
//       copies totalling >= 96 MB, so M = 1 streams them from memory (or L3)
//       as token generation does.
//   kernel/<type>/<cols>/M<m>/<isa>          one thread, the raw kernel on
//       ~256 KB of weights that stay in L2: the compute ceiling (SIMD levels).
// Types with a packed layout (core/packed_weights.h: Q4_0, Q5_0, Q8_0, Q4_K,
// Q6_K, F32, F16, BF16) also run with <isa> = "packed": the AVX-512 level on
// row-interleaved copies of the same weights (WeightView::packed), plus two
// TinyLlama shapes (2048x2048, 5632x2048) in both layouts (float types also
// at M = 512, a prompt's worth).
// Counters: GB/s of weights (the M = 1 figure of merit) and GFLOP/s
// (2 * rows * cols * M per call; the M > 1 figure). Scalar is matmul's
// dequantize + f32 dot path. After the runs a table compares the levels
// (GB/s for M = 1, GFLOP/s otherwise). JSON for comparisons between runs:
// --benchmark_out=FILE --benchmark_out_format=json. Filter with
// --benchmark_filter=REGEX as usual.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/dtype.h"
#include "core/fp16.h"
#include "core/kernels/kernels.h"
#include "core/matmul.h"
#include "core/packed_weights.h"
#include "core/threadpool.h"

namespace {

using sf::DType;
using sf::Isa;

struct Shape {
  int64_t rows, cols;
};

const Shape kShapes[] = {{896, 896}, {4864, 896}, {2048, 5632}, {4096, 4096}};
const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                        DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                        DType::Q4_K, DType::Q5_K, DType::Q6_K};
const Shape kPackedShapes[] = {{2048, 2048}, {5632, 2048}};  // extra shapes, packable types only
const Isa kIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512};
const int64_t kMs[] = {1, 64};

int bench_threads() {
  const char* s = std::getenv("STARFIRE_BENCH_THREADS");
  const int n = s ? std::atoi(s) : 2;
  return n > 0 ? n : 2;
}

sf::ThreadPool& pool() {
  static sf::ThreadPool p(bench_threads());
  return p;
}

// Offsets of the fp16 scale fields in a block (others are random bytes).
std::vector<int> fp16_fields(DType t) {
  switch (t) {
    case DType::Q4_1:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
      return {0, 2};
    case DType::Q2_K:
      return {80, 82};
    case DType::Q3_K:
      return {108};
    case DType::Q6_K:
      return {208};
    default:
      return {0};
  }
}

// Valid random rows: random bytes with moderate fp16 scales (values do not
// change the speed, but NaNs could).
void fill_random(DType t, uint8_t* p, size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  if (t == DType::F32) {
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    for (size_t i = 0; i + 4 <= bytes; i += 4) {
      const float v = d(rng);
      std::memcpy(p + i, &v, 4);
    }
    return;
  }
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> d(0.001f, 0.05f);
  const size_t bb = sf::traits(t).block_bytes;
  for (size_t off = 0; off + bb <= bytes; off += bb) {
    for (int f : fp16_fields(t)) {
      const float v = d(rng);
      const uint16_t h = t == DType::BF16 ? sf::f32_to_bf16(v) : sf::f32_to_fp16(v);
      std::memcpy(p + off + f, &h, 2);
    }
  }
}

struct WeightSet {
  std::vector<uint8_t> data;
  size_t bytes = 0;  // one copy
  int copies = 1;
  sf::AlignedBuffer packed;  // `copies` packed copies, made on first use
  size_t packed_bytes = 0;   // one copy
};

WeightSet& weights(DType t, Shape s) {
  static std::map<std::string, std::unique_ptr<WeightSet>> cache;
  const std::string key =
      std::string(sf::type_name(t)) + std::to_string(s.rows) + "x" + std::to_string(s.cols);
  auto& slot = cache[key];
  if (!slot) {
    slot = std::make_unique<WeightSet>();
    slot->bytes = sf::row_bytes(t, s.cols) * static_cast<size_t>(s.rows);
    slot->copies = static_cast<int>(std::max<size_t>(1, (96u << 20) / slot->bytes + 1));
    slot->data.resize(slot->bytes * slot->copies);
    fill_random(t, slot->data.data(), slot->bytes, 1);
    for (int c = 1; c < slot->copies; ++c)
      std::memcpy(slot->data.data() + c * slot->bytes, slot->data.data(), slot->bytes);
  }
  return *slot;
}

std::vector<float> activations(int64_t m, int64_t n) {
  std::mt19937 rng(2);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(m * n));
  for (float& v : x) v = d(rng);
  return x;
}

void set_counters(benchmark::State& state, double weight_bytes, double flops) {
  const double it = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(weight_bytes * it / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * it / 1e9, benchmark::Counter::kIsRate);
}

const uint8_t* packed_copies(WeightSet& ws, DType t, Shape s) {
  if (ws.packed.size() == 0) {
    ws.packed_bytes = sf::packed_bytes(t, s.rows, s.cols);
    ws.packed = sf::AlignedBuffer(ws.packed_bytes * ws.copies);
    for (int c = 0; c < ws.copies; ++c)
      sf::pack_weights(t, ws.data.data(), s.rows, s.cols, ws.packed.data() + c * ws.packed_bytes);
  }
  return ws.packed.data();
}

// packed: the AVX-512 level on packed copies of the weights.
void bm_matmul(benchmark::State& state, DType t, Shape s, int64_t m, Isa isa, bool packed) {
  sf::set_isa(isa);
  WeightSet& ws = weights(t, s);
  const uint8_t* pk = packed ? packed_copies(ws, t, s) : nullptr;
  const auto x = activations(m, s.cols);
  std::vector<float> y(static_cast<size_t>(m * s.rows));
  int k = 0;
  for (auto _ : state) {
    const sf::WeightView wv{t, ws.data.data() + static_cast<size_t>(k) * ws.bytes, s.rows, s.cols,
                            pk ? pk + static_cast<size_t>(k) * ws.packed_bytes : nullptr};
    sf::matmul(wv, x.data(), s.cols, y.data(), s.rows, m, pool());
    benchmark::DoNotOptimize(y.data());
    k = k + 1 == ws.copies ? 0 : k + 1;
  }
  set_counters(state, static_cast<double>(ws.bytes), 2.0 * s.rows * s.cols * m);
  sf::set_isa(sf::best_isa());
}

void bm_kernel(benchmark::State& state, DType t, int64_t cols, int64_t m, Isa isa, bool packed) {
  const sf::kernels::TypeKernels& k = sf::kernels::type_kernels(isa, t);
  const size_t rb = sf::row_bytes(t, cols);
  const int64_t align = packed ? 16 : 4;  // whole row tiles (packed: 16-row groups)
  const int64_t rows =
      std::max<int64_t>(align, static_cast<int64_t>((256u << 10) / rb) / align * align);
  std::vector<uint8_t> w(rb * rows);
  fill_random(t, w.data(), w.size(), 3);
  sf::AlignedBuffer pw(packed ? sf::packed_bytes(t, rows, cols) : 0);
  if (packed) sf::pack_weights(t, w.data(), rows, cols, pw.data());
  const auto x = activations(m, cols);
  const size_t as = sf::kernels::act_row_bytes(k.format, cols);
  std::vector<uint8_t> a(as * m);
  for (int64_t i = 0; i < m; ++i) {
    if (k.quantize)
      k.quantize(x.data() + i * cols, a.data() + i * as, cols);
    else
      std::memcpy(a.data() + i * as, x.data() + i * cols, cols * sizeof(float));
  }
  std::vector<float> y(static_cast<size_t>(m * rows));
  for (auto _ : state) {
    if (packed)
      k.packed_gemm(pw.data(), sf::packed_group_bytes(t, cols), rows, a.data(), as, m, cols,
                    y.data(), rows);
    else
      k.gemm(w.data(), rb, rows, a.data(), as, m, cols, y.data(), rows);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, static_cast<double>(w.size()), 2.0 * rows * cols * m);
}

// Collects each run's figure of merit for the closing table.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      // name: kind/type/shape/M<m>/<isa>[/options...]
      std::vector<std::string> parts;
      const std::string name = r.benchmark_name();
      for (size_t b = 0, e; b <= name.size(); b = e + 1) {
        e = name.find('/', b);
        if (e == std::string::npos) e = name.size();
        parts.push_back(name.substr(b, e - b));
      }
      if (parts.size() < 5) continue;
      const std::string row = parts[0] + "/" + parts[1] + "/" + parts[2] + "/" + parts[3];
      const std::string& isa = parts[4];
      const bool m1 = parts[3] == "M1";
      const auto it = r.counters.find(m1 ? "GB/s" : "GFLOP/s");
      if (it == r.counters.end()) continue;
      if (!table_.count(row)) order_.push_back(row);
      table_[row][isa] = it->second.value;
    }
  }

  void print_table() const {
    if (order_.empty()) return;
    std::printf("\n%-32s %-8s %9s %9s %9s %9s %9s %9s %9s\n", "benchmark", "unit", "scalar", "avx2",
                "avx512", "packed", "avx2/sc", "512/sc", "pk/512");
    for (const std::string& row : order_) {
      const auto& v = table_.at(row);
      const bool m1 = row.size() >= 3 && row.compare(row.size() - 3, 3, "/M1") == 0;
      auto get = [&](const char* isa) {
        const auto it = v.find(isa);
        return it == v.end() ? 0.0 : it->second;
      };
      auto cell = [](double x) {
        char buf[16];
        if (x > 0)
          std::snprintf(buf, sizeof buf, "%9.2f", x);
        else
          std::snprintf(buf, sizeof buf, "%9s", "-");
        return std::string(buf);
      };
      auto ratio = [](double a, double b) {
        char buf[16];
        if (a > 0 && b > 0)
          std::snprintf(buf, sizeof buf, "%8.1fx", a / b);
        else
          std::snprintf(buf, sizeof buf, "%9s", "-");
        return std::string(buf);
      };
      const double sc = get("scalar"), a2 = get("avx2"), a5 = get("avx512"), pk = get("packed");
      std::printf("%-32s %-8s %s %s %s %s %s %s %s\n", row.c_str(), m1 ? "GB/s" : "GFLOP/s",
                  cell(sc).c_str(), cell(a2).c_str(), cell(a5).c_str(), cell(pk).c_str(),
                  ratio(a2, sc).c_str(), ratio(a5, sc).c_str(), ratio(pk, a5).c_str());
    }
  }

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::map<std::string, double>> table_;
};

// True when the AVX-512 level has a packed kernel for t (the "packed" variant runs).
bool has_packed(DType t, int64_t cols) {
  return sf::isa_supported(Isa::Avx512) && sf::packable(t, cols) &&
         sf::kernels::type_kernels(Isa::Avx512, t).packed_gemm != nullptr;
}

void register_matmul(DType t, Shape s, int64_t m, Isa isa, bool packed) {
  const std::string name = std::string("matmul/") + sf::type_name(t) + "/" +
                           std::to_string(s.rows) + "x" + std::to_string(s.cols) + "/M" +
                           std::to_string(m) + "/" + (packed ? "packed" : sf::isa_name(isa));
  benchmark::RegisterBenchmark(name.c_str(), bm_matmul, t, s, m, isa, packed)
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(0.2)
      ->UseRealTime();
}

void register_all() {
  for (DType t : kTypes) {
    const int64_t bs = sf::traits(t).block_size;
    for (const Shape& s : kShapes) {
      if (s.cols % bs != 0) continue;
      for (int64_t m : kMs) {
        for (Isa isa : kIsas)
          if (sf::isa_supported(isa)) register_matmul(t, s, m, isa, false);
        if (has_packed(t, s.cols)) register_matmul(t, s, m, Isa::Avx512, true);
      }
    }
    for (const Shape& s : kPackedShapes) {
      if (!has_packed(t, s.cols)) continue;
      std::vector<int64_t> ms(std::begin(kMs), std::end(kMs));
      if (sf::packed_is_float(t)) ms.push_back(512);
      for (int64_t m : ms) {
        register_matmul(t, s, m, Isa::Avx512, false);
        register_matmul(t, s, m, Isa::Avx512, true);
      }
    }
    const int64_t cols = 4096;
    for (int64_t m : kMs) {
      for (Isa isa : kIsas) {
        // The Scalar level's kernels are the slow quantized-path oracle, not
        // a production path: not timed.
        if (isa == Isa::Scalar || !sf::isa_supported(isa)) continue;
        for (bool packed : {false, true}) {
          if (packed && (isa != Isa::Avx512 || !has_packed(t, cols))) continue;
          const std::string name = std::string("kernel/") + sf::type_name(t) + "/" +
                                   std::to_string(cols) + "/M" + std::to_string(m) + "/" +
                                   (packed ? "packed" : sf::isa_name(isa));
          benchmark::RegisterBenchmark(name.c_str(), bm_kernel, t, cols, m, isa, packed)
              ->Unit(benchmark::kMicrosecond)
              ->MinTime(0.1);
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("ISA: %s, matmul threads: %d\n", sf::describe_isa().c_str(), bench_threads());
  register_all();
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_table();
  benchmark::Shutdown();
  return 0;
}
