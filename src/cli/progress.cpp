#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace sf::cli {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      start_(std::chrono::steady_clock::now()),
      last_(start_),
      tty_(isatty(STDERR_FILENO) != 0) {}

void ProgressBar::update(uint64_t done, uint64_t total, uint64_t bytes) {
  done_ = done;
  total_ = total;
  bytes_ = bytes;
  const auto now = std::chrono::steady_clock::now();
  if (tty_ && (now - last_ > std::chrono::milliseconds(100) || (total && done == total))) {
    last_ = now;
    draw(false);
  }
}

void ProgressBar::update_bytes(uint64_t done, uint64_t total, uint64_t base) {
  base_ = base;
  update(done, total, done);
}

void ProgressBar::draw(bool final) {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double speed = secs > 0 ? (bytes_ - std::min(base_, bytes_)) / secs : 0;
  const double frac = total_ ? std::min(1.0, double(done_) / total_) : 0;
  const int width = 30, fill = static_cast<int>(frac * width);
  std::string bar(fill, '#');
  bar.append(width - fill, ' ');
  std::string eta = "--";
  if (total_ && done_ > 0 && frac < 1 && speed > 0 && base_ < done_) {
    const double left = secs * (total_ - done_) / double(done_ - base_);
    char b[32];
    std::snprintf(b, sizeof b, "%.0fs", left);
    eta = b;
  }
  std::fprintf(stderr, "%s%s [%s] %3.0f%% %s %s/s ETA %s%s", tty_ ? "\r" : "", label_.c_str(),
               bar.c_str(), frac * 100, human_bytes(bytes_).c_str(), human_bytes(speed).c_str(),
               final ? "0s" : eta.c_str(), final ? "\n" : "");
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (done_ > 0 || total_ > 0) draw(true);
}

}  // namespace sf::cli
