// Plain description of a tokenizer: the vocabulary and every switch that
// changes how text becomes ids. GGUF metadata and Hugging Face tokenizer.json
// are both translated into a TokenizerSpec (gguf_loader.cpp, hf_loader.cpp);
// Tokenizer::from_spec() builds the working tokenizer from it, so tests can
// make a vocabulary in memory without any file.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/unicode.h"

namespace sf::tok {

// GGUF tokenizer.ggml.token_type values (llama.cpp's numbering).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

enum class ModelType {
  kSpm,  // SentencePiece BPE: merge the adjacent pair whose result has the best score
  kBpe,  // merge-rank BPE (GPT-2 byte-level, or character-level with byte fallback)
  kWpm,  // WordPiece (BERT embedding models), as llama.cpp reads "bert" vocabularies
};

// One pre-tokenizer step. Steps run in order; each splits every piece the
// previous steps produced (a piece is never looked at across its edges).
struct PreTokStep {
  enum class Kind {
    kSplit,      // regex split (HF "Split", llama.cpp's regex lists)
    kDigits,     // HF "Digits": runs of \p{N} (or single digits) isolated
    kMetaspace,  // HF "Metaspace" with split: a piece starts at each '▁'
  };
  // How a regex split treats matches (HF SplitDelimiterBehavior).
  enum class Behavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };
  Kind kind = Kind::kSplit;
  std::string pattern;  // regex (kSplit)
  Behavior behavior = Behavior::kIsolated;
  bool invert = false;
  bool individual_digits = false;  // kDigits
};

// A token matched verbatim in the text before anything else (special and added
// tokens). `special` tokens are only matched when the caller parses specials.
struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = true;
  bool lstrip = false;       // swallow whitespace on the left
  bool rstrip = false;       // swallow whitespace on the right
  bool single_word = false;  // only when not inside a word
};

// Where a dummy-prefix space is added to a text fragment.
enum class SpacePrefix {
  kNone,
  kFirst,   // only at the very start of the input
  kAlways,  // every text fragment (start of input and after each added token)
};

struct TokenizerSpec {
  ModelType model = ModelType::kBpe;
  std::vector<std::string> tokens;                          // id -> raw vocab text
  std::vector<float> scores;                                // SPM merge scores (empty: all 0)
  std::vector<TokenType> types;                             // empty: all normal
  std::vector<std::pair<std::string, std::string>> merges;  // BPE, in rank order

  // Text transforms before pre-tokenization.
  NormalForm normal_form = NormalForm::kNone;
  bool lowercase = false;
  SpacePrefix space_prefix = SpacePrefix::kNone;
  bool space_prefix_if_absent = false;  // HF Metaspace: not when the text starts with a space
  bool escape_whitespace = false;       // ' ' -> U+2581 (SentencePiece, HF Metaspace/Replace)

  std::vector<PreTokStep> pretok;        // empty: the whole fragment is one piece
  bool byte_level = false;               // GPT-2 byte map (HF ByteLevel)
  bool byte_level_prefix_space = false;  // HF ByteLevel add_prefix_space

  // Model switches.
  bool byte_fallback = false;  // unknown bytes -> <0xXX> tokens
  bool ignore_merges = false;  // a piece that is a whole token is taken as is (Llama 3)
  bool fuse_unk = false;

  int32_t unk_id = -1, bos_id = -1, eos_id = -1, eot_id = -1, eom_id = -1, pad_id = -1;
  bool add_bos = false, add_eos = false;
  // Tokens a post-processor puts around the text (HF TemplateProcessing); when
  // set they replace add_bos/add_eos.
  std::vector<int32_t> prefix_ids, suffix_ids;
  // Tokens that end generation besides eos/eot/eom (e.g. <|im_end|>).
  std::vector<int32_t> eog_ids;

  std::vector<AddedToken> added;  // matched in the text before pre-tokenization

  // Decoding: U+2581 in pieces becomes a space (SentencePiece, HF Metaspace).
  bool decode_spaces = false;
  // Decoding: drop one leading space of the decoded text (the dummy prefix).
  bool strip_prefix_space_on_decode = false;

  std::string chat_template;
  std::string name;  // for messages: "llama", "gpt2/qwen2", "tokenizer.json" ...
};

}  // namespace sf::tok
