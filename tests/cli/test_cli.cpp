// End-to-end tests of the `starfire` binary: the JSON outputs other tools and
// tests rely on, and clear errors (exit code 1, a message naming the problem)
// for bad input instead of crashes.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_run.h"
#include "models/model.h"
#include "models/random_model.h"
#include "runtime/session.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

using test::CmdResult;
using test::starfire;

std::string random_model() {
  static std::string path;
  if (path.empty()) {
    path = test::tmp_path("cli_random_llama.gguf").string();
    RandomModelSpec spec;
    spec.seed = 3;
    EXPECT_TRUE(write_random_model(spec, path).ok());
  }
  return path;
}

TEST(Cli, RunJsonWithPromptIdsIsReproducibleAndMatchesGreedyLogits) {
  const std::string m = random_model();
  CmdResult a = starfire("run -m " + m + " --prompt-ids 1,5,9 -n 6 --temp 0 --json");
  ASSERT_EQ(a.code, 0) << a.err;
  auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["prompt_ids"], nlohmann::json({1, 5, 9}));
  ASSERT_EQ(j["ids"].size(), 6u);
  EXPECT_TRUE(j["text"].is_string());
  EXPECT_NE(a.err.find("tok/s"), std::string::npos) << "speed report on stderr";

  // The first generated id is the argmax of the last prompt position's logits.
  CmdResult l = starfire("logits -m " + m + " --prompt-ids 1,5,9 --json");
  ASSERT_EQ(l.code, 0) << l.err;
  auto lj = nlohmann::json::parse(l.out);
  ASSERT_EQ(lj["logits"].size(), 3u);
  auto last = lj["logits"][2].get<std::vector<float>>();
  EXPECT_EQ(j["ids"][0].get<int>(),
            static_cast<int>(std::max_element(last.begin(), last.end()) - last.begin()));

  // Same seed and settings with sampling: same output; the library agrees too.
  CmdResult s1 = starfire("run -m " + m + " --prompt-ids 1,5,9 -n 8 --temp 1.0 --seed 11 --json");
  CmdResult s2 = starfire("run -m " + m + " --prompt-ids 1,5,9 -n 8 --temp 1.0 --seed 11 --json");
  ASSERT_EQ(s1.code, 0) << s1.err;
  EXPECT_EQ(nlohmann::json::parse(s1.out)["ids"], nlohmann::json::parse(s2.out)["ids"]);
}

TEST(Cli, InfoPrintsMetadataAndTensors) {
  CmdResult r = starfire("info " + random_model());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("general.architecture"), std::string::npos);
  EXPECT_NE(r.out.find("blk.1.ffn_down.weight"), std::string::npos);
}

TEST(Cli, BadInputGivesClearErrors) {
  CmdResult r = starfire("run -m /nonexistent/model.gguf -p hi");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;

  const std::string junk = test::tmp_path("junk.gguf").string();
  test::write_file(junk, "this is not a gguf file at all");
  r = starfire("run -m " + junk + " -p hi");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("junk.gguf"), std::string::npos) << r.err;

  r = starfire("run -m " + random_model() + " --prompt-ids 1,x,3");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("prompt-ids"), std::string::npos) << r.err;

  r = starfire("run -m " + random_model() + " --prompt-ids 1,99999");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("out of range"), std::string::npos) << r.err;

  r = starfire("run -m " + random_model() + " --prompt-ids 1 --top-p 7");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("top_p"), std::string::npos) << r.err;

  r = starfire("run --bogus-flag");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown option"), std::string::npos) << r.err;
}

TEST(Cli, StoriesTextPromptMatchesReference) {
  SF_REQUIRE_FIXTURE("stories260K/stories260K.gguf");
  CmdResult r = starfire("run -m " + test::fixture("stories260K/stories260K.gguf").string() +
                         " -p \"\" -n 200 --temp 0 -c 512");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, test::read_file(test::fixture("stories260K/expected_test_all_n200.txt")));
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

