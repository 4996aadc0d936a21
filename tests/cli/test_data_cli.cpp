// `starfire data prepare` and `starfire data info` end to end through the
// binary: the report, meta.json, shards the loader reads, and clear errors.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "models/random_model.h"
#include "cli/cli_run.h"
#include "test_util.h"

namespace sf {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using test::CmdResult;
using test::starfire;

std::string model_with_template() {
  static std::string path;
  if (path.empty()) {
    path = test::tmp_path("data_cli_model.gguf").string();
    RandomModelSpec spec;
    spec.n_vocab = 320;
    spec.n_layer = 1;
    spec.chat_template =
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}"
        "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant: {% endif %}";
    EXPECT_TRUE(write_random_model(spec, path).ok());
  }
  return path;
}

fs::path inputs() {
  fs::path in = test::tmp_path("data_cli_in");
  fs::remove_all(in);
  fs::create_directories(in / "nested");
  std::string jl;
  for (int i = 0; i < 40; ++i) {
    json m = {{"messages",
               {{{"role", "user"}, {"content", "q" + std::to_string(i)}},
                {{"role", "assistant"}, {"content", "a" + std::to_string(i)}}}}};
    jl += m.dump() + "\n";
    jl += json{{"text", "plain text number " + std::to_string(i)}}.dump() + "\n";
  }
  jl += "{broken\n";
  test::write_file(in / "nested" / "chat.jsonl", jl);
  test::write_file(in / "story.txt", "Once upon a time.\n<|endoftext|>\n从前有座山。\n");
  return in;
}

TEST(DataCli, PrepareThenInfo) {
  fs::path in = inputs();
  fs::path out = test::tmp_path("data_cli_out");
  fs::remove_all(out);
  CmdResult r =
      starfire("data prepare --input " + in.string() + " --tokenizer " + model_with_template() +
               " -o " + out.string() + " --val-fraction 0.25 --shard-tokens 500 --seed 9");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("MB/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("documents: 82 (42 text, 40 chat), skipped lines: 1"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("chat.jsonl:81: not valid JSON"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(out / "train-00000.bin"));
  EXPECT_TRUE(fs::exists(out / "train-00001.bin")) << "500-token shards";

  auto meta = json::parse(test::read_file(out / "meta.json"));
  const int64_t train_tokens = meta["splits"]["train"]["tokens"];
  const int64_t val_docs = meta["splits"]["val"]["documents"];
  EXPECT_EQ(meta["splits"]["train"]["documents"].get<int64_t>() + val_docs, 82);
  EXPECT_GT(val_docs, 5);
  EXPECT_LT(meta["splits"]["train"]["loss_tokens"].get<int64_t>(), train_tokens);
  EXPECT_EQ(meta["options"]["seed"], 9);
  EXPECT_EQ(meta["options"]["shard_tokens"], 500);

  CmdResult i = starfire("data info " + out.string() + " --json -n 8");
  ASSERT_EQ(i.code, 0) << i.err;
  auto ij = json::parse(i.out);
  EXPECT_EQ(ij["splits"]["train"]["tokens"], train_tokens);
  EXPECT_EQ(ij["splits"]["train"]["has_mask"], true);
  EXPECT_EQ(ij["splits"]["val"]["documents"], val_docs);
  EXPECT_EQ(ij["first_ids"].size(), 8u);
  EXPECT_EQ(ij["first_ids"][0], 1) << "BOS";
  ASSERT_TRUE(ij.contains("first_text")) << i.out;

  CmdResult t = starfire("data info " + out.string());
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("decoded:"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("(masked)"), std::string::npos) << t.out;

  // Same inputs (named one by one, --input repeated), same seed, other
  // thread count: same shards.
  fs::path out2 = test::tmp_path("data_cli_out2");
  fs::remove_all(out2);
  CmdResult r2 =
      starfire("data prepare --input " + (in / "nested").string() + " -i " +
               (in / "story.txt").string() + " --tokenizer " + model_with_template() + " -o " +
               out2.string() + " --val-fraction 0.25 --shard-tokens 500 --seed 9 -t 1 --json");
  ASSERT_EQ(r2.code, 0) << r2.err;
  EXPECT_EQ(json::parse(r2.out)["splits"]["train"]["tokens"], train_tokens);
  for (const auto& e : fs::directory_iterator(out)) {
    if (e.path().extension() != ".bin") continue;
    EXPECT_EQ(test::read_file(e.path()), test::read_file(out2 / e.path().filename()))
        << e.path().filename();
  }
}

TEST(DataCli, ClearErrors) {
  fs::path in = inputs();
  const std::string m = model_with_template();
  fs::path out = test::tmp_path("data_cli_err");
  fs::remove_all(out);
  auto expect_error = [](const CmdResult& r, const std::string& what) {
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  };
  expect_error(starfire("data prepare --tokenizer " + m + " -o " + out.string()), "--input");
  expect_error(starfire("data prepare --input " + in.string() + " -o " + out.string()),
               "--tokenizer");
  expect_error(starfire("data prepare --input " + in.string() + " --tokenizer " + m), "-o");
  expect_error(
      starfire("data prepare --input /nonexistent/x --tokenizer " + m + " -o " + out.string()),
      "no such file");
  expect_error(starfire("data prepare --input " + in.string() + " --tokenizer /nonexistent.gguf" +
                        " -o " + out.string()),
               "tokenizer not found");
  expect_error(starfire("data prepare --input " + in.string() + " --tokenizer " + m + " -o " +
                        out.string() + " --val-fraction 2"),
               "val fraction");
  expect_error(starfire("data prepare --input " + in.string() + " --tokenizer " + m + " -o " +
                        out.string() + " --seed -3"),
               "--seed");
  expect_error(starfire("data prepare --input " + in.string() + " --tokenizer " + m + " -o " +
                        out.string() + " --strict"),
               "chat.jsonl:81");
  expect_error(starfire("data info " + in.string()), "no train-*.bin");
  expect_error(starfire("data frobnicate"), "unknown subcommand");

  // A corrupt shard is reported by name, not a crash.
  fs::path bad = test::tmp_path("data_cli_bad");
  fs::remove_all(bad);
  fs::create_directories(bad);
  test::write_file(bad / "train-00000.bin", "SFTK\1\0\0\0");
  expect_error(starfire("data info " + bad.string()), "train-00000.bin");
  CmdResult h = starfire("data prepare --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--val-fraction"), std::string::npos);
}

}  // namespace
}  // namespace sf
