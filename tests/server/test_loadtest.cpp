// A small, bounded run of tools/loadtest against `starfire serve` on
// loopback: 1, 2, 4 and 8 streaming clients, a few requests each. Every
// request must be answered or refused with 429 (a short queue makes some
// refusals likely), and resident memory must not grow much across the run.
// The full measured table is in docs/PERFORMANCE.md.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "server_test_util.h"

namespace sf {
namespace {

namespace fs = std::filesystem;

TEST(LoadTest, BoundedRunEveryRequestAnsweredOrRefused) {
  if (std::system("command -v node >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "node is not installed (scripts/setup.sh installs it); skipping";
  const fs::path tool = fs::path(__FILE__).parent_path().parent_path().parent_path() / "tools" /
                        "loadtest" / "loadtest.mjs";
  ASSERT_TRUE(fs::exists(tool)) << tool;
  const std::string model = test::random_chat_model("loadtest", true, 512, 1024);
  test::ServerProcess server(
      {"-m", model, "--parallel", "4", "--max-queue", "2", "-t", "2", "-c", "1024"});
  ASSERT_TRUE(server.ok());
  const fs::path out = test::tmp_path("loadtest.json");
  // Warm-up pass so the "before" memory reading includes first-use allocations.
  const std::string base = "timeout 240 node '" + tool.string() + "' --url " + server.url() +
                           " --pid " + std::to_string(server.pid()) + " --max-tokens 24";
  ASSERT_EQ(std::system((base + " --clients 4 --requests 1 >/dev/null").c_str()), 0);
  const int rc = std::system((base + " --clients 1,2,4,8 --requests 3 --time-limit 60 --json '" +
                              out.string() + "' >/dev/null")
                                 .c_str());
  EXPECT_EQ(rc, 0) << "some request was neither answered nor refused with 429";
  nlohmann::json j = nlohmann::json::parse(test::read_file(out), nullptr, false);
  ASSERT_TRUE(j.is_object());
  int answered = 0;
  for (const auto& l : j["levels"]) {
    EXPECT_EQ(l["failed"], 0) << l.dump();
    EXPECT_EQ(l["answered"].get<int>() + l["refused_429"].get<int>(), l["requests"].get<int>());
    answered += l["answered"].get<int>();
    if (l["answered"].get<int>() > 0) {
      EXPECT_GT(l["tokens_per_s"].get<double>(), 0);
    }
  }
  EXPECT_GT(answered, 10);
  ASSERT_TRUE(j["rss_mib_before"].is_number() && j["rss_mib_after"].is_number());
  EXPECT_LT(j["rss_mib_after"].get<double>() - j["rss_mib_before"].get<double>(), 32.0)
      << "resident memory grew across the run";
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(30), 0);
}

}  // namespace
}  // namespace sf
