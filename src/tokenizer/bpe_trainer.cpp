#include "tokenizer/bpe_trainer.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "tokenizer/byte_map.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/text_corpus.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace sf::tok {

std::vector<std::string> default_special_tokens() {
  return {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Distinct pre-token words with their counts. Open addressing over an arena of
// the word bytes: real corpora have millions of distinct pieces (a Chinese
// clause between two punctuation marks is one piece), and a node per word in
// std::unordered_map costs several times the memory and time.
class WordCounter {
 public:
  struct Slot {
    uint64_t hash = 0;
    uint64_t off = 0;
    uint32_t len = 0;  // 0: empty slot (words are never empty)
    int64_t count = 0;
  };

  void add(std::string_view w) {
    if (slots_.empty() || (used_ + 1) * 4 > slots_.size() * 3) grow();
    const uint64_t h = std::hash<std::string_view>()(w);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.len == 0) {
        s = {h, arena_.size(), static_cast<uint32_t>(w.size()), 1};
        arena_.append(w);
        ++used_;
        return;
      }
      if (s.hash == h && s.len == w.size() && arena_.compare(s.off, s.len, w) == 0) {
        ++s.count;
        return;
      }
    }
  }
  size_t size() const { return used_; }
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.len) f(std::string_view(arena_).substr(s.off, s.len), s.count);
  }

 private:
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? size_t{1} << 16 : old.size() * 2, Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (!s.len) continue;
      size_t i = s.hash & mask;
      while (slots_[i].len) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::string arena_;
  size_t used_ = 0;
};

// Script of a pre-token piece for the compression report.
enum class Script { kCjk, kLatin, kOther };

bool is_cjk(uint32_t cp) {
  return (cp >= 0x2E80 && cp <= 0x2FDF) ||  // CJK and Kangxi radicals
         (cp >= 0x3005 && cp <= 0x3007) ||  // 々〆〇
         (cp >= 0x3040 && cp <= 0x30FF) ||  // hiragana, katakana
         (cp >= 0x3130 && cp <= 0x318F) ||  // Hangul compatibility jamo
         (cp >= 0x31F0 && cp <= 0x31FF) ||  // katakana extension
         (cp >= 0x3400 && cp <= 0x4DBF) ||  // Han extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||  // Han
         (cp >= 0xAC00 && cp <= 0xD7AF) ||  // Hangul syllables
         (cp >= 0xF900 && cp <= 0xFAFF) ||  // Han compatibility
         (cp >= 0x20000 && cp <= 0x3FFFF);  // Han extensions B..
}

bool is_latin(uint32_t cp) {
  return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
         (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) || (cp >= 0x1E00 && cp <= 0x1EFF);
}

Script script_of(std::string_view w) {
  bool cjk = false, latin = false;
  for (size_t i = 0; i < w.size();) {
    int len;
    const uint32_t cp = utf8_decode(w, i, &len);
    i += static_cast<size_t>(len);
    cjk = cjk || is_cjk(cp);
    latin = latin || is_latin(cp);
  }
  if (cjk && !latin) return Script::kCjk;
  if (latin && !cjk) return Script::kLatin;
  return Script::kOther;
}

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct PairStat {
  int64_t count = 0;
  std::vector<uint32_t> words;  // may hold words that lost the pair (checked on use)
};

// pair key -> PairStat, open addressing. The merge loop does a few lookups per
// merged occurrence, tens of millions on a real corpus; std::unordered_map's
// node per entry made it the slowest part. Entries are never removed (a merged
// pair keeps a zero count), so there are no tombstones.
class PairTable {
 public:
  PairStat& operator[](uint64_t key) {
    if ((stats_.size() + 1) * 2 > slots_.size()) grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key == key) return stats_[s.index];
      if (s.key == kEmpty) {
        s = {key, static_cast<uint32_t>(stats_.size())};
        keys_.push_back(key);
        return stats_.emplace_back();
      }
    }
  }
  PairStat* find(uint64_t key) {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key == key) return &stats_[s.index];
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return stats_.size(); }
  uint64_t key(size_t i) const { return keys_[i]; }
  const PairStat& stat(size_t i) const { return stats_[i]; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are < 2^31, so no pair has it
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t index = 0;
  };
  static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? size_t{1} << 16 : old.size() * 2, Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key == kEmpty) continue;
      size_t i = mix(s.key) & mask;
      while (slots_[i].key != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::vector<PairStat> stats_;  // a reference is good until the next insert
  std::vector<uint64_t> keys_;
};

