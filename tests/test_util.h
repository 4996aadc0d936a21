// Shared helpers for tests: fixture paths (skip cleanly when ../shared is absent),
// a scratch directory under the build tree, and small file utilities.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sf::test {

inline std::filesystem::path fixtures_dir() { return STARFIRE_FIXTURES; }

inline std::filesystem::path fixture(const std::string& rel) { return fixtures_dir() / rel; }

// Scratch file for a test (never beside the read-only fixtures). The name is
// made unique per process: ctest runs the tests of one executable as parallel
// processes, which must not write each other's files.
inline std::filesystem::path tmp_path(const std::string& name) {
  std::filesystem::path dir = STARFIRE_TEST_TMP;
  std::filesystem::create_directories(dir);
  return dir / (std::to_string(::getpid()) + "_" + name);
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<float> read_f32(const std::filesystem::path& p) {
  std::string b = read_file(p);
  std::vector<float> v(b.size() / sizeof(float));
  std::memcpy(v.data(), b.data(), v.size() * sizeof(float));
  return v;
}

}  // namespace sf::test

// Skips the current test when the shared fixture is absent (a user's clone
// without ../shared still passes, and says why).
#define SF_REQUIRE_FIXTURE(rel)                                                              \
  do {                                                                                       \
    if (!std::filesystem::exists(::sf::test::fixture(rel)))                                  \
      GTEST_SKIP() << "fixture " << (rel) << " not found under " << STARFIRE_FIXTURES        \
                   << " (the ../shared folder beside the checkout); skipping";               \
  } while (0)
