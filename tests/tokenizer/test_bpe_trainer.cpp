// The byte-level BPE trainer (tokenizer/bpe_trainer.h) and its writers: merges
// derived by hand on toy corpora, determinism, the written files read back by
// both of our loaders with identical ids, round trips on arbitrary input,
// compression of Chinese text, the corpus reader and error messages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/byte_map.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/text_corpus.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace sf {
namespace {

using tok::BpeTrainer;
using tok::BpeTrainOptions;
using tok::TrainedBpe;

TrainedBpe train(const std::vector<std::string>& docs, BpeTrainOptions opt) {
  auto tr = BpeTrainer::create(std::move(opt));
  EXPECT_TRUE(tr.ok()) << tr.status().message();
  for (const std::string& d : docs) (*tr)->add_text(d);
  auto t = (*tr)->train();
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? std::move(t).value() : TrainedBpe{};
}

// Merges as "left|right" byte strings, in rank order.
std::vector<std::string> merge_list(const TrainedBpe& t) {
  std::vector<std::string> v;
  for (const auto& [a, b] : t.merges) v.push_back(t.token_bytes[a] + "|" + t.token_bytes[b]);
  return v;
}

BpeTrainOptions no_specials(int32_t vocab, int64_t min_freq) {
  BpeTrainOptions o;
  o.vocab_size = vocab;
  o.min_frequency = min_freq;
  o.special_tokens.clear();
  return o;
}

// The classic example. "aaabdaaabac" is one pre-token (all letters).
//   pairs: aa 4, ab 2, bd 1, da 1, ba 1, ac 1
//   1. (a,a) -> "aa"; left to right without overlap: aa a b d aa a b a c
//      pairs: (aa,a) 2, (a,b) 2, others 1. Tie at 2: left bytes "a" < "aa".
//   2. (a,b) -> "ab": aa ab d aa ab a c; (aa,ab) 2, the rest 1
//   3. (aa,ab) -> "aaab": aaab d aaab a c; every pair now 1 (min frequency 2
//      stops here). With min frequency 1, ties by bytes:
//   4. candidates (aaab,d) (d,aaab) (aaab,a) (a,c): smallest left "a" -> "ac"
//   5. aaab d aaab ac: (aaab,ac) < (aaab,d) < (d,aaab) -> "aaabac"
//   6. aaab d aaabac: (aaab,d) < (d,aaabac) -> "aaabd"
//   7. aaabd aaabac -> "aaabdaaabac"; one token left, nothing more to merge.
TEST(BpeTrainer, ClassicExampleByHand) {
  const TrainedBpe t = train({"aaabdaaabac"}, no_specials(300, 1));
  EXPECT_EQ(merge_list(t), (std::vector<std::string>{"a|a", "a|b", "aa|ab", "a|c", "aaab|ac",
                                                     "aaab|d", "aaabd|aaabac"}));
  ASSERT_EQ(t.token_bytes.size(), 256u + 7);
  EXPECT_EQ(t.token_bytes[256], "aa");
  EXPECT_EQ(t.token_bytes.back(), "aaabdaaabac");
  EXPECT_EQ(t.stats.merges, 7u);
  EXPECT_NE(t.stats.stop_reason.find("no pair left"), std::string::npos) << t.stats.stop_reason;
  for (int b = 0; b < 256; ++b) EXPECT_EQ(t.token_bytes[b], std::string(1, static_cast<char>(b)));

  const TrainedBpe t2 = train({"aaabdaaabac"}, no_specials(300, 2));
  EXPECT_EQ(merge_list(t2), (std::vector<std::string>{"a|a", "a|b", "aa|ab"}));
  EXPECT_NE(t2.stats.stop_reason.find("minimum frequency 2"), std::string::npos)
      << t2.stats.stop_reason;

  // The vocabulary size bounds the merges: 256 + 2.
  EXPECT_EQ(merge_list(train({"aaabdaaabac"}, no_specials(258, 1))),
            (std::vector<std::string>{"a|a", "a|b"}));
}

// Word frequencies add up across the corpus; the Qwen2 split keeps a space
// with the letters after it.
//   "ab ab ab cd" -> pieces "ab", " ab", " ab", " cd": words ab 1, " ab" 2, " cd" 1
//   pairs: (a,b) 3, (' ',a) 2, (' ',c) 1, (c,d) 1
//   1. (a,b) -> "ab";  then (' ',ab) 2, (' ',c) 1, (c,d) 1
//   2. (' ',ab) -> " ab"; then (' ',c) 1 and (c,d) 1 tie: " " < "c"
//   3. (' ',c) -> " c";  4. (" c",d) -> " cd"
TEST(BpeTrainer, WordFrequenciesByHand) {
  EXPECT_EQ(merge_list(train({"ab ab ab cd"}, no_specials(300, 1))),
            (std::vector<std::string>{"a|b", " |ab", " |c", " c|d"}));
  // The same text in three documents counts the same.
  EXPECT_EQ(merge_list(train({"ab ab", " ab", " cd"}, no_specials(300, 1))),
            (std::vector<std::string>{"a|b", " |ab", " |c", " c|d"}));
  EXPECT_EQ(merge_list(train({"ab ab ab cd"}, no_specials(300, 2))),
            (std::vector<std::string>{"a|b", " |ab"}));
}

// Ties compare bytes as unsigned: UTF-8 lead bytes (>= 0xC2) sort after ASCII.
//   "zz ééé" -> words "zz", " ééé" (bytes 20 C3 A9 C3 A9 C3 A9)
//   1. (C3,A9) 3 -> "é": " " é é é; pairs (z,z) 1, (' ',é) 1, (é,é) 2
//   2. (é,é) 2 -> "éé" (left to right): " " éé é; every pair now 1
//   3. (' ',éé), (éé,é), (z,z): left " " (0x20) < "z" (0x7A) < "éé" (0xC3 ...)
//   4. (" éé",é): " éé" < "z";  5. (z,z)
// (Comparing signed chars would put "éé" first at step 3.)
TEST(BpeTrainer, TiesCompareBytesUnsigned) {
  const std::string e = "\xC3\xA9";
  EXPECT_EQ(merge_list(train({"zz " + e + e + e}, no_specials(300, 1))),
            (std::vector<std::string>{"\xC3|\xA9", e + "|" + e, " |" + e + e, " " + e + e + "|" + e,
                                      "z|z"}));
}

TEST(BpeTrainer, SpecialTokensAreNotLearnedAndComeLast) {
  std::string doc;
  for (int i = 0; i < 50; ++i) doc += "hi<|im_end|><|endoftext|>";
  BpeTrainOptions o;
  o.vocab_size = 400;
  const TrainedBpe t = train({doc}, o);
  // Only "hi" is text; everything else was special-token text.
  EXPECT_EQ(merge_list(t), (std::vector<std::string>{"h|i"}));
  ASSERT_EQ(t.n_vocab(), 256 + 1 + 3);
  EXPECT_EQ(t.specials, tok::default_special_tokens());
  EXPECT_EQ(t.bos_id, 257);  // <|endoftext|>
  EXPECT_EQ(t.pad_id, 257);
  EXPECT_EQ(t.eos_id, 259);  // <|im_end|>
  EXPECT_EQ(t.chat_template, tok::kChatMlTemplate);

  o.special_tokens = {"<s>"};
  const TrainedBpe u = train({"hi hi"}, o);
  EXPECT_EQ(u.bos_id, u.n_vocab() - 1);
  EXPECT_EQ(u.eos_id, u.n_vocab() - 1);
  EXPECT_TRUE(u.chat_template.empty());  // no ChatML tokens, no ChatML template
}

TEST(BpeTrainer, ChatMlTemplateRenders) {
  ChatTemplateInputs in;
  in.messages = nlohmann::ordered_json::array(
      {{{"role", "system"}, {"content", "你是助手。"}}, {{"role", "user"}, {"content", "hi"}}});
  in.add_generation_prompt = true;
  auto r = render_chat_template(tok::kChatMlTemplate, in);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r,
            "<|im_start|>system\n你是助手。<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(BpeTrainer, ErrorsNameTheProblem) {
  BpeTrainOptions o;
  o.vocab_size = 258;
  auto r = BpeTrainer::create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too small"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("259"), std::string::npos) << r.status().message();
  o.vocab_size = 259;
  EXPECT_TRUE(BpeTrainer::create(o).ok());

  o.special_tokens = {"<a>", "<a>"};
  r = BpeTrainer::create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("twice"), std::string::npos);
  o.special_tokens = {""};
  EXPECT_FALSE(BpeTrainer::create(o).ok());
  o.special_tokens = {"\xFF"};
  EXPECT_FALSE(BpeTrainer::create(o).ok());
  o.special_tokens = {};
  o.min_frequency = 0;
  EXPECT_FALSE(BpeTrainer::create(o).ok());