// The merge loop's state. Words are the distinct pieces, each a run of symbol
// ids in one flat array that shrinks in place as merges apply.
class Merger {
 public:
  Merger(const WordCounter& counter, const BpeTrainOptions& opt, TrainedBpe* out)
      : opt_(opt), out_(out) {
    words_.reserve(counter.size());
    counter.for_each([&](std::string_view w, int64_t n) {
      words_.push_back({syms_.size(), static_cast<uint32_t>(w.size()), n});
      for (char c : w) syms_.push_back(static_cast<uint8_t>(c));
    });
    // The words come in hash-table order; nothing below depends on it (pair
    // counts are sums, and ties are broken by bytes, not by position).
    tokens_ = &out->token_bytes;
    heap_less_.tok = tokens_;
    tokens_->clear();
    for (int b = 0; b < 256; ++b) {
      tokens_->push_back(std::string(1, static_cast<char>(b)));
      token_id_.emplace(tokens_->back(), b);
    }
    stamp_.assign(words_.size(), 0);
  }

  void run() {
    const auto t0 = std::chrono::steady_clock::now();
    count_pairs();
    const int32_t target =
        opt_.vocab_size - static_cast<int32_t>(opt_.special_tokens.size());  // BPE tokens
    BpeTrainStats& st = out_->stats;
    st.stop_reason = "reached the vocabulary size";
    while (static_cast<int32_t>(tokens_->size()) < target) {
      if (heap_.empty()) {
        // Pairs below the minimum never enter the heap; say which case this is.
        bool rare_left = false;
        for (size_t i = 0; i < pairs_.size() && !rare_left; ++i)
          rare_left = pairs_.stat(i).count > 0;
        st.stop_reason = rare_left ? "every remaining pair occurs fewer times than the minimum "
                                     "frequency " +
                                         std::to_string(opt_.min_frequency)
                                   : "no pair left to merge (every distinct piece is one token)";
        break;
      }
      std::pop_heap(heap_.begin(), heap_.end(), heap_less_);
      const Entry e = heap_.back();
      heap_.pop_back();
      const PairStat* ps = pairs_.find(pair_key(e.a, e.b));
      const int64_t cur = ps ? ps->count : 0;
      if (cur != e.count) {  // stale: the count fell since this entry was pushed
        if (cur > 0) push(cur, e.a, e.b);
        continue;
      }
      if (cur < opt_.min_frequency) {
        st.stop_reason = "the most frequent remaining pair occurs " + std::to_string(cur) +
                         " times, below the minimum frequency " +
                         std::to_string(opt_.min_frequency);
        break;
      }
      merge(e.a, e.b);
      st.last_merge_count = cur;
    }
    st.merges = out_->merges.size();
    st.merge_seconds = seconds_since(t0);
  }

 private:
  struct Word {
    uint64_t off;
    uint32_t len;
    int64_t freq;
  };
  struct Entry {
    int64_t count;
    int32_t a, b;
  };
  // Heap order: higher count first, then the smaller (left bytes, right bytes).
  struct HeapLess {
    const std::vector<std::string>* tok;
    bool operator()(const Entry& x, const Entry& y) const {
      if (x.count != y.count) return x.count < y.count;
      const int c = (*tok)[x.a].compare((*tok)[y.a]);
      if (c != 0) return c > 0;
      return (*tok)[x.b].compare((*tok)[y.b]) > 0;
    }
  };

