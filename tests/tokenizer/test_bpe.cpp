// Byte-level BPE pieces: the regex engine, the GPT-2 byte map, pre-tokenizer
// variants, merges on an in-memory vocabulary, loaders' error paths, and the
// special-token switch on a real tokenizer.
#include <gtest/gtest.h>

#include "formats/gguf.h"
#include "tokenizer/byte_map.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/regex.h"
#include "tokenizer/tok_test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace sf {
namespace {

using test::ids_str;

// Splits `text` with the given steps and returns the pieces joined by '|'.
std::string pieces(const std::vector<tok::PreTokStep>& steps, const std::string& text) {
  tok::PreTokenizer p;
  const Status st = p.build(steps);
  EXPECT_TRUE(st.ok()) << st.message();
  std::vector<tok::Piece> ps;
  p.split(text, ps);
  std::string out;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (i) out += '|';
    out.append(text, ps[i].first, ps[i].second - ps[i].first);
  }
  return out;
}

std::vector<tok::PreTokStep> regex_steps(std::initializer_list<const char*> patterns) {
  std::vector<tok::PreTokStep> v;
  for (const char* p : patterns) {
    tok::PreTokStep s;
    s.pattern = p;
    v.push_back(s);
  }
  return v;
}

int64_t match(const char* pattern, const std::string& text) {
  auto re = tok::Regex::compile(pattern);
  EXPECT_TRUE(re.ok()) << re.status().message();
  tok::CodepointText ct;
  ct.assign(text);
  return re->match_at(ct.cps.data(), 0, static_cast<uint32_t>(ct.cps.size()), 0);
}

TEST(Regex, Basics) {
  EXPECT_EQ(match("abc", "abcd"), 3);
  EXPECT_EQ(match("a|ab", "ab"), 1);  // leftmost-first, not longest
  EXPECT_EQ(match("(?:ab)+", "ababa"), 4);
  EXPECT_EQ(match("a{2,3}", "aaaa"), 3);
  EXPECT_EQ(match("a{2,3}?", "aaaa"), 2);
  EXPECT_EQ(match("a+?b", "aaab"), 4);
  EXPECT_EQ(match("\\s+(?!\\S)", "   x"), 2);  // gives back one space
  EXPECT_EQ(match("\\s+(?!\\S)", "   "), 3);
  EXPECT_EQ(match("a(?=b)", "ab"), 1);
  EXPECT_EQ(match("a(?=b)", "ac"), -1);
  EXPECT_EQ(match("(?i:'s|'re)", "'RE"), 3);
  EXPECT_EQ(match("'s", "'S"), -1);
  EXPECT_EQ(match("[^\\s\\p{L}\\p{N}]+", "!?你"), 2);
  EXPECT_EQ(match("\\p{L}+", "你好a1"), 3);
  EXPECT_EQ(match("\\p{N}{1,3}", "12345"), 3);
  EXPECT_EQ(match("\\p{Han}+", "你好a"), 2);
  EXPECT_EQ(match("[一-龥]+", "你好a"), 2);
  EXPECT_EQ(match("\\x{4F60}", "你"), 1);
  EXPECT_EQ(match("a++a", "aaa"), -1);  // possessive: no give-back
  EXPECT_EQ(match("(?>a+)b", "aab"), 3);
  EXPECT_EQ(match("\\s+$", "  \nx"), 2);  // $: end of line (Oniguruma)
  EXPECT_EQ(match("\\d+", "٣4"), 2);      // \d is Unicode Nd
  EXPECT_EQ(match("[\\p{P}\\$\\+<=>\\^~\\|`]+", "$+!a"), 3);
}

