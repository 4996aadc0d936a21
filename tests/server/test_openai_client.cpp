// Runs the official `openai` npm client (tests/server/openai_client, unmodified
// openai@6 under Node's test runner) against `starfire serve` started as a
// child process on a free loopback port with a random-weight model. Skips with
// a message when node or the npm package is missing (scripts/setup.sh installs
// both). Also checks that SIGTERM stops the server cleanly (exit code 0).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "runtime/logprobs.h"
#include "runtime/session.h"
#include "server_test_util.h"

namespace sf {
namespace {

namespace fs = std::filesystem;

fs::path client_dir() {
  return fs::path(__FILE__).parent_path() / "openai_client";
}

std::string run_capture(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

TEST(OpenAiClient, OfficialNpmClientAgainstTheServer) {
  int st = 0;
  run_capture("command -v node >/dev/null 2>&1", st);
  if (st != 0) GTEST_SKIP() << "node is not installed (scripts/setup.sh installs it); skipping";
  if (!fs::exists(client_dir() / "node_modules" / "openai" / "package.json"))
    GTEST_SKIP() << "the openai npm package is not installed: run `npm ci` in "
                 << client_dir().string() << " (scripts/setup.sh does); skipping";

  const std::string path = test::random_chat_model("openai_client", true, 512, 2048);
  // What the engine itself says about a prompt, for the echo/logprobs check.
  auto model = test::load(path);
  ASSERT_TRUE(model);
  const std::vector<int32_t> ids = {1, 300, 72, 101, 108, 260, 33, 9, 400, 77};
  SessionOptions so;
  so.n_ctx = 64;
  Session s(model, so);
  std::vector<float> all;
  ASSERT_TRUE(s.feed(ids, &all).ok());
  const size_t V = static_cast<size_t>(model->config().n_vocab);
  nlohmann::json expected = {{"prompt_ids", ids}, {"n_embd", model->config().n_embd}};
  expected["logprobs"] = nlohmann::json::array({nullptr});
  for (size_t i = 1; i < ids.size(); ++i) {
    std::span<const float> row(all.data() + (i - 1) * V, V);
    expected["logprobs"].push_back(row[ids[i]] - log_sum_exp(row));
  }
  const fs::path exp_path = test::tmp_path("openai_client_expected.json");
  test::write_file(exp_path, expected.dump());

  test::ServerProcess server({"-m", path, "--api-key", "test-key", "--parallel", "4", "-t", "2",
                              "-c", "2048", "--alias", "starfire-test"});
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string cmd = "cd '" + client_dir().string() + "' && STARFIRE_URL=" + server.url() +
                          " STARFIRE_API_KEY=test-key STARFIRE_MODEL_ID=starfire-test" +
                          " STARFIRE_EXPECTED='" + exp_path.string() +
                          "' timeout 300 node --test --test-concurrency=1 openai.test.mjs 2>&1";
  const std::string out = run_capture(cmd, st);
  std::printf("%s\n", out.c_str());
  EXPECT_EQ(st, 0) << "node test run failed (output above)";
  EXPECT_NE(out.find("# fail 0"), std::string::npos);

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(30), 0) << "SIGTERM should stop the server cleanly";
}

}  // namespace
}  // namespace sf
