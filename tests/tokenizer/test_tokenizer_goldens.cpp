// Reference ids from outside the project: the Hugging Face goldens
// (tokenizers/*.golden.jsonl) and llama.cpp's vocab test vectors
// (llamacpp-vocab/*.gguf.inp/.out), each with the vocabulary it was made from.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "tokenizer/tok_test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

using test::ids_str;

std::shared_ptr<const Tokenizer> cached_hf(const std::string& dir) {
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
  auto& t = cache[dir];
  if (!t) t = test::load_hf_tokenizer(dir);
  return t;
}

class HfGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(HfGolden, IdsAndDecodeMatch) {
  const std::string name = GetParam();
  SF_REQUIRE_FIXTURE("tokenizers/" + name + ".golden.jsonl");
  auto tok = cached_hf("tokenizers/" + name);
  ASSERT_TRUE(tok);
  int n = 0, ok = 0, dec_ok = 0;
  for (const auto& line : test::read_jsonl("tokenizers/" + name + ".golden.jsonl")) {
    const std::string text = line.at("text");
    const std::vector<int32_t> ids = line.at("ids");
    const auto got = tok->encode(text, /*add_special=*/false);
    EXPECT_EQ(ids_str(got), ids_str(ids)) << name << " text: " << text;
    const std::string decoded = tok->decode(ids);
    EXPECT_EQ(decoded, line.at("decoded").get<std::string>()) << name << " text: " << text;
    ok += got == ids;
    dec_ok += decoded == line.at("decoded").get<std::string>();
    ++n;
  }
  std::printf("[golden] %s: %d/%d ids, %d/%d decoded\n", name.c_str(), ok, n, dec_ok, n);
  EXPECT_EQ(n, 46);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, HfGolden, ::testing::Values("qwen2_5", "qwen3", "llama3"),
                         [](const auto& info) { return std::string(info.param); });

struct VocabCase {
  const char* vectors;  // llamacpp-vocab/<name>.gguf (.inp/.out)
  const char* hf_dir;   // tokenizer.json to use instead of the GGUF, or null
};

class LlamaCppVocab : public ::testing::TestWithParam<VocabCase> {};

TEST_P(LlamaCppVocab, VectorsMatch) {
  const VocabCase c = GetParam();
  const std::string base = std::string("llamacpp-vocab/ggml-vocab-") + c.vectors + ".gguf";
  SF_REQUIRE_FIXTURE(base + ".inp");
  std::shared_ptr<const Tokenizer> tok;
  if (c.hf_dir) {
    SF_REQUIRE_FIXTURE(std::string("tokenizers/") + c.hf_dir + "/tokenizer.json");
    tok = cached_hf(std::string("tokenizers/") + c.hf_dir);
  } else {
    SF_REQUIRE_FIXTURE(base);
    tok = test::load_gguf_tokenizer(base);
  }
  ASSERT_TRUE(tok);
  int total = 0;
  const int ok = test::check_vocab_vectors(*tok, base, &total);
  std::printf("[vocab] %s%s%s: %d/%d\n", c.vectors, c.hf_dir ? " via " : "",
              c.hf_dir ? c.hf_dir : "", ok, total);
  EXPECT_EQ(ok, total);
  // Round trip: decoding gives the text back for these vocabularies.
  for (const auto& [text, ids] : test::read_vocab_vectors(base)) {
    if (tok->strips_prefix_space()) continue;  // SPM: covered in test_spm
    EXPECT_EQ(tok->decode(tok->encode(text, false, false)), text) << c.vectors;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, LlamaCppVocab,
    ::testing::Values(VocabCase{"llama-spm", nullptr}, VocabCase{"phi-3", nullptr},
                      VocabCase{"gpt-2", nullptr}, VocabCase{"mpt", nullptr},
                      VocabCase{"starcoder", nullptr}, VocabCase{"refact", nullptr},
                      VocabCase{"falcon", nullptr}, VocabCase{"deepseek-llm", nullptr},
                      VocabCase{"deepseek-coder", nullptr}, VocabCase{"bert-bge", nullptr},
                      VocabCase{"qwen2", "qwen2_5"}, VocabCase{"llama-bpe", "llama3"}),
    [](const auto& info) {
      std::string s = std::string(info.param.vectors) + (info.param.hf_dir ? "_hf" : "_gguf");
      for (char& ch : s)
        if (ch == '-') ch = '_';
      return s;
    });

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Vocabularies without reference vectors: they load and round-trip text.
TEST(OtherVocabs, LoadAndRoundTrip) {
  const std::string text = "Hello world! 你好，世界。 def f(x):\n\treturn x ** 2  # 3.14";
  for (const char* name : {"baichuan", "gpt-neox"}) {
    const std::string rel = std::string("llamacpp-vocab/ggml-vocab-") + name + ".gguf";
    if (!std::filesystem::exists(test::fixture(rel))) continue;
    auto tok = test::load_gguf_tokenizer(rel);
    ASSERT_TRUE(tok) << name;
    const auto ids = tok->encode(text, false);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tok->decode(ids), text) << name;
  }
}

}  // namespace
}  // namespace sf
