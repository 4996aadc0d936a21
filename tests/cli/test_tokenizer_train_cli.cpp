// `starfire tokenizer train` end to end: the files it writes, the report, that
// `starfire tokenize` gives the same ids from the tokenizer.json and from the
// GGUF, that the GGUF says what `convert` would say for the same folder, and
// clear errors for bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "models/hf_convert.h"
#include "cli/cli_run.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

namespace fs = std::filesystem;

using test::CmdResult;
using test::starfire;

// Sentences from a few Chinese and English words (xorshift, so the corpus is
// the same on every platform).
std::string bilingual(uint64_t seed, size_t n) {
  static const char* zh[] = {"我们", "今天", "天气", "学习", "中文", "模型", "语言", "数据",
                             "训练", "北京", "朋友", "时间", "工作", "问题", "可以", "因为",
                             "所以", "但是", "非常", "喜欢", "的",   "了",   "是",   "在"};
  static const char* en[] = {"the",   "model",  "learns",  "from", "data",  "and",   "we",
                             "train", "it",     "on",      "text", "today", "good",  "language",
                             "city",  "school", "teacher", "very", "like",  "world", "token"};
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&](size_t k) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<size_t>(s % k);
  };
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const size_t words = 3 + next(8);
    if (next(2)) {
      for (size_t k = 0; k < words; ++k) out += zh[next(std::size(zh))];
      out += next(2) ? "。" : "，";
    } else {
      for (size_t k = 0; k < words; ++k) out += std::string(k ? " " : "") + en[next(std::size(en))];
      out += ". ";
    }
    if (next(5) == 0) out += "\n";
  }
  return out;
}

// A corpus folder: a .txt, a .jsonl with "text" and "messages" lines, and a
// file that is skipped.
fs::path make_corpus() {
  const fs::path dir = test::tmp_path("tok_corpus");
  fs::remove_all(dir);
  fs::create_directories(dir / "chat");
  test::write_file(dir / "books.txt", bilingual(1, 3000));
  nlohmann::json a = {{"text", bilingual(2, 300)}};
  nlohmann::json b = {{"messages",
                       {{{"role", "user"}, {"content", bilingual(3, 20)}},
                        {{"role", "assistant"}, {"content", bilingual(4, 40)}}}}};
  test::write_file(dir / "chat" / "sft.jsonl", a.dump() + "\n" + b.dump() + "\n");
  test::write_file(dir / "README.md", "not read");
  return dir;
}

