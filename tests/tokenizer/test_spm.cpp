// SentencePiece-style tokenizers: an in-memory vocabulary for the algorithm's
// rules, then stories260K (llama2.c reference ids), llama.cpp's llama-spm and
// phi-3 vectors, and the Llama 2 goldens made with sentencepiece.
#include <gtest/gtest.h>

#include <cstdio>

#include "tokenizer/tok_test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

using test::ids_str;

// <unk> <s> </s> <0x00>..<0xFF>, then pieces with scores.
tok::TokenizerSpec tiny_spm(const std::vector<std::pair<std::string, float>>& pieces,
                            bool with_bytes = true) {
  tok::TokenizerSpec s;
  s.model = tok::ModelType::kSpm;
  auto add = [&](std::string t, float score, tok::TokenType type) {
    s.tokens.push_back(std::move(t));
    s.scores.push_back(score);
    s.types.push_back(type);
  };
  add("<unk>", 0, tok::TokenType::kUnknown);
  add("<s>", 0, tok::TokenType::kControl);
  add("</s>", 0, tok::TokenType::kControl);
  if (with_bytes) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      add(name, 0, tok::TokenType::kByte);
    }
  }
  for (const auto& [t, sc] : pieces) add(t, sc, tok::TokenType::kNormal);
  s.unk_id = 0;
  s.bos_id = 1;
  s.eos_id = 2;
  s.add_bos = true;
  s.space_prefix = tok::SpacePrefix::kAlways;
  s.escape_whitespace = true;
  s.decode_spaces = true;
  s.byte_fallback = true;
  s.strip_prefix_space_on_decode = true;
  for (int32_t id : {0, 1, 2}) s.added.push_back({id, s.tokens[id], true});
  return s;
}

const std::string kSp = "\xE2\x96\x81";  // U+2581

TEST(Spm, MergesByScoreAndAddsDummyPrefix) {
  // 259 "▁" 260 "a" 261 "b" 262 "▁a" 263 "ab" 264 "▁ab"
  auto tok = Tokenizer::from_spec(
      tiny_spm({{kSp, -1}, {"a", -2}, {"b", -3}, {kSp + "a", -5}, {"ab", -4}, {kSp + "ab", -6}}));
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  // "▁ab": pairs (▁,a) score -5 and (a,b) score -4: "ab" first, then "▁"+"ab".
  EXPECT_EQ((*tok)->encode("ab", false), (std::vector<int32_t>{264}));
  EXPECT_EQ((*tok)->encode("ab", true), (std::vector<int32_t>{1, 264}));
  EXPECT_EQ((*tok)->encode("", true), (std::vector<int32_t>{1}));
  EXPECT_EQ((*tok)->encode("", false), (std::vector<int32_t>{}));
  // "b a" -> "▁b▁a": (▁,b) no piece; (b,▁) no; (▁,a) -> "▁a".
  EXPECT_EQ((*tok)->encode("b a", false), (std::vector<int32_t>{259, 261, 262}));
  EXPECT_EQ((*tok)->decode((*tok)->encode("b a", true)), "<s>b a");
  EXPECT_EQ((*tok)->decode((*tok)->encode("b a", true), true), "b a");
}

