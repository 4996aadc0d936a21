// A one-line progress bar on stderr for long commands (convert, quantize,
// pull): fraction done, bytes, speed and ETA. Redrawn at most 10 times a
// second, and only when stderr is a terminal; finish() prints the final state
// either way. Not thread-safe: call from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sf::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  // `done` of `total` units (total 0: unknown); `bytes` so far for the speed.
  void update(uint64_t done, uint64_t total, uint64_t bytes);
  // Bytes are the units (downloads): done == bytes; `base` bytes were already
  // there before this run (a resumed download) and do not count for speed.
  void update_bytes(uint64_t done, uint64_t total, uint64_t base = 0);
  void finish();

 private:
  void draw(bool final);
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_;
  uint64_t done_ = 0, total_ = 0, bytes_ = 0, base_ = 0;
  bool tty_ = false, drawn_ = false, finished_ = false;
};

std::string human_bytes(double bytes);

}  // namespace sf::cli
