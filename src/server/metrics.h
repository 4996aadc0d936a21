// Counters and latency histograms for GET /metrics (Prometheus text format).
// Thread-safe: HTTP threads record, the metrics handler reads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace sf {
struct EngineStats;
}

namespace sf::server {

class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1,     2.5,  5,     10,   30,  60,   120};
  void observe(double seconds);
  // Appends the _bucket/_sum/_count lines for `name`.
  void render(const std::string& name, const std::string& help, std::string& out) const;

 private:
  mutable std::mutex mu_;
  std::array<uint64_t, kBounds.size() + 1> counts_{};
  double sum_ = 0;
  uint64_t n_ = 0;
};

class Metrics {
 public:
  void request(const std::string& endpoint, int status);
  void prompt_tokens(uint64_t n) { prompt_tokens_ += n; }
  void generated_tokens(uint64_t n) { generated_tokens_ += n; }
  void rejected() { rejected_ += 1; }
  Histogram ttft, itl, e2e;

  std::string render(const EngineStats* engine, int n_parallel) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::atomic<uint64_t> prompt_tokens_{0}, generated_tokens_{0}, rejected_{0};
};

}  // namespace sf::server