  void push(int64_t count, int32_t a, int32_t b) {
    heap_.push_back({count, a, b});
    std::push_heap(heap_.begin(), heap_.end(), heap_less_);
  }

  void count_pairs() {
    for (uint32_t w = 0; w < words_.size(); ++w) {
      const Word& wd = words_[w];
      const int32_t* s = syms_.data() + wd.off;
      for (uint32_t i = 0; i + 1 < wd.len; ++i) {
        PairStat& ps = pairs_[pair_key(s[i], s[i + 1])];
        ps.count += wd.freq;
        if (ps.words.empty() || ps.words.back() != w) ps.words.push_back(w);
      }
    }
    // A pair's count only rises when it involves a token made by a merge (and
    // is pushed then), so pairs already below the minimum never qualify.
    heap_.reserve(pairs_.size());
    for (size_t i = 0; i < pairs_.size(); ++i) {
      const PairStat& ps = pairs_.stat(i);
      const uint64_t key = pairs_.key(i);
      if (ps.count >= opt_.min_frequency)
        heap_.push_back({ps.count, static_cast<int32_t>(key >> 32), static_cast<int32_t>(key)});
    }
    std::make_heap(heap_.begin(), heap_.end(), heap_less_);
  }

  void change(int32_t l, int32_t r, int64_t delta, uint32_t w) {
    PairStat& ps = pairs_[pair_key(l, r)];
    ps.count += delta;
    if (delta > 0) {  // only pairs with the new token grow
      if (ps.words.empty() || ps.words.back() != w) ps.words.push_back(w);
      touched_.push_back(pair_key(l, r));
    }
  }

  void merge(int32_t a, int32_t b) {
    std::vector<std::string>& tok = *tokens_;
    std::string joined = tok[a] + tok[b];
    int32_t x;
    if (auto it = token_id_.find(joined); it != token_id_.end()) {
      x = it->second;  // another pair already made these bytes (a+bc vs ab+c): reuse the token
    } else {
      x = static_cast<int32_t>(tok.size());
      tok.push_back(joined);
      token_id_.emplace(std::move(joined), x);
    }
    out_->merges.emplace_back(a, b);
    ++step_;

    const uint64_t key = pair_key(a, b);
    std::vector<uint32_t> ws = std::move(pairs_[key].words);
    touched_.clear();
    for (uint32_t w : ws) {
      if (stamp_[w] == step_) continue;  // listed twice
      stamp_[w] = step_;
      Word& wd = words_[w];
      int32_t* s = syms_.data() + wd.off;
      const uint32_t n = wd.len;
      const int64_t f = wd.freq;
      // Left to right without overlap, compacting in place (out <= r): the
      // left neighbour is what was already written (perhaps a new x), the
      // right one is still the original symbol, exactly as sequential merges.
      uint32_t out = 0;
      for (uint32_t r = 0; r < n;) {
        if (r + 1 < n && s[r] == a && s[r + 1] == b) {
          change(a, b, -f, w);
          if (out > 0) {
            change(s[out - 1], a, -f, w);
            change(s[out - 1], x, f, w);
          }
          if (r + 2 < n) {
            change(b, s[r + 2], -f, w);
            change(x, s[r + 2], f, w);
          }
          s[out++] = x;
          r += 2;
        } else {
          s[out++] = s[r++];
        }
      }
      wd.len = out;
    }
    const PairStat* merged = pairs_.find(key);
    SF_CHECK(merged != nullptr && merged->count == 0,
             "BPE trainer: a merged pair must have no occurrences left");
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (uint64_t k : touched_) {
      const PairStat* p = pairs_.find(k);
      if (p != nullptr && p->count >= opt_.min_frequency)
        push(p->count, static_cast<int32_t>(k >> 32), static_cast<int32_t>(k));
    }
  }