  o.min_frequency = 2;
  auto tr = BpeTrainer::create(o);
  ASSERT_TRUE(tr.ok());
  auto t = (*tr)->train();  // nothing added
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("empty"), std::string::npos) << t.status().message();
  (*tr)->add_text("<|im_end|>");  // not a special here (none configured): text
  EXPECT_TRUE((*tr)->train().ok());

  // "Ġab" is how tokenizer.json spells the learned token " ab".
  o.special_tokens = {
      "\xC4\xA0"
      "ab"};
  o.min_frequency = 1;
  tr = BpeTrainer::create(o);
  ASSERT_TRUE(tr.ok());
  (*tr)->add_text(" ab ab");
  t = (*tr)->train();
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("spelled like"), std::string::npos) << t.status().message();
}

TEST(BpeTrainer, MaxBytesStopsAtACharacterBoundary) {
  BpeTrainOptions o = no_specials(300, 1);
  o.max_bytes = 7;
  auto tr = BpeTrainer::create(o);
  ASSERT_TRUE(tr.ok());
  EXPECT_TRUE((*tr)->add_text("ab"));
  // "c你好" is 7 bytes; 5 are left, which would end inside 好: "c你" (4) is taken.
  EXPECT_FALSE((*tr)->add_text("c\xE4\xBD\xA0\xE5\xA5\xBD"));
  EXPECT_TRUE((*tr)->full());
  EXPECT_FALSE((*tr)->add_text("more"));
  EXPECT_EQ((*tr)->stats().bytes, 6u);
  auto t = (*tr)->train();
  ASSERT_TRUE(t.ok());
  // Learned: "ab", "c" + the three bytes of 你 ..., never a byte of 好.
  ASSERT_GT(t->token_bytes.size(), 256u);
  for (size_t i = 256; i < t->token_bytes.size(); ++i)
    EXPECT_EQ(t->token_bytes[i].find('\xE5'), std::string::npos) << i;
}