TEST(TokenizerTrainCli, WritesFilesThatBothLoadersReadAlike) {
  const fs::path corpus = make_corpus();
  const fs::path out = test::tmp_path("tok_out");
  fs::remove_all(out);
  CmdResult r = starfire("tokenizer train --input " + corpus.string() + " --vocab-size 700 -o " +
                         out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* want :
       {"learned", "vocabulary: 700 tokens", "CJK", "Latin", "bytes/token", "skipped 1 files"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  ASSERT_TRUE(fs::exists(out / "tokenizer.json"));
  ASSERT_TRUE(fs::exists(out / "tokenizer_config.json"));
  ASSERT_TRUE(fs::exists(out / "tokenizer.gguf"));

  // `starfire tokenize` through either file: the same ids, specials as one token.
  const fs::path text = test::tmp_path("tok_text.txt");
  test::write_file(text, "<|im_start|>user\n你好，今天天气很好! Hello world 😀 12345\xFF<|im_end|>");
  CmdResult a = starfire("tokenize --json --tokenizer " + (out / "tokenizer.json").string() +
                         " --tokenizer-config " + (out / "tokenizer_config.json").string() + " < " +
                         text.string());
  CmdResult g =
      starfire("tokenize --json -m " + (out / "tokenizer.gguf").string() + " < " + text.string());
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_EQ(a.out, g.out);
  const auto ids = nlohmann::json::parse(a.out)["ids"].get<std::vector<int32_t>>();
  ASSERT_GT(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 698);  // <|im_start|>
  EXPECT_EQ(ids.back(), 699);   // <|im_end|>

  auto tok = Tokenizer::from_hf((out / "tokenizer.json").string(),
                                (out / "tokenizer_config.json").string());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  EXPECT_EQ((*tok)->decode(ids), test::read_file(text));
}

bool same_value(const gguf::Value& a, const gguf::Value& b) {
  if (a.type != b.type) return false;
  const gguf::Array* x = a.as_array();
  const gguf::Array* y = b.as_array();
  if (x || y) {
    if (!x || !y || x->elem_type != y->elem_type || x->items.size() != y->items.size())
      return false;
    for (size_t i = 0; i < x->items.size(); ++i)
      if (!same_value(x->items[i], y->items[i])) return false;
    return true;
  }
  if (a.as_string() || b.as_string())
    return a.as_string() && b.as_string() && *a.as_string() == *b.as_string();
  return a.as_int() == b.as_int() && a.as_float() == b.as_float();
}

// The GGUF holds what `starfire convert` derives from the tokenizer.json and
// tokenizer_config.json of the same folder (two independent writers agree).
TEST(TokenizerTrainCli, GgufMatchesTheConverterReadingOfTheJson) {
  const fs::path corpus = make_corpus();
  const fs::path out = test::tmp_path("tok_out_conv");
  fs::remove_all(out);
  CmdResult r =
      starfire("tokenizer train -i " + corpus.string() + " --vocab-size 600 -o " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  GgufKv kv;
  const Status st = add_hf_tokenizer(out.string(), 600, kv);
  ASSERT_TRUE(st.ok()) << st.message();
  auto f = gguf::GgufFile::open((out / "tokenizer.gguf").string());
  ASSERT_TRUE(f.ok()) << f.status().message();
  int compared = 0;
  for (const auto& [key, value] : kv) {
    const gguf::Value* mine = (*f)->find(key);
    ASSERT_NE(mine, nullptr) << key;
    EXPECT_TRUE(same_value(*mine, value))
        << key << ": ours " << mine->to_display() << ", converter's " << value.to_display();
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

TEST(TokenizerTrainCli, DeterministicAndJsonReport) {
  const fs::path corpus = make_corpus();
  std::string files[2][3];
  for (int run = 0; run < 2; ++run) {
    const fs::path out = test::tmp_path("tok_det" + std::to_string(run));
    fs::remove_all(out);
    CmdResult r = starfire("tokenizer train --input " + (corpus / "books.txt").string() + " " +
                           (corpus / "chat").string() +
                           " --vocab-size 500 --min-frequency 3 --special '<|tool|>' --json -o " +
                           out.string());
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["n_vocab"], 500);
    EXPECT_EQ(j["special_tokens"], 4);
    EXPECT_EQ(j["files"], 2);
    EXPECT_GT(j["bytes_per_token"]["cjk"]["bytes_per_token"].get<double>(), 1.5);
    EXPECT_GT(j["bytes_per_token"]["latin"]["bytes_per_token"].get<double>(), 1.5);
    int i = 0;
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "tokenizer.gguf"})
      files[run][i++] = test::read_file(out / name);
    EXPECT_NE(files[run][0].find("<|tool|>"), std::string::npos);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(files[0][i], files[1][i]) << i;
}

TEST(TokenizerTrainCli, MaxBytesLimitsTheText) {
  const fs::path corpus = make_corpus();
  const fs::path out = test::tmp_path("tok_max");
  CmdResult r = starfire("tokenizer train --input " + (corpus / "books.txt").string() +
                         " --vocab-size 400 --max-bytes 10K --json -o " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_LE(j["bytes"].get<uint64_t>(), 10240u);
  EXPECT_GE(j["bytes"].get<uint64_t>(), 10237u);  // cut at a character boundary
}

TEST(TokenizerTrainCli, BadInputGivesClearErrors) {
  const fs::path out = test::tmp_path("tok_bad_out");
  CmdResult r = starfire("tokenizer train --input /nonexistent/x.txt -o " + out.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/nonexistent/x.txt: no such file"), std::string::npos) << r.err;

  const fs::path empty = test::tmp_path("empty.txt");
  test::write_file(empty, "");
  r = starfire("tokenizer train --input " + empty.string() + " -o " + out.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("corpus is empty"), std::string::npos) << r.err;

  const fs::path some = test::tmp_path("some.txt");
  test::write_file(some, "some text");
  r = starfire("tokenizer train --input " + some.string() + " --vocab-size 100 -o " + out.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("too small"), std::string::npos) << r.err;

  r = starfire("tokenizer train --input " + some.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("-o OUTDIR"), std::string::npos) << r.err;

  r = starfire("tokenizer train --input " + some.string() + " --max-bytes lots -o " + out.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--max-bytes"), std::string::npos) << r.err;

  const fs::path jl = test::tmp_path("bad.jsonl");
  test::write_file(jl, "{\"content\": \"x\"}\n");
  r = starfire("tokenizer train --input " + jl.string() + " -o " + out.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.jsonl:1"), std::string::npos) << r.err;

  r = starfire("tokenizer fly");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown subcommand 'fly'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / "tokenizer.json"));
}

}  // namespace
}  // namespace sf
