#include "server/ids.h"

#include <chrono>
#include <random>

namespace sf::server {

std::string random_id(const char* prefix) {
  static const char* k = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string s = prefix;
  for (int i = 0; i < 24; ++i) s += k[rng() % 62];
  return s;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sf::server