// ---------------------------------------------------------------------------
// A generated bilingual corpus: sentences drawn from common Chinese and English
// words, so held-out text (another seed) shares the vocabulary but not the
// sentences.

// Our own generator (std distributions differ between standard libraries).
struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

const std::vector<std::string>& zh_words() {
  static const std::vector<std::string> w = {
      "我们", "今天", "天气", "很好", "学习", "中文", "计算机", "模型",     "语言", "数据",
      "训练", "北京", "上海", "朋友", "时间", "工作", "问题",   "一个",     "没有", "可以",
      "因为", "所以", "但是", "如果", "就是", "非常", "喜欢",   "中国",     "发展", "经济",
      "技术", "大家", "自己", "世界", "文化", "历史", "生活",   "学生",     "老师", "学校",
      "医院", "公司", "市场", "社会", "国家", "城市", "环境",   "科学",     "研究", "方法",
      "系统", "网络", "信息", "安全", "服务", "用户", "程序",   "人工智能", "的",   "了",
      "是",   "在",   "有",   "和",   "也",   "都",   "要",     "会",       "去",   "来",
      "说",   "看",   "想",   "做",   "吃",   "写",   "读",     "听",       "这个", "那些"};
  return w;
}

const std::vector<std::string>& en_words() {
  static const std::vector<std::string> w = {
      "the",     "model",  "learns", "from",    "data",    "and",      "we",      "train",
      "it",      "on",     "text",   "today",   "weather", "is",       "good",    "language",
      "people",  "city",   "school", "teacher", "student", "computer", "network", "system",
      "because", "but",    "if",     "very",    "like",    "world",    "history", "culture",
      "science", "method", "user",   "service", "program", "file",     "error",   "token"};
  return w;
}