TEST(Regex, RejectsWhatItDoesNotSupport) {
  EXPECT_FALSE(tok::Regex::compile("(?<=a)b").ok());
  EXPECT_FALSE(tok::Regex::compile("(a*)*").ok());
  EXPECT_FALSE(tok::Regex::compile("[abc").ok());
  EXPECT_FALSE(tok::Regex::compile("(ab").ok());
  EXPECT_FALSE(tok::Regex::compile("\\p{NotAProperty}").ok());
  EXPECT_FALSE(tok::Regex::compile("*a").ok());
}

TEST(ByteMap, RoundTripsEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string mapped, back;
  tok::bytes_to_byte_level(all, mapped);
  ASSERT_TRUE(tok::byte_level_to_bytes(mapped, back));
  EXPECT_EQ(back, all);
  EXPECT_EQ(tok::byte_to_cp(' '), 0x120u);   // 'Ġ'
  EXPECT_EQ(tok::byte_to_cp('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(tok::byte_to_cp('a'), static_cast<uint32_t>('a'));
}

TEST(PreTokenize, Gpt2AndLlama3Patterns) {
  const auto gpt2 = regex_steps({tok::kPatternGpt2});
  EXPECT_EQ(pieces(gpt2, "Hello world's  end 123"), "Hello| world|'s| | end| 123");
  EXPECT_EQ(pieces(gpt2, "a  \n b"), "a|  \n| b");  // \s+(?!\S) gives back one space
  const auto llama3 = regex_steps({tok::kPatternLlama3});
  EXPECT_EQ(pieces(llama3, "12345 abc"), "123|45| abc");
  EXPECT_EQ(pieces(llama3, "x\n\n  y"), "x|\n\n| | y");
  EXPECT_EQ(pieces(llama3, "你好，世界"), "你好|，世界");
  const auto qwen2 = regex_steps({tok::kPatternQwen2});
  EXPECT_EQ(pieces(qwen2, "123"), "1|2|3");
}

TEST(PreTokenize, SequencesBehaviorsAndEmptyMatches) {
  // Each step re-splits the pieces of the previous one.
  EXPECT_EQ(pieces(regex_steps({"\\p{N}", tok::kPatternGpt2}), "ab12 cd"), "ab|1|2| cd");
  tok::PreTokStep ws;
  ws.pattern = "\\s+";
  ws.behavior = tok::PreTokStep::Behavior::kRemoved;
  EXPECT_EQ(pieces({ws}, " a  b "), "a|b");
  ws.behavior = tok::PreTokStep::Behavior::kMergedWithPrevious;
  EXPECT_EQ(pieces({ws}, "a b c"), "a |b |c");
  ws.behavior = tok::PreTokStep::Behavior::kMergedWithNext;
  EXPECT_EQ(pieces({ws}, "a b c"), "a| b| c");
  // A lookahead-only pattern splits without consuming (SuperBPE digit groups).
  EXPECT_EQ(pieces(regex_steps({"\\p{N}+", "(?=(\\d{3})+(?!\\d))"}), "1234567"), "1|234|567");
  tok::PreTokStep digits;
  digits.kind = tok::PreTokStep::Kind::kDigits;
  digits.individual_digits = true;
  EXPECT_EQ(pieces({digits}, "a12b"), "a|1|2|b");
}

TEST(PreTokenize, InvalidUtf8KeepsEveryByte) {
  const std::string text = "ab\xFF\xFE cd\xE4";
  tok::PreTokenizer p;
  ASSERT_TRUE(p.build(regex_steps({tok::kPatternLlama3})).ok());
  std::vector<tok::Piece> ps;
  p.split(text, ps);
  std::string joined;
  for (auto [b, e] : ps) joined += text.substr(b, e - b);
  EXPECT_EQ(joined, text);
}

TEST(PreTokenize, KnownGgufNames) {
  std::vector<tok::PreTokStep> steps;
  tok::NormalForm nf;
  bool ignore = false;
  for (const char* name : {"gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder",
                           "starcoder", "falcon", "mpt", "refact", "default", "tekken", "gpt-4o",
                           "deepseek-v3", "chameleon", "bailingmoe", "poro-chat"}) {
    ASSERT_TRUE(tok::pretok_steps_for_gguf_pre(name, &steps, &nf, &ignore).ok()) << name;
    tok::PreTokenizer p;
    const Status st = p.build(steps);
    EXPECT_TRUE(st.ok()) << name << ": " << st.message();
  }
  EXPECT_FALSE(tok::pretok_steps_for_gguf_pre("no-such-pre", &steps, &nf, &ignore).ok());
}

// The hand-written matchers must split exactly like the regex engine.
TEST(PreTokenize, FastMatchersAgreeWithRegexEngine) {
  const char* patterns[] = {
      tok::kPatternGpt2, tok::kPatternLlama3, tok::kPatternQwen2,
      R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))"};
  const char* atoms[] = {"a",  "Z",  "1",  "Ù£",     " ",  "  ", "\n",     "\r",
                         "\t", "'",  "s",  "S",      "Å¿", "re", "LL",     "ä½ ",
                         "!",  "?!", "Â ", "ã", "Ã©", "ÿ",  "â", "\r\n"};
  uint64_t seed = 12345;
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(seed >> 33);
  };
  std::vector<std::string> texts;
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    const uint32_t n = next() % 12;
    for (uint32_t k = 0; k < n; ++k) t += atoms[next() % (sizeof atoms / sizeof *atoms)];
    texts.push_back(t);
  }
  if (std::filesystem::exists(test::fixture("tokenizers/qwen2_5.golden.jsonl")))
    for (const auto& line : test::read_jsonl("tokenizers/qwen2_5.golden.jsonl"))
      texts.push_back(line.at("text"));
  for (const char* pat : patterns) {
    tok::PreTokStep step;
    step.pattern = pat;
    ASSERT_NE(tok::fast_pattern_for(pat), tok::FastPattern::kNone) << pat;
    tok::PreTokenizer fast, slow;
    ASSERT_TRUE(fast.build({step}, true).ok());
    ASSERT_TRUE(slow.build({step}, false).ok());
    for (const std::string& t : texts) {
      std::vector<tok::Piece> a, b;
      fast.split(t, a);
      slow.split(t, b);
      ASSERT_EQ(a, b) << "pattern " << pat << " text '" << t << "'";
    }
  }
}