TEST(Spm, ByteFallbackForUnknownCharacters) {
  auto tok = Tokenizer::from_spec(tiny_spm({{kSp, -1}, {"a", -2}}));
  ASSERT_TRUE(tok.ok());
  // "é" = C3 A9 -> <0xC3> <0xA9> = ids 3+0xC3, 3+0xA9
  EXPECT_EQ((*tok)->encode("a\xC3\xA9", false),
            (std::vector<int32_t>{259, 260, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ((*tok)->token_to_piece(3 + 0xC3), "\xC3");
  EXPECT_EQ((*tok)->decode((*tok)->encode("a\xC3\xA9", false)), "a\xC3\xA9");
  // Invalid UTF-8 goes byte by byte too.
  EXPECT_EQ((*tok)->encode("\xFF", false), (std::vector<int32_t>{259, 3 + 0xFF}));
}

TEST(Spm, UnknownTokenWithoutByteTokens) {
  auto tok = Tokenizer::from_spec(tiny_spm({{kSp, -1}, {"a", -2}}, /*with_bytes=*/false));
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ((*tok)->encode("a\xC3\xA9", false), (std::vector<int32_t>{3, 4, 0}));
}

TEST(Spm, SpecialTokensParsedOnlyWhenAsked) {
  auto tok = Tokenizer::from_spec(
      tiny_spm({{kSp, -1}, {"a", -2}, {"<", -3}, {">", -3}, {"s", -3}, {"/", -3}}));
  ASSERT_TRUE(tok.ok());
  const auto& t = **tok;
  // parsed: "a" "</s>" "a" -> each text fragment gets a dummy prefix
  EXPECT_EQ(ids_str(t.encode("a</s>a", false, true)), "259 260 2 259 260");
  // as text: every character of "</s>" is a piece
  EXPECT_EQ(ids_str(t.encode("</s>", false, false)), "259 261 264 263 262");
  EXPECT_TRUE(t.is_eog(2));
  EXPECT_FALSE(t.is_eog(1));
}

// ---------------------------------------------------------------- fixtures

TEST(Spm, Stories260KMatchesLlama2c) {
  SF_REQUIRE_FIXTURE("stories260K/stories260K.gguf");
  auto tok = test::load_gguf_tokenizer("stories260K/stories260K.gguf");
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->n_vocab(), 512);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->add_bos());
  const auto ref =
      nlohmann::json::parse(test::read_file(test::fixture("stories260K/reference.json")));
  int n = 0;
  for (const auto& c : ref.at("encode_bos1_eos0")) {
    const std::string text = c.at("text");
    const std::vector<int32_t> expected = c.at("ids");
    EXPECT_EQ(ids_str(tok->encode(text, true)), ids_str(expected)) << "text: " << text;
    ++n;
  }
  EXPECT_GE(n, 10);
  // Prompt ids of the generation references.
  for (const auto& g : ref.at("generate")) {
    const std::string prompt = g.at("prompt");
    const std::vector<int32_t> ids = g.at("prompt_ids");
    EXPECT_EQ(tok->encode(prompt, true), ids) << prompt;
  }
}

TEST(Spm, LlamaSpmVocabVectors) {
  SF_REQUIRE_FIXTURE("llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  auto tok = test::load_gguf_tokenizer("llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(tok);
  int total = 0;
  const int ok =
      test::check_vocab_vectors(*tok, "llamacpp-vocab/ggml-vocab-llama-spm.gguf", &total);
  EXPECT_EQ(ok, total);
  EXPECT_GT(total, 30);
}

TEST(Spm, Phi3VocabVectors) {
  SF_REQUIRE_FIXTURE("llamacpp-vocab/ggml-vocab-phi-3.gguf");
  auto tok = test::load_gguf_tokenizer("llamacpp-vocab/ggml-vocab-phi-3.gguf");
  ASSERT_TRUE(tok);
  int total = 0;
  const int ok = test::check_vocab_vectors(*tok, "llamacpp-vocab/ggml-vocab-phi-3.gguf", &total);
  EXPECT_EQ(ok, total);
  EXPECT_FALSE(tok->chat_template().empty());
  EXPECT_TRUE(tok->is_eog(*tok->find_token("<|end|>")));
}

// Llama 2's goldens come from sentencepiece, which treats "<s>" in the text as
// plain text: compare with parse_special = false on the same vocabulary.
TEST(Spm, Llama2Goldens) {
  SF_REQUIRE_FIXTURE("tokenizers/llama2-spm.golden.jsonl");
  SF_REQUIRE_FIXTURE("llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  auto tok = test::load_gguf_tokenizer("llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(tok);
  int n = 0, ok = 0;
  for (const auto& line : test::read_jsonl("tokenizers/llama2-spm.golden.jsonl")) {
    const std::string text = line.at("text");
    const std::vector<int32_t> ids = line.at("ids");
    const std::vector<int32_t> ids_bos = line.at("ids_with_bos");
    const auto got = tok->encode(text, false, false);
    EXPECT_EQ(ids_str(got), ids_str(ids)) << "text: " << text;
    EXPECT_EQ(ids_str(tok->encode(text, true, false)), ids_str(ids_bos)) << "text: " << text;
    EXPECT_EQ(tok->decode(ids), line.at("decoded").get<std::string>()) << "text: " << text;
    ok += got == ids;
    ++n;
  }
  EXPECT_EQ(ok, n);
  EXPECT_EQ(n, 46);
}

TEST(Spm, Llama2cTestVectors) {
  SF_REQUIRE_FIXTURE("tokenizers/llama2-spm/llama2c_test_c_vectors.json");
  SF_REQUIRE_FIXTURE("llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  auto tok = test::load_gguf_tokenizer("llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(tok);
  const auto j = nlohmann::json::parse(
      test::read_file(test::fixture("tokenizers/llama2-spm/llama2c_test_c_vectors.json")));
  for (const auto& c : j.at("cases")) {
    const std::string text = c.at("text");
    const std::vector<int32_t> ids = c.at("ids_with_bos");
    EXPECT_EQ(ids_str(tok->encode(text, true, false)), ids_str(ids)) << text;
  }
}

}  // namespace
}  // namespace sf