enum class Lang { kBoth, kZh, kEn };

std::string gen_corpus(uint64_t seed, size_t n_sentences, Lang lang = Lang::kBoth) {
  Rng r{seed * 0x9E3779B97F4A7C15ull + 1};
  const auto& zh = zh_words();
  const auto& en = en_words();
  const char* zh_punct[] = {"，", "。", "？", "！", "；"};
  std::string out;
  for (size_t i = 0; i < n_sentences; ++i) {
    const bool zh_sentence = lang == Lang::kBoth ? r.below(2) == 0 : lang == Lang::kZh;
    if (zh_sentence) {
      const size_t n = 4 + r.below(8);
      for (size_t k = 0; k < n; ++k) {
        out += zh[r.below(zh.size())];
        if (k + 1 < n && r.below(5) == 0) out += zh_punct[r.below(2)];
      }
      out += zh_punct[1 + r.below(4)];
    } else {
      const size_t n = 4 + r.below(10);
      for (size_t k = 0; k < n; ++k) {
        if (k) out += ' ';
        const std::string& w = en[r.below(en.size())];
        out += k == 0 ? std::string(1, static_cast<char>(w[0] - 32)) + w.substr(1) : w;
      }
      out += r.below(4) == 0 ? "?" : ".";
      if (r.below(3) == 0) out += " " + std::to_string(r.below(2025));
    }
    out += r.below(6) == 0 ? "\n" : " ";
  }
  return out;
}

struct Loaded {
  std::shared_ptr<const Tokenizer> hf, gg;
  std::shared_ptr<const gguf::GgufFile> file;
};

Loaded write_and_load(const TrainedBpe& t, const std::string& name) {
  const auto dir = test::tmp_path(name);
  Loaded l;
  const Status st = tok::write_trained_bpe(t, dir.string());
  EXPECT_TRUE(st.ok()) << st.message();
  auto hf = Tokenizer::from_hf((dir / "tokenizer.json").string(),
                               (dir / "tokenizer_config.json").string());
  EXPECT_TRUE(hf.ok()) << hf.status().message();
  auto f = gguf::GgufFile::open((dir / "tokenizer.gguf").string());
  EXPECT_TRUE(f.ok()) << f.status().message();
  if (!hf.ok() || !f.ok()) return l;
  auto gg = Tokenizer::from_gguf(**f);
  EXPECT_TRUE(gg.ok()) << gg.status().message();
  if (!gg.ok()) return l;
  l.hf = *hf;
  l.gg = *gg;
  l.file = *f;
  return l;
}

// What encode() promises: the text back, NFC-normalized (the normalizer, as
// Qwen2's; invalid UTF-8 is left as it is).
std::string nfc(const std::string& s) {
  std::string out;
  return tok::normalize(tok::NormalForm::kNFC, s, out) ? out : s;
}

class TrainedBilingual : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    BpeTrainOptions o;
    o.vocab_size = 1500;
    corpus_ = new std::string(gen_corpus(1, 6000));
    auto tr = BpeTrainer::create(o);
    ASSERT_TRUE(tr.ok());
    // Some documents, one of them with chat turns in it.
    const size_t half = tok::text_safe_cut(*corpus_, corpus_->size() / 2);
    (*tr)->add_text(corpus_->substr(0, half));
    (*tr)->add_text("<|im_start|>user\n你好<|im_end|>\n");
    (*tr)->add_text(corpus_->substr(half));
    auto t = (*tr)->train();
    ASSERT_TRUE(t.ok()) << t.status().message();
    trained_ = new TrainedBpe(std::move(t).value());
    loaded_ = new Loaded(write_and_load(*trained_, "bilingual"));
    trainer_ = tr->release();
  }
  static void TearDownTestSuite() {
    delete corpus_;
    delete trained_;
    delete loaded_;
    delete trainer_;
  }
  static std::string* corpus_;
  static TrainedBpe* trained_;
  static Loaded* loaded_;
  static BpeTrainer* trainer_;
};
std::string* TrainedBilingual::corpus_ = nullptr;
TrainedBpe* TrainedBilingual::trained_ = nullptr;
Loaded* TrainedBilingual::loaded_ = nullptr;
BpeTrainer* TrainedBilingual::trainer_ = nullptr;