// A byte-level vocabulary: all 256 byte characters, then merged tokens.
tok::TokenizerSpec tiny_bpe() {
  tok::TokenizerSpec s;
  s.model = tok::ModelType::kBpe;
  s.byte_level = true;
  for (int b = 0; b < 256; ++b) {
    std::string t;
    tok::bytes_to_byte_level(std::string(1, static_cast<char>(b)), t);
    s.tokens.push_back(t);
  }
  // 256 "ab" 257 "abc" 258 "Ġa" 259 "bc" 260 <|end|>
  for (const char* t : {"ab", "abc",
                        "\xC4\xA0"
                        "a",
                        "bc", "<|end|>"})
    s.tokens.push_back(t);
  s.types.assign(s.tokens.size(), tok::TokenType::kNormal);
  s.types[260] = tok::TokenType::kControl;
  s.merges = {{"a", "b"}, {"\xC4\xA0", "a"}, {"b", "c"}, {"ab", "c"}};
  s.pretok = regex_steps({tok::kPatternGpt2});
  s.added.push_back({260, "<|end|>", true});
  s.eos_id = 260;
  return s;
}

TEST(Bpe, MergesByRankLeftmostFirst) {
  auto tok = Tokenizer::from_spec(tiny_bpe());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  const auto& t = **tok;
  // "abc": (a,b) rank 0 -> "ab" + "c" -> (ab,c) rank 3 -> "abc"
  EXPECT_EQ(ids_str(t.encode("abc", false)), "257");
  // " abc": "Ġ" "a" "b" "c": (a,b) rank 0 before (Ġ,a) rank 1 -> Ġ ab c -> "Ġ" "abc"
  EXPECT_EQ(ids_str(t.encode(" abc", false)), "32 257");
  EXPECT_EQ(ids_str(t.encode(" a", false)), "258");
  EXPECT_EQ(t.decode(t.encode(" abc<|end|>", false)), " abc<|end|>");
  EXPECT_EQ(ids_str(t.encode("a<|end|>", false)), "97 260");
  EXPECT_NE(ids_str(t.encode("a<|end|>", false, false)), "97 260");
  EXPECT_TRUE(t.is_eog(260));
  EXPECT_EQ(t.decode(t.encode("x<|end|>y", false), /*skip_special=*/true), "xy");
  // Arbitrary bytes survive.
  const std::string junk = "\xFF\xC0\x80 z\xE4";
  EXPECT_EQ(t.decode(t.encode(junk, false)), junk);
}

