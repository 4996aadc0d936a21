// Learns a byte-level BPE vocabulary from text (what `starfire tokenizer
// train` runs), so a model trained from scratch gets a tokenizer fitted to its
// corpus, Chinese included.
//
// The tokenizer it learns is a Qwen2-style one, so Tokenizer::from_hf and
// Tokenizer::from_gguf read it back with the code paths already tested against
// the references:
//  - NFC normalization, then the Qwen2 split regex (tok::kPatternQwen2): runs
//    of letters (a run of Han characters is one piece until punctuation or a
//    space), every digit on its own, punctuation runs, whitespace runs. Single
//    digits rather than Llama 3's 1-3 digit groups: a number always splits the
//    same way whatever its length, so place value lines up for arithmetic
//    (the reason Qwen, DeepSeek and LLaMA-1 split digits), at a small cost in
//    compression on number-heavy text.
//  - The GPT-2 byte map; the 256 byte tokens are ids 0..255 (id == byte value),
//    so any input, invalid UTF-8 included, is encodable.
//  - Learned tokens follow in merge order; the special tokens come last
//    (ids n_vocab - n_specials ...), as in Qwen's vocabulary.
//
// Training: pre-token words are counted in a hash map; the merge loop keeps
// pair counts incrementally (pair -> count and pair -> words holding it), with
// a max-heap of candidate pairs invalidated lazily. Each step merges the pair
// with the highest count, ties broken by the lexicographically smallest
// (left bytes, right bytes), so the result depends only on the text and the
// options: not on hash order, input order within the counts, or the machine.
// Merges inside a word go left to right without overlap (as HF `tokenizers`).
//
// Thread-safety: a BpeTrainer is used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sf {

class Tokenizer;

namespace tok {

// "<|endoftext|>", "<|im_start|>", "<|im_end|>": document end and ChatML turns.
std::vector<std::string> default_special_tokens();

struct BpeTrainOptions {
  // Total vocabulary: 256 byte tokens + learned tokens + special tokens.
  int32_t vocab_size = 8000;
  // A pair seen fewer times than this (summed over the corpus) is never merged,
  // so rare noise does not take vocabulary slots; training may then stop short
  // of vocab_size (BpeTrainStats::stop_reason says so).
  int64_t min_frequency = 2;
  std::vector<std::string> special_tokens = default_special_tokens();
  // Stop taking text after this many bytes (0: no limit).
  uint64_t max_bytes = 0;
};

struct BpeTrainStats {
  uint64_t bytes = 0;         // text bytes taken (after max_bytes)
  uint64_t docs = 0;          // add_text calls that contributed text
  uint64_t words = 0;         // pre-token pieces counted
  uint64_t unique_words = 0;  // distinct pieces
  uint64_t merges = 0;
  int64_t last_merge_count = 0;  // frequency of the last pair merged
  double count_seconds = 0;      // pre-tokenizing and counting (add_text)
  double merge_seconds = 0;      // the merge loop
  std::string stop_reason;       // why training stopped
};

// The learned vocabulary, before it is written anywhere.
struct TrainedBpe {
  std::vector<std::string> token_bytes;  // id -> raw bytes (0..255 single bytes, then merges)
  std::vector<std::pair<int32_t, int32_t>> merges;  // in rank order: (left id, right id)
  std::vector<std::string> specials;                // id token_bytes.size() + i
  int32_t bos_id = -1, eos_id = -1, pad_id = -1;
  std::string chat_template;  // ChatML when <|im_start|> and <|im_end|> are specials
  BpeTrainStats stats;

  int32_t n_vocab() const { return static_cast<int32_t>(token_bytes.size() + specials.size()); }
};

class BpeTrainer {
 public:
  // Checks the options (vocab_size large enough for the bytes and specials,
  // specials non-empty valid UTF-8 and distinct).
  static Result<std::unique_ptr<BpeTrainer>> create(BpeTrainOptions options);
  ~BpeTrainer();
  BpeTrainer(const BpeTrainer&) = delete;
  BpeTrainer& operator=(const BpeTrainer&) = delete;

  // Counts the pre-token words of one document (any bytes; special-token text
  // in it is cut out and not learned, as encode() matches it first). Returns
  // false once max_bytes is reached (the rest of `doc` was not taken).
  bool add_text(std::string_view doc);
  bool full() const;
  const BpeTrainStats& stats() const;

  // Runs the merge loop over everything added. Errors if nothing was added.
  // May be called again (after more text) and starts from the counts each time.
  Result<TrainedBpe> train();

  // Bytes per token of the counted text under `tok` (the trained tokenizer),
  // overall and by script: pieces with Han/kana/Hangul letters and no Latin
  // ones count as CJK, pieces with Latin letters and no CJK ones as Latin,
  // everything else (digits, punctuation, spaces, mixed) as other.
  struct Compression {
    struct Part {
      uint64_t bytes = 0, tokens = 0;
      double bytes_per_token() const { return tokens ? double(bytes) / double(tokens) : 0.0; }
    };
    Part all, cjk, latin, other;
  };
  Compression measure(const Tokenizer& tok) const;

  struct Impl;

 private:
  explicit BpeTrainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The files Starfire and Hugging Face `tokenizers` read:
//  - tokenizer.json: model BPE (vocab, merges "a b"), NFC normalizer,
//    pre_tokenizer Sequence[Split(Qwen2 regex, Isolated), ByteLevel(no regex)],
//    ByteLevel decoder and post-processor, added_tokens for the specials.
//  - tokenizer_config.json: bos/eos/pad, add_bos_token false, the chat template.
//  - a vocab-only GGUF: tokenizer.ggml.model "gpt2", pre "qwen2", tokens,
//    token_type, merges, bos/eos/padding ids, chat template.
// All three are deterministic (no dates, ordered keys): the same TrainedBpe
// gives the same bytes.
std::string trained_bpe_tokenizer_json(const TrainedBpe& t);
std::string trained_bpe_config_json(const TrainedBpe& t);
std::string trained_bpe_gguf(const TrainedBpe& t);
// Writes dir/tokenizer.json, dir/tokenizer_config.json, dir/tokenizer.gguf
// (creating dir). Errors name the file.
Status write_trained_bpe(const TrainedBpe& t, const std::string& dir);

// The ChatML template written to tokenizer_config.json and the GGUF.
extern const char* const kChatMlTemplate;

}  // namespace tok
}  // namespace sf
