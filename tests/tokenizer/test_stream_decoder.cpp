// StreamDecoder: valid UTF-8 only, incomplete tails held back, llama2.c's
// leading-space rule after BOS, and agreement with decode() on real text.
#include <gtest/gtest.h>

#include "tokenizer/tok_test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace sf {
namespace {

TEST(Utf8Take, HoldsBackIncompleteTail) {
  std::string buf = "ab\xE4\xBD";  // "你" is E4 BD A0
  EXPECT_EQ(take_complete_utf8(buf), "ab");
  EXPECT_EQ(buf, "\xE4\xBD");
  buf += "\xA0!";
  EXPECT_EQ(take_complete_utf8(buf), "\xE4\xBD\xA0!");
  EXPECT_TRUE(buf.empty());
}

TEST(Utf8Take, ReplacesInvalidBytes) {
  std::string buf =
      "a\xFF"
      "b\x80"
      "c\xE4\x41";  // bad lead, stray continuation, broken sequence
  EXPECT_EQ(take_complete_utf8(buf),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD"
            "A");
  EXPECT_TRUE(buf.empty());
  buf = "\xED\xA0\x80";  // surrogate: invalid
  const std::string out = take_complete_utf8(buf);
  EXPECT_TRUE(tok::utf8_is_valid(out));
  EXPECT_TRUE(buf.empty());
  buf = "\xF0\x9F\x98";  // incomplete emoji
  EXPECT_EQ(take_complete_utf8(buf), "");
  EXPECT_EQ(buf.size(), 3u);
}

// A tiny SPM vocabulary: <unk> <s> </s> <0x00>..<0xFF> ▁ a ▁a
std::shared_ptr<const Tokenizer> tiny() {
  tok::TokenizerSpec s;
  s.model = tok::ModelType::kSpm;
  s.tokens = {"<unk>", "<s>", "</s>"};
  s.types = {tok::TokenType::kUnknown, tok::TokenType::kControl, tok::TokenType::kControl};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    s.tokens.push_back(name);
    s.types.push_back(tok::TokenType::kByte);
  }
  for (const char* t : {"\xE2\x96\x81", "a",
                        "\xE2\x96\x81"
                        "a"}) {
    s.tokens.push_back(t);
    s.types.push_back(tok::TokenType::kNormal);
  }
  s.unk_id = 0, s.bos_id = 1, s.eos_id = 2, s.add_bos = true;
  s.space_prefix = tok::SpacePrefix::kAlways;
  s.escape_whitespace = s.decode_spaces = s.byte_fallback = true;
  s.strip_prefix_space_on_decode = true;
  auto t = Tokenizer::from_spec(std::move(s));
  EXPECT_TRUE(t.ok()) << t.status().message();
  return *t;
}

TEST(StreamDecoder, ByteTokensAreJoinedIntoCharacters) {
  auto tok = tiny();
  StreamDecoder d(*tok);
  const auto ids = tok->encode("a 你", true);  // BOS ▁a ▁ <E4> <BD> <A0>
  ASSERT_EQ(ids.size(), 6u);
  std::string out;
  std::vector<std::string> parts;
  for (int32_t id : ids) parts.push_back(d.push(id));
  EXPECT_EQ(parts[0], "");   // BOS prints nothing
  EXPECT_EQ(parts[1], "a");  // leading space stripped after BOS
  EXPECT_EQ(parts[2], " ");
  EXPECT_EQ(parts[3], "");    // E4: held back
  EXPECT_EQ(parts[4], "");    // BD: held back
  EXPECT_EQ(parts[5], "你");  // A0 completes it
  EXPECT_EQ(d.flush(), "");
}

TEST(StreamDecoder, SetPrevAndFlush) {
  auto tok = tiny();
  StreamDecoder d(*tok);
  d.set_prev(tok->bos_id());
  EXPECT_EQ(d.push(*tok->find_token("\xE2\x96\x81"
                                    "a")),
            "a");
  EXPECT_EQ(d.push(*tok->find_token("\xE2\x96\x81"
                                    "a")),
            " a");
  EXPECT_EQ(d.push(3 + 0xE4), "");
  EXPECT_EQ(d.flush(), "\xEF\xBF\xBD");  // an unfinished character becomes U+FFFD
  StreamDecoder e(*tok, /*print_special=*/true);
  EXPECT_EQ(e.push(2), "</s>");
}

TEST(StreamDecoder, Stories260KGenerationText) {
  SF_REQUIRE_FIXTURE("stories260K/stories260K.gguf");
  auto tok = test::load_gguf_tokenizer("stories260K/stories260K.gguf");
  ASSERT_TRUE(tok);
  const auto ref =
      nlohmann::json::parse(test::read_file(test::fixture("stories260K/reference.json")));
  for (const auto& g : ref.at("generate")) {
    const std::vector<int32_t> ids = g.at("ids");
    // llama2.c prints every token after the first (BOS), each decoded with
    // the token before it.
    StreamDecoder d(*tok);
    d.set_prev(ids[0]);
    std::string text;
    for (size_t i = 1; i < ids.size(); ++i) text += d.push(ids[i]);
    text += d.flush();
    EXPECT_EQ(text, g.at("stdout_text").get<std::string>());
  }
}

TEST(StreamDecoder, AgreesWithDecodeOnGoldens) {
  SF_REQUIRE_FIXTURE("tokenizers/qwen2_5/tokenizer.json");
  auto tok = test::load_hf_tokenizer("tokenizers/qwen2_5");
  ASSERT_TRUE(tok);
  for (const auto& line : test::read_jsonl("tokenizers/qwen2_5.golden.jsonl")) {
    const std::vector<int32_t> ids = line.at("ids");
    StreamDecoder d(*tok, /*print_special=*/true);
    std::string text;
    for (int32_t id : ids) {
      const std::string part = d.push(id);
      EXPECT_TRUE(tok::utf8_is_valid(part));
      text += part;
    }
    text += d.flush();
    EXPECT_EQ(text, line.at("decoded").get<std::string>());
  }
}

}  // namespace
}  // namespace sf