TEST_F(TrainedBilingual, FilesLoadInBothLoadersWithTheSameVocabulary) {
  ASSERT_TRUE(loaded_->hf && loaded_->gg);
  const Tokenizer& hf = *loaded_->hf;
  const Tokenizer& gg = *loaded_->gg;
  EXPECT_EQ(trained_->n_vocab(), 1500);
  EXPECT_EQ(hf.n_vocab(), 1500);
  EXPECT_EQ(gg.n_vocab(), 1500);
  for (int32_t id = 0; id < hf.n_vocab(); ++id) {
    ASSERT_EQ(hf.token_text(id), gg.token_text(id)) << id;
    ASSERT_EQ(hf.token_to_piece(id), gg.token_to_piece(id)) << id;
    ASSERT_EQ(hf.is_control(id), gg.is_control(id)) << id;
  }
  // Byte tokens are ids 0..255, one byte each; specials last.
  for (int b = 0; b < 256; ++b) EXPECT_EQ(hf.token_to_piece(b), std::string(1, char(b)));
  EXPECT_EQ(hf.find_token("<|endoftext|>"), 1497);
  EXPECT_EQ(hf.find_token("<|im_start|>"), 1498);
  EXPECT_EQ(hf.find_token("<|im_end|>"), 1499);
  for (const Tokenizer* t : {&hf, &gg}) {
    EXPECT_EQ(t->bos_id(), 1497);
    EXPECT_EQ(t->eos_id(), 1499);
    EXPECT_FALSE(t->add_bos());
    EXPECT_FALSE(t->add_eos());
    EXPECT_TRUE(t->is_eog(1499));
    EXPECT_TRUE(t->is_eog(1497));
    EXPECT_EQ(t->chat_template(), tok::kChatMlTemplate);
  }
  EXPECT_EQ(loaded_->file->get_string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(loaded_->file->get_int("tokenizer.ggml.padding_token_id"), 1497);
  EXPECT_TRUE(loaded_->file->tensors().empty());
}

TEST_F(TrainedBilingual, RoundTripsArbitraryInputWithIdenticalIdsFromBothLoaders) {
  ASSERT_TRUE(loaded_->hf && loaded_->gg);
  const Tokenizer& hf = *loaded_->hf;
  const Tokenizer& gg = *loaded_->gg;
  std::vector<std::string> texts = {
      "",
      "你好，世界！Hello, world! 😀👍🏽 123456789 3.14159",
      "混合 mixed 文本 text\n\n\t  多个空格   and tabs\r\n",
      "日本語のテキスト、한국어 텍스트, Ελληνικά, русский, العربية",
      "e\xCC\x81 (e + combining acute) and \xEF\xA4\x80 (a CJK compatibility ideograph)",
      "invalid: \xFF\xFE \xC3 \xE4\xBD \xF0\x9F\x98 \x80\x80 end",
      std::string("nul\0byte", 8),
      "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n",
      "<|im_start<|im_end|>|><|endoftext|",
  };
  // Random code points across scripts (NFC may change some), and random bytes.
  Rng r{42};
  const std::pair<uint32_t, uint32_t> ranges[] = {
      {0x20, 0x7E},       {0xA0, 0x24F},      {0x300, 0x36F},   {0x370, 0x3FF},   {0x400, 0x4FF},
      {0x1100, 0x11FF},   {0x3000, 0x30FF},   {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF},
      {0x1F300, 0x1F6FF}, {0x20000, 0x2A6DF}, {0x9, 0xD}};
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const size_t n = r.below(40);
    for (size_t k = 0; k < n; ++k) {
      const auto& [lo, hi] = ranges[r.below(std::size(ranges))];
      tok::utf8_append(s, lo + static_cast<uint32_t>(r.below(hi - lo + 1)));
    }
    texts.push_back(s);
  }
  for (int i = 0; i < 300; ++i) {
    std::string s(r.below(64), '\0');
    for (char& c : s) c = static_cast<char>(r.next());
    texts.push_back(s);
  }
  int unchanged_by_nfc = 0;
  for (const std::string& x : texts) {
    for (bool parse_special : {true, false}) {
      const auto a = hf.encode(x, false, parse_special);
      const auto b = gg.encode(x, false, parse_special);
      ASSERT_EQ(a, b) << "text '" << x << "'";
      const std::string back = hf.decode(a);
      EXPECT_EQ(back, nfc(x)) << "text '" << x << "'";
      EXPECT_EQ(gg.decode(b), back);
    }
    if (nfc(x) == x) ++unchanged_by_nfc;
  }
  // Many inputs are NFC already (random bytes, most random code points), and
  // for those the round trip above was exact.
  EXPECT_GT(unchanged_by_nfc, 300);
  // Decomposed input comes back composed (the NFC normalizer, as Qwen2's).
  EXPECT_EQ(hf.decode(hf.encode("e\xCC\x81", false)), "\xC3\xA9");
}