  const BpeTrainOptions& opt_;
  TrainedBpe* out_;
  std::vector<std::string>* tokens_ = nullptr;
  std::unordered_map<std::string, int32_t> token_id_;
  std::vector<Word> words_;
  std::vector<int32_t> syms_;
  std::vector<uint32_t> stamp_;
  uint32_t step_ = 0;
  PairTable pairs_;
  std::vector<Entry> heap_;
  HeapLess heap_less_{nullptr};
  std::vector<uint64_t> touched_;
};

// Fragments of a document are cut into chunks of about this size at safe
// points (text_safe_cut), so the code point buffer of the pre-tokenizer stays
// small whatever the document size.
constexpr size_t kChunk = size_t{1} << 20;

}  // namespace

struct BpeTrainer::Impl {
  BpeTrainOptions opt;
  BpeTrainStats stats;
  WordCounter words;
  PreTokenizer pretok;
  SpecialMatcher specials;
  std::vector<Fragment> frags;
  std::vector<Piece> pieces;
  std::string nbuf;
  bool full = false;  // max_bytes reached

  void add_fragment(std::string_view text) {
    while (!text.empty()) {
      const size_t cut = text_safe_cut(text, kChunk);
      std::string_view chunk = text.substr(0, cut);
      text.remove_prefix(cut);
      // What encode() does to a fragment before splitting it.
      if (normalize(NormalForm::kNFC, chunk, nbuf)) chunk = nbuf;
      pieces.clear();
      pretok.split(chunk, pieces);
      for (const auto& [b, e] : pieces) words.add(chunk.substr(b, e - b));
      stats.words += pieces.size();
    }
  }
};

Result<std::unique_ptr<BpeTrainer>> BpeTrainer::create(BpeTrainOptions opt) {
  const auto n_special = static_cast<int64_t>(opt.special_tokens.size());
  if (opt.vocab_size < 256 + n_special)
    return errorf(
        "vocabulary size %d is too small: a byte-level BPE needs 256 byte tokens + %lld special "
        "tokens = %lld at least (hint: 8000-32000 suits a small bilingual model)",
        opt.vocab_size, static_cast<long long>(n_special), static_cast<long long>(256 + n_special));
  if (opt.min_frequency < 1)
    return errorf("minimum pair frequency must be at least 1 (got %lld)",
                  static_cast<long long>(opt.min_frequency));
  for (size_t i = 0; i < opt.special_tokens.size(); ++i) {
    const std::string& s = opt.special_tokens[i];
    if (s.empty()) return Status::error("special token " + std::to_string(i) + " is empty");
    if (!utf8_is_valid(s))
      return Status::error("special token " + std::to_string(i) + " is not valid UTF-8");
    for (size_t j = 0; j < i; ++j)
      if (opt.special_tokens[j] == s)
        return Status::error("special token '" + s + "' is given twice");
  }
  auto impl = std::make_unique<Impl>();
  PreTokStep step;
  step.kind = PreTokStep::Kind::kSplit;
  step.pattern = kPatternQwen2;
  SF_RETURN_IF_ERROR(impl->pretok.build({step}));
  std::vector<AddedToken> added;
  for (size_t i = 0; i < opt.special_tokens.size(); ++i) {
    AddedToken a;
    a.id = static_cast<int32_t>(i);
    a.content = opt.special_tokens[i];
    added.push_back(a);
  }
  impl->specials.build(added);
  impl->opt = std::move(opt);
  return std::unique_ptr<BpeTrainer>(new BpeTrainer(std::move(impl)));
}

BpeTrainer::BpeTrainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BpeTrainer::~BpeTrainer() = default;

const BpeTrainStats& BpeTrainer::stats() const {
  return impl_->stats;
}

bool BpeTrainer::full() const {
  return impl_->full;
}