TEST(Bpe, IgnoreMergesTakesWholeTokens) {
  auto spec = tiny_bpe();
  spec.merges = {{"b", "c"}};  // "abc" cannot be built from merges
  auto plain = Tokenizer::from_spec(spec);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(ids_str((*plain)->encode("abc", false)), "97 259");
  spec.ignore_merges = true;
  auto llama3 = Tokenizer::from_spec(spec);
  ASSERT_TRUE(llama3.ok());
  EXPECT_EQ(ids_str((*llama3)->encode("abc", false)), "257");
}

TEST(Bpe, LongPiecesUseTheHeapPath) {
  auto tok = Tokenizer::from_spec(tiny_bpe());
  ASSERT_TRUE(tok.ok());
  std::string s;
  for (int i = 0; i < 300; ++i) s += "abc";
  const auto ids = (*tok)->encode(s, false);
  EXPECT_EQ(ids.size(), 300u);
  for (int32_t id : ids) EXPECT_EQ(id, 257);
}

TEST(HfLoader, RejectsWhatItCannotRun) {
  EXPECT_FALSE(Tokenizer::from_hf_json("not json").ok());
  EXPECT_FALSE(Tokenizer::from_hf_json(R"({"model": {"type": "Unigram", "vocab": []}})").ok());
  auto r = Tokenizer::from_hf_json(
      R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
          "pre_tokenizer": {"type": "UnicodeScripts"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("UnicodeScripts"), std::string::npos);
  EXPECT_FALSE(Tokenizer::from_hf("/nonexistent/tokenizer.json", "").ok());
}

TEST(HfLoader, MetaspaceByteFallbackTemplate) {
  // A Mistral/Llama-2-style tokenizer.json in miniature.
  const char* json = R"({
    "added_tokens": [{"id": 0, "content": "<unk>", "special": true},
                     {"id": 1, "content": "<s>", "special": true},
                     {"id": 2, "content": "</s>", "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": false},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": false},
    "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
      "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0xC3>": 3, "<0xA9>": 4, "\u2581": 5, "h": 6,
                "i": 7, "\u2581h": 8, "\u2581hi": 9},
      "merges": ["\u2581 h", "\u2581h i"]}})";
  auto r = Tokenizer::from_hf_json(json, R"({"bos_token": "<s>", "eos_token": "</s>"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& t = **r;
  EXPECT_EQ(ids_str(t.encode("hi hi\xC3\xA9", true)), "1 9 9 3 4");
  EXPECT_TRUE(t.add_bos());
  EXPECT_EQ(t.decode(t.encode("hi hi\xC3\xA9", true), true), "hi hi\xC3\xA9");
  EXPECT_TRUE(t.is_eog(2));
}