TEST(CliTokenizer, TokenizeWithTokenizerJsonMatchesGolden) {
  SF_REQUIRE_FIXTURE("tokenizers/qwen2_5/tokenizer.json");
  const std::string in = test::tmp_path("tok_in.txt").string();
  test::write_file(in, "你好，世界！Hello world");
  CmdResult r =
      starfire("tokenize --tokenizer " +
               test::fixture("tokenizers/qwen2_5/tokenizer.json").string() + " --json < " + in);
  ASSERT_EQ(r.code, 0) << r.err;
  auto ids = nlohmann::json::parse(r.out)["ids"].get<std::vector<int>>();
  // The same text through the library API (itself checked against the goldens).
  auto tok = Tokenizer::from_hf(test::fixture("tokenizers/qwen2_5/tokenizer.json").string(), "");
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  std::vector<int> want;
  for (int32_t id : (*tok)->encode("你好，世界！Hello world", true)) want.push_back(id);
  EXPECT_EQ(ids, want);
  EXPECT_GE(ids.size(), 4u);
}

TEST(CliTokenizer, TemplateRendersFixtureConversationByteForByte) {
  SF_REQUIRE_FIXTURE("tokenizers/chat_templates.json");
  std::ifstream f(test::fixture("tokenizers/chat_templates.json"));
  auto j = nlohmann::ordered_json::parse(f);
  const auto& conv = j["conversations"]["system_user"];
  const auto& t = j["templates"]["qwen2_5"];
  // A tokenizer_config.json built from the fixture's template and tokens.
  nlohmann::ordered_json cfg;
  cfg["chat_template"] = t["chat_template"];
  if (t.contains("bos_token") && !t["bos_token"].is_null()) cfg["bos_token"] = t["bos_token"];
  if (t.contains("eos_token") && !t["eos_token"].is_null()) cfg["eos_token"] = t["eos_token"];
  const std::string cfg_path = test::tmp_path("tpl_config.json").string();
  const std::string msg_path = test::tmp_path("tpl_messages.json").string();
  test::write_file(cfg_path, cfg.dump());
  test::write_file(msg_path, conv["messages"].dump());
  CmdResult r = starfire("template --tokenizer-config " + cfg_path + " --messages " + msg_path +
                         " --add-generation-prompt");
  ASSERT_EQ(r.code, 0) << r.err;
  bool found = false;
  for (const auto& render : t["renders"].items()) {
    if (render.key() != "system_user") continue;
    found = true;
    const auto& v = render.value();
    EXPECT_EQ(r.out, v.is_string() ? v.get<std::string>() : v["rendered"].get<std::string>());
  }
  EXPECT_TRUE(found) << "fixture has no system_user render for qwen2_5";
}

// Without -m: $STARFIRE_MODEL, then the shipped model beside the binary (an
// installed layout: <prefix>/bin/starfire and <prefix>/share/starfire/default.gguf),
// else a clear error. The binary is copied out of the checkout so the
// checkout's own models/default.gguf is not in its search path.
TEST(Cli, DefaultModelIsFoundBesideTheBinaryOrNamedByEnvironment) {
  const std::filesystem::path prefix = test::tmp_path("default_model_prefix");
  std::filesystem::remove_all(prefix);
  std::filesystem::create_directories(prefix / "bin");
  std::filesystem::copy_file(STARFIRE_BINARY, prefix / "bin" / "starfire");
  const std::string bin = (prefix / "bin" / "starfire").string();
  const std::string run = "cd " + prefix.string() + " && env -u STARFIRE_MODEL " + bin +
                          " run --prompt-ids 1,2,3 -n 2 --temp 0 --json";

  CmdResult r = test::shell(run);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("default model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("share/starfire/default.gguf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-m MODEL.gguf"), std::string::npos) << r.err;

  r = test::shell("cd " + prefix.string() + " && STARFIRE_MODEL=" + random_model() + " " + bin +
                  " run --prompt-ids 1,2,3 -n 2 --temp 0 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string with_env = r.out;

  std::filesystem::create_directories(prefix / "share" / "starfire");
  std::filesystem::copy_file(random_model(), prefix / "share" / "starfire" / "default.gguf");
  r = test::shell(run);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, with_env);  // the same model, found without being named
  std::filesystem::remove_all(prefix);
}

}  // namespace
}  // namespace sf