TEST_F(TrainedBilingual, SpecialTokensAreSingleTokensOnlyWhenParsed) {
  ASSERT_TRUE(loaded_->hf && loaded_->gg);
  for (const Tokenizer* t : {loaded_->hf.get(), loaded_->gg.get()}) {
    const auto ids = t->encode("<|im_start|>user\n你好<|im_end|>", false, true);
    ASSERT_GE(ids.size(), 4u);
    EXPECT_EQ(ids.front(), 1498);
    EXPECT_EQ(ids.back(), 1499);
    const auto plain = t->encode("<|im_start|>user\n你好<|im_end|>", false, false);
    for (int32_t id : plain) EXPECT_LT(id, 1497) << "a special token from unparsed text";
    EXPECT_EQ(t->decode(plain), "<|im_start|>user\n你好<|im_end|>");
    EXPECT_EQ(t->decode(ids, /*skip_special=*/true), "user\n你好");
  }
}

TEST_F(TrainedBilingual, ChineseCompressesOnHeldOutText) {
  ASSERT_TRUE(loaded_->hf);
  const Tokenizer& tok = *loaded_->hf;
  // Held-out text: the same words, other sentences (other seeds).
  const std::string zh = gen_corpus(777, 500, Lang::kZh), en = gen_corpus(778, 500, Lang::kEn);
  const double zh_bpt = double(zh.size()) / tok.encode(zh, false).size();
  const double en_bpt = double(en.size()) / tok.encode(en, false).size();
  // One token per Han character would be 3.0 bytes/token; learned words do better.
  EXPECT_GT(zh_bpt, 1.5);
  EXPECT_GT(zh_bpt, 3.0) << "Chinese words were not learned";
  EXPECT_GT(en_bpt, 3.0) << "English words were not learned";
  std::printf("held-out bytes/token: Chinese %.2f, English %.2f\n", zh_bpt, en_bpt);

  // The trainer's report is the encoding of the training text itself: the two
  // corpus halves (cut where pre-tokenization cuts anyway) and the text
  // between the special tokens of the chat document.
  const auto c = trainer_->measure(tok);
  EXPECT_GT(c.cjk.bytes_per_token(), 3.0);
  EXPECT_GT(c.latin.bytes_per_token(), 3.0);
  EXPECT_EQ(c.all.bytes, c.cjk.bytes + c.latin.bytes + c.other.bytes);
  EXPECT_EQ(c.all.tokens, c.cjk.tokens + c.latin.tokens + c.other.tokens);
  uint64_t tokens = 0, bytes = 0;
  for (const std::string& text : {*corpus_, std::string("user\n你好"), std::string("\n")}) {
    tokens += tok.encode(text, false).size();
    bytes += text.size();
  }
  EXPECT_EQ(c.all.tokens, tokens);
  EXPECT_EQ(c.all.bytes, bytes);
}

