// The tokenizer a conversion writes into GGUF must tokenize like the folder's
// tokenizer.json, on real vocabularies (Qwen2.5, Qwen3, Llama 3 from
// ../shared/fixtures): the golden texts give the same ids through both, and
// the GGUF side reproduces llama.cpp's own test vectors (.inp/.out) for the
// pre-tokenizer name it was given.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/gguf.h"
#include "models/hf_convert.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const Tokenizer> via_gguf(const fs::path& folder, const std::string& tag) {
  auto hf = Tokenizer::from_hf((folder / "tokenizer.json").string(),
                               (folder / "tokenizer_config.json").string());
  EXPECT_TRUE(hf.ok()) << hf.status().message();
  if (!hf.ok()) return nullptr;
  gguf::GgufWriter w;
  w.set("general.architecture", gguf::Value::str("qwen2"));
  GgufKv kv;
  Status st = add_hf_tokenizer(folder.string(), (*hf)->n_vocab(), kv);
  EXPECT_TRUE(st.ok()) << st.message();
  for (auto& [k, v] : kv) w.set(k, v);
  const fs::path out = test::tmp_path("vocab_" + tag + ".gguf");
  EXPECT_TRUE(w.write(out.string()).ok());
  auto f = gguf::GgufFile::open(out.string());
  EXPECT_TRUE(f.ok()) << f.status().message();
  if (!f.ok()) return nullptr;
  auto t = Tokenizer::from_gguf(**f);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : nullptr;
}

class RealVocab : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(RealVocab, GgufTokenizesLikeTheFolder) {
  const auto& [name, llamacpp] = GetParam();
  SF_REQUIRE_FIXTURE("tokenizers/" + name + "/tokenizer.json");
  const fs::path folder = test::fixture("tokenizers/" + name);
  auto hf = Tokenizer::from_hf((folder / "tokenizer.json").string(),
                               (folder / "tokenizer_config.json").string());
  ASSERT_TRUE(hf.ok());
  auto g = via_gguf(folder, name);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ((*hf)->chat_template(), g->chat_template());
  EXPECT_EQ((*hf)->eos_id(), g->eos_id());
  std::istringstream lines(test::read_file(test::fixture("tokenizers/" + name + ".golden.jsonl")));
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    const std::string text = j["text"];
    EXPECT_EQ(g->encode(text, false), j["ids"].get<std::vector<int32_t>>()) << text;
    EXPECT_EQ(g->encode(text, true), (*hf)->encode(text, true)) << text;
    ++n;
  }
  EXPECT_GT(n, 10);
  // llama.cpp's own vectors for the pre-tokenizer we named.
  const std::string inp = "llamacpp-vocab/ggml-vocab-" + llamacpp + ".gguf.inp";
  if (!fs::exists(test::fixture(inp))) return;
  const std::string in = test::read_file(test::fixture(inp));
  std::istringstream outs(
      test::read_file(test::fixture("llamacpp-vocab/ggml-vocab-" + llamacpp + ".gguf.out")));
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0, cases = 0;
  while (pos < in.size()) {
    size_t end = in.find(sep, pos);
    if (end == std::string::npos) end = in.size();
    const std::string text = in.substr(pos, end - pos);
    pos = end + sep.size();
    std::string want_line;
    if (!std::getline(outs, want_line)) break;
    std::vector<int32_t> want;
    std::istringstream ws(want_line);
    for (int32_t id; ws >> id;) want.push_back(id);
    EXPECT_EQ(g->encode(text, false), want) << "text: '" << text << "'";
    ++cases;
  }
  EXPECT_GT(cases, 10u);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RealVocab,
                         ::testing::Values(std::make_pair("qwen2_5", "qwen2"),
                                           std::make_pair("qwen3", "qwen2"),
                                           std::make_pair("llama3", "llama-bpe")));

}  // namespace
}  // namespace sf
