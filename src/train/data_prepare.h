// Text and chat data -> token shards (train/shard.h) + meta.json, the input of
// DataLoader (train/data.h). Behind `starfire data prepare`.
//
// Inputs are files or folders (walked recursively, files sorted by path):
//  * .txt / .md: a file is one document, unless it has separator lines: a line
//    that is exactly `<|endoftext|>` (surrounding whitespace ignored; the
//    GPT-2 / TinyStories convention) ends one document and starts the next.
//    Paragraph breaks do not split, since cutting a book into paragraphs would
//    put an EOS between every paragraph. A leading UTF-8 byte-order mark and
//    the line breaks around each document are dropped; blank documents are
//    skipped. A file named explicitly is read as text whatever its extension
//    (unless .jsonl); folders contribute only .txt, .md and .jsonl files.
//  * .jsonl: one document per line, kind detected per line:
//      {"text": "..."}                                  plain document
//      {"messages": [{"role": ..., "content": ...}, ...]} chat (SFT; wins
//                                                        over "text")
//    Messages are passed to the template as they are (tool_calls,
//    reasoning_content ... included); a conversation needs an assistant
//    message. Blank lines are ignored. Any other line (bad JSON, neither key, wrong
//    types, a chat template error) is skipped and counted; the first few are
//    listed with their line numbers. With `strict` the first one is an error.
//
// Tokens: a plain document is [BOS if the tokenizer adds one] + its text
// (special-token text such as "<|endoftext|>" stays plain text) + EOS, with no
// mask (every token is a target). A chat is rendered with the tokenizer's chat
// template (ChatML when it has none) and encoded with special tokens
// recognized, in message contents too, as apply_chat_template does; BOS is
// prepended when the tokenizer wants one and the template did not write it
// (as `starfire chat` does), EOS appended. Its mask is 1 exactly on the
// assistant replies: the text the model writes after the generation prompt
// (content and whatever the template puts there, e.g. Qwen3's
// <think></think>) through the end-of-turn token that closes it (<|im_end|>,
// <|eot_id|>, </s> ...), and 0 elsewhere (system, user, template text, the
// closing EOS).
//
// How replies are found: for assistant message k the template is rendered for
// messages[0..k) with add_generation_prompt (where the reply starts) and for
// messages[0..k] (where it ends: after the last end-of-generation token in
// the added text), and both must be prefixes of the whole conversation's
// render. If the template renders a prefix differently (Qwen3 drops the
// thinking of earlier turns), the reply ends at the first end-of-generation
// token after its start instead. The conversation is encoded whole (as HF's
// apply_chat_template(tokenize=True) does) and the text boundaries are mapped
// to token boundaries:
//  1. byte-level BPE: a token's piece is exactly its text, so running piece
//     lengths give offsets and a boundary is where they reach it;
//  2. otherwise (SentencePiece escapes spaces and adds a dummy prefix) the
//     text before each boundary is encoded and must be a token prefix of the
//     whole encoding;
//  3. if a token straddles a boundary (a reply starting with "\n\n" merges
//     with the template's "\n"), each segment is encoded on its own instead,
//     so the reply tokens are exactly what the model emits after the prompt;
//     these conversations are counted as `chat_segmented` in the report.
//
// Split: each document goes to val when a hash of (seed, document index) falls
// below val_fraction, so the split is stable across runs and thread counts and
// does not depend on the document's length or content. Output is identical for
// any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace sf::train {

struct PrepareOptions {
  std::vector<std::string> inputs;  // files or folders
  std::string tokenizer;            // GGUF (model or vocab-only), tokenizer.json, or its folder
  std::string out_dir;
  double val_fraction = 0.01;
  int64_t shard_tokens = 100'000'000;  // tokens per shard (the last one holds the rest)
  uint64_t seed = 1234;
  int64_t max_documents = 0;  // 0: all
  bool strict = false;        // a malformed JSONL line is an error instead of skipped
  bool overwrite = false;     // replace shards/meta.json already in out_dir
  int threads = 2;            // tokenization threads (output does not depend on it)
};

struct SkippedLine {
  std::string file;
  int64_t line = 0;
  std::string reason;
};

struct SplitStats {
  int64_t documents = 0;
  int64_t tokens = 0;
  int64_t loss_tokens = 0;  // mask 1: tokens the loss counts
  std::vector<std::string> shards;
};

struct SourceStats {
  std::string path;
  std::string kind;  // "text" or "jsonl"
  int64_t bytes = 0;
  int64_t documents = 0;
  int64_t chat_documents = 0;
  int64_t tokens = 0;
  int64_t skipped_lines = 0;
};

struct PrepareReport {
  SplitStats train, val;
  std::vector<SourceStats> sources;
  int64_t text_documents = 0, chat_documents = 0;
  int64_t chat_segmented = 0;  // chats whose boundaries needed per-segment encoding
  int64_t skipped_lines = 0;
  std::vector<SkippedLine> first_skipped;  // up to 10
  int64_t input_bytes = 0;
  double load_seconds = 0;             // loading the tokenizer
  double seconds = 0;                  // reading, tokenizing and writing (the MB/s basis)
  std::string tokenizer_kind;          // "gguf" or "hf"
  bool default_chat_template = false;  // ChatML used: the tokenizer has no template
  nlohmann::ordered_json meta;         // what was written to meta.json
};

// Runs the whole preparation; writes `<out_dir>/{train,val}-NNNNN.bin` and
// meta.json. Errors: unreadable inputs, no documents, an unusable tokenizer,
// out_dir already holding prepared data (unless overwrite), a malformed line
// with strict.
Result<PrepareReport> prepare_data(const PrepareOptions& opts);

// Loads a tokenizer from a GGUF file, a tokenizer.json (tokenizer_config.json
// beside it is used when present) or a folder holding either. `kind` gets
// "gguf" or "hf".
Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const std::string& path,
                                                        std::string* kind = nullptr);

// One tokenized document.
struct TokenizedDoc {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;  // empty: all 1
  bool chat = false;
  bool segmented = false;  // chat boundaries needed per-segment encoding (see above)
};

// The tokenizer plus what document encoding needs from it, built once.
class DocumentEncoder {
 public:
  static Result<DocumentEncoder> create(std::shared_ptr<const Tokenizer> tok);
  // Plain text: [BOS] text EOS, no mask.
  TokenizedDoc encode_text(std::string_view text) const;
  // `messages`: a JSON array of {"role", "content"} objects. Errors name what
  // is wrong with the conversation or the template's complaint.
  Result<TokenizedDoc> encode_chat(const nlohmann::ordered_json& messages) const;
  bool default_template() const { return default_template_; }
  const Tokenizer& tokenizer() const { return *tok_; }

 private:
  struct State;
  std::shared_ptr<const Tokenizer> tok_;
  std::shared_ptr<const State> state_;
  bool default_template_ = false;
};

}  // namespace sf::train