TEST(BpeTrainer, DeterministicFilesWhateverTheDocumentOrder) {
  std::vector<std::string> docs;
  for (uint64_t s = 1; s <= 8; ++s) docs.push_back(gen_corpus(s, 300));
  BpeTrainOptions o;
  o.vocab_size = 900;
  const TrainedBpe a = train(docs, o);
  const TrainedBpe b = train(docs, o);
  std::reverse(docs.begin(), docs.end());
  const TrainedBpe c = train(docs, o);
  for (const TrainedBpe* t : {&b, &c}) {
    EXPECT_EQ(tok::trained_bpe_tokenizer_json(a), tok::trained_bpe_tokenizer_json(*t));
    EXPECT_EQ(tok::trained_bpe_config_json(a), tok::trained_bpe_config_json(*t));
    EXPECT_EQ(tok::trained_bpe_gguf(a), tok::trained_bpe_gguf(*t));
  }
  EXPECT_EQ(a.n_vocab(), 900);
}

// The tokenizer.json is what Hugging Face `tokenizers` expects of a Qwen2-style
// byte-level BPE (checked by hand against the library; see the report).
TEST(BpeTrainer, TokenizerJsonLayout) {
  const TrainedBpe t = train({"aaabdaaabac hello 你好"}, [] {
    BpeTrainOptions o;
    o.vocab_size = 270;
    o.min_frequency = 1;
    return o;
  }());
  const auto j = nlohmann::json::parse(tok::trained_bpe_tokenizer_json(t));
  EXPECT_EQ(j["model"]["type"], "BPE");
  EXPECT_EQ(j["model"]["vocab"]["Ā"], 0);  // byte 0 under the GPT-2 byte map
  EXPECT_EQ(j["model"]["vocab"]["a"], 'a');
  EXPECT_EQ(j["model"]["vocab"]["aa"], 256);
  EXPECT_EQ(j["model"]["merges"][0], "a a");
  EXPECT_EQ(j["normalizer"]["type"], "NFC");
  EXPECT_EQ(j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"], tok::kPatternQwen2);
  EXPECT_EQ(j["pre_tokenizer"]["pretokenizers"][1]["type"], "ByteLevel");
  EXPECT_EQ(j["pre_tokenizer"]["pretokenizers"][1]["use_regex"], false);
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  ASSERT_EQ(j["added_tokens"].size(), 3u);
  EXPECT_EQ(j["added_tokens"][2]["content"], "<|im_end|>");
  EXPECT_EQ(j["added_tokens"][2]["id"], 269);
  const auto cfg = nlohmann::json::parse(tok::trained_bpe_config_json(t));
  EXPECT_EQ(cfg["eos_token"], "<|im_end|>");
  EXPECT_EQ(cfg["pad_token"], "<|endoftext|>");
  EXPECT_EQ(cfg["bos_token"], "<|endoftext|>");
  EXPECT_EQ(cfg["add_bos_token"], false);
  EXPECT_EQ(cfg["added_tokens_decoder"]["268"]["content"], "<|im_start|>");
}

// ---------------------------------------------------------------------------
// The corpus reader.

TEST(TextCorpus, SafeCutsPreTokenizeLikeTheWhole) {
  tok::PreTokenizer pre;
  tok::PreTokStep step;
  step.pattern = tok::kPatternQwen2;
  ASSERT_TRUE(pre.build({step}).ok());
  auto pieces = [&](std::string_view s) {
    std::vector<tok::Piece> ps;
    pre.split(s, ps);
    std::vector<std::string> out;
    for (const auto& [b, e] : ps) out.emplace_back(s.substr(b, e - b));
    return out;
  };
  Rng r{7};
  const char* atoms[] = {"\n", "\r\n", " ",    "  ", "\t",       "a", "Z",    "9", "你", "。",
                         "!",  "'s",   "\n\n", "é",  "\xCC\x81", "-", "\xFF", "(", " x"};
  for (int iter = 0; iter < 300; ++iter) {
    std::string s;
    const size_t n = 1 + r.below(60);
    for (size_t k = 0; k < n; ++k) s += atoms[r.below(std::size(atoms))];
    std::vector<std::string> split;
    std::string_view rest = s;
    while (!rest.empty()) {
      const size_t cut = tok::text_safe_cut(rest, r.below(rest.size() + 1));
      ASSERT_GT(cut, 0u);
      for (auto& p : pieces(rest.substr(0, cut))) split.push_back(p);
      rest.remove_prefix(cut);
    }
    EXPECT_EQ(split, pieces(s)) << "text '" << s << "'";
  }
  EXPECT_EQ(tok::text_safe_cut("ab\ncd\nef", 4), 3u);
  EXPECT_EQ(tok::text_safe_cut("ab\n cd\nef", 4), 7u);  // not before a space
  EXPECT_EQ(tok::text_safe_cut("abcdef", 2), 6u);
}

TEST(TextCorpus, ReadsTxtJsonlAndFoldersInOrder) {
  namespace fs = std::filesystem;
  const fs::path dir = test::tmp_path("corpus");
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  test::write_file(dir / "b.txt", "second file\n");
  test::write_file(dir / "a.txt", "first file\n");
  test::write_file(dir / "sub" / "c.jsonl",
                   "{\"text\": \"json text\"}\n\n"
                   "{\"messages\": [{\"role\": \"user\", \"content\": \"你好\"}, "
                   "{\"role\": \"assistant\", \"content\": [{\"type\": \"text\", \"text\": "
                   "\"hi\"}]}]}\n");
  test::write_file(dir / "sub" / "skip.bin", "not text");
  std::vector<std::string> docs;
  tok::CorpusStats st;
  const Status s = tok::read_text_corpus(
      {dir.string()},
      [&](std::string_view d) {
        docs.emplace_back(d);
        return true;
      },
      &st);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(docs,
            (std::vector<std::string>{"first file\n", "second file\n", "json text", "你好", "hi"}));
  EXPECT_EQ(st.files, 3u);
  EXPECT_EQ(st.skipped_files, 1u);

  // A sink that says stop is obeyed.
  docs.clear();
  ASSERT_TRUE(tok::read_text_corpus({dir.string()}, [&](std::string_view d) {
                docs.emplace_back(d);
                return false;
              }).ok());
  EXPECT_EQ(docs.size(), 1u);
}

TEST(TextCorpus, ErrorsNameTheFileAndLine) {
  namespace fs = std::filesystem;
  auto sink = [](std::string_view) { return true; };
  Status s = tok::read_text_corpus({"/nonexistent/corpus.txt"}, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/corpus.txt: no such file"), std::string::npos)
      << s.message();

  const fs::path bad = test::tmp_path("bad.jsonl");
  test::write_file(bad, "{\"text\": \"ok\"}\n{\"txt\": \"typo\"}\n");
  s = tok::read_text_corpus({bad.string()}, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad.jsonl:2: no \"text\""), std::string::npos) << s.message();
  test::write_file(bad, "not json\n");
  s = tok::read_text_corpus({bad.string()}, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":1: not a JSON object"), std::string::npos) << s.message();

  const fs::path empty_dir = test::tmp_path("empty_corpus_dir");
  fs::create_directories(empty_dir);
  test::write_file(empty_dir / "x.bin", "x");
  s = tok::read_text_corpus({empty_dir.string()}, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no .txt or .jsonl files"), std::string::npos) << s.message();
}

TEST(TextCorpus, TextFilesStreamInBlocksThatTrainLikeTheWhole) {
  // ~600 KB read in 64 KB blocks, and the same text as one string: the same
  // words and merges.
  std::string text;
  for (uint64_t s = 100; text.size() < 600000; ++s) text += gen_corpus(s, 500);
  const auto path = test::tmp_path("big.txt");
  test::write_file(path, text);
  BpeTrainOptions o;
  o.vocab_size = 600;
  auto tr = BpeTrainer::create(o);
  ASSERT_TRUE(tr.ok());
  size_t blocks = 0, bytes = 0;
  ASSERT_TRUE(tok::read_text_corpus(
                  {path.string()},
                  [&](std::string_view d) {
                    ++blocks;
                    bytes += d.size();
                    EXPECT_LT(d.size(), size_t{80000});
                    return (*tr)->add_text(d);
                  },
                  nullptr, size_t{64} << 10)
                  .ok());
  EXPECT_GE(blocks, 8u);
  EXPECT_EQ(bytes, text.size());
  auto a = (*tr)->train();
  ASSERT_TRUE(a.ok());
  const TrainedBpe b = train({text}, o);
  EXPECT_EQ(merge_list(*a), merge_list(b));
  EXPECT_EQ(a->stats.words, b.stats.words);
}

}  // namespace
}  // namespace sf