bool BpeTrainer::add_text(std::string_view doc) {
  Impl& m = *impl_;
  if (full()) return false;
  bool complete = true;
  if (m.opt.max_bytes > 0 && doc.size() > m.opt.max_bytes - m.stats.bytes) {
    size_t n = m.opt.max_bytes - m.stats.bytes;
    // Not inside a UTF-8 sequence: a cut character would be learned as junk bytes.
    while (n > 0 && (static_cast<uint8_t>(doc[n]) & 0xC0) == 0x80) --n;
    doc = doc.substr(0, n);
    complete = false;
  }
  m.full = !complete || (m.opt.max_bytes > 0 && m.stats.bytes + doc.size() >= m.opt.max_bytes);
  if (doc.empty()) return complete;
  const auto t0 = std::chrono::steady_clock::now();
  m.stats.bytes += doc.size();
  ++m.stats.docs;
  m.frags.clear();
  m.specials.split(doc, true, m.frags);
  for (const Fragment& f : m.frags)
    if (f.id < 0) m.add_fragment(doc.substr(f.begin, f.end - f.begin));
  m.stats.unique_words = m.words.size();
  m.stats.count_seconds += seconds_since(t0);
  return complete;
}

Result<TrainedBpe> BpeTrainer::train() {
  Impl& m = *impl_;
  if (m.words.size() == 0)
    return Status::error(
        "the corpus is empty: no text to learn from (hint: give .txt files, .jsonl files with "
        "\"text\" or \"messages\", or folders of them)");
  TrainedBpe out;
  out.stats = m.stats;
  {
    Merger merger(m.words, m.opt, &out);
    merger.run();
  }
  out.specials = m.opt.special_tokens;
  // A special token spelled like a learned token's byte-level text (e.g.
  // "Ġhi" for " hi") would be one string with two ids in tokenizer.json, and
  // `tokenizers` would give it the vocabulary's id: refuse it.
  {
    std::unordered_set<std::string_view> learned(out.token_bytes.begin(), out.token_bytes.end());
    std::string raw;
    for (const std::string& sp : out.specials) {
      raw.clear();
      if (byte_level_to_bytes(sp, raw) && learned.count(raw))
        return Status::error("special token '" + sp +
                             "' is spelled like the byte-level text of a learned token (hint: "
                             "choose a special token text such as <|name|>)");
    }
  }
  const auto n_bpe = static_cast<int32_t>(out.token_bytes.size());
  auto special_id = [&](const char* text) -> int32_t {
    for (size_t i = 0; i < out.specials.size(); ++i)
      if (out.specials[i] == text) return n_bpe + static_cast<int32_t>(i);
    return -1;
  };
  // Qwen's layout: <|endoftext|> ends documents and pads; <|im_end|> ends a
  // chat turn and so generation. Without them the first special serves.
  const int32_t first = out.specials.empty() ? -1 : n_bpe;
  const int32_t eot = special_id("<|endoftext|>");
  out.bos_id = out.pad_id = eot >= 0 ? eot : first;
  out.eos_id = special_id("<|im_end|>") >= 0 ? special_id("<|im_end|>") : out.bos_id;
  if (special_id("<|im_start|>") >= 0 && special_id("<|im_end|>") >= 0)
    out.chat_template = kChatMlTemplate;
  return out;
}

BpeTrainer::Compression BpeTrainer::measure(const Tokenizer& tok) const {
  Compression c;
  impl_->words.for_each([&](std::string_view w, int64_t n) {
    const auto ids = tok.encode(w, /*add_special=*/false, /*parse_special=*/false);
    const uint64_t bytes = w.size() * static_cast<uint64_t>(n);
    const uint64_t tokens = ids.size() * static_cast<uint64_t>(n);
    Compression::Part& p = [&]() -> Compression::Part& {
      switch (script_of(w)) {
        case Script::kCjk:
          return c.cjk;
        case Script::kLatin:
          return c.latin;
        default:
          return c.other;
      }
    }();
    p.bytes += bytes;
    p.tokens += tokens;
    c.all.bytes += bytes;
    c.all.tokens += tokens;
  });
  return c;
}

}  // namespace sf::tok