TEST(GgufLoader, ErrorsNameTheProblem) {
  gguf::GgufWriter w;
  w.set("general.architecture", gguf::Value::str("llama"));
  auto f = gguf::GgufFile::from_bytes(w.to_bytes(), "no-vocab.gguf");
  ASSERT_TRUE(f.ok()) << f.status().message();
  auto t = Tokenizer::from_gguf(**f);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("tokenizer.ggml.model"), std::string::npos);

  w.set("tokenizer.ggml.model", gguf::Value::str("gpt2"));
  w.set("tokenizer.ggml.pre", gguf::Value::str("qwen2"));
  w.set("tokenizer.ggml.tokens", gguf::Value::str_array({"a", "b", "ab"}));
  f = gguf::GgufFile::from_bytes(w.to_bytes(), "no-merges.gguf");
  ASSERT_TRUE(f.ok());
  t = Tokenizer::from_gguf(**f);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("merges"), std::string::npos);

  w.set("tokenizer.ggml.merges", gguf::Value::str_array({"a b"}));
  w.set("tokenizer.ggml.scores", gguf::Value::f32_array({0.f}));  // wrong length
  f = gguf::GgufFile::from_bytes(w.to_bytes(), "bad-scores.gguf");
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(Tokenizer::from_gguf(**f).ok());

  w.set("tokenizer.ggml.scores", gguf::Value::f32_array({0.f, 0.f, 0.f}));
  w.set("tokenizer.ggml.pre", gguf::Value::str("no-such-pre"));
  f = gguf::GgufFile::from_bytes(w.to_bytes(), "bad-pre.gguf");
  ASSERT_TRUE(f.ok());
  t = Tokenizer::from_gguf(**f);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("no-such-pre"), std::string::npos);

  w.set("tokenizer.ggml.pre", gguf::Value::str("qwen2"));
  w.set("tokenizer.ggml.eos_token_id", gguf::Value::u32(0xFFFFFFFFu));
  f = gguf::GgufFile::from_bytes(w.to_bytes(), "ok.gguf");
  ASSERT_TRUE(f.ok());
  t = Tokenizer::from_gguf(**f);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ((*t)->eos_id(), -1);
  EXPECT_EQ(ids_str((*t)->encode("ab", false)), "2");
}

TEST(Qwen, SpecialTokensAndMetadata) {
  SF_REQUIRE_FIXTURE("tokenizers/qwen2_5/tokenizer.json");
  auto tok = test::load_hf_tokenizer("tokenizers/qwen2_5");
  ASSERT_TRUE(tok);
  const std::string text = "<|im_start|>user\n你好<|im_end|>";
  const auto parsed = tok->encode(text, false, true);
  EXPECT_EQ(parsed.front(), 151644);
  EXPECT_EQ(parsed.back(), 151645);
  const auto plain = tok->encode(text, false, false);
  for (int32_t id : plain) EXPECT_LT(id, 151643) << "special token parsed from untrusted text";
  EXPECT_EQ(tok->decode(plain), text);
  EXPECT_TRUE(tok->is_eog(151645));  // <|im_end|>
  EXPECT_TRUE(tok->is_eog(151643));  // <|endoftext|>
  EXPECT_FALSE(tok->is_eog(151644));
  EXPECT_FALSE(tok->add_bos());
  EXPECT_EQ(tok->eos_id(), 151645);
  EXPECT_NE(tok->chat_template().find("im_start"), std::string::npos);
  EXPECT_EQ(tok->find_token("<|im_start|>"), 151644);
  EXPECT_EQ(tok->token_to_piece(tok->encode(" 你", false)[0]).substr(0, 1), " ");
}

TEST(Llama3, BosFromConfig) {
  SF_REQUIRE_FIXTURE("tokenizers/llama3/tokenizer.json");
  auto tok = test::load_hf_tokenizer("tokenizers/llama3");
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->bos_id(), 128000);
  EXPECT_EQ(tok->eos_id(), 128001);
  EXPECT_TRUE(tok->is_eog(*tok->find_token("<|eot_id|>")));
  EXPECT_EQ(ids_str(tok->encode("<|begin_of_text|>Hi", false)), "128000 13347");
}

}  // namespace
}  // namespace sf
