// Text <-> token ids for the models people download: SentencePiece-style
// (Llama 2, Phi-3, stories260K) and byte-level BPE (Qwen, Llama 3, GPT-2,
// DeepSeek, StarCoder, Falcon ...), loaded from GGUF metadata or from a
// Hugging Face tokenizer.json (+ tokenizer_config.json).
//
// Contract:
//  - encode() gives the ids the model's own tokenizer gives (llama.cpp for GGUF
//    files, the `tokenizers` library for tokenizer.json). Special/added tokens
//    written in the text are recognized unless parse_special is false (use
//    false for untrusted input: "<|im_end|>" typed by a user is then plain text).
//  - Any byte string is accepted; invalid UTF-8 is tokenized byte by byte
//    (byte-level BPE keeps every byte, SPM falls back to <0xXX> tokens).
//  - decode() returns the exact bytes the ids stand for (possibly invalid UTF-8
//    for a partial sequence); StreamDecoder returns only valid UTF-8.
// Thread-safety: a Tokenizer is immutable after construction; share it freely.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/vocab.h"

namespace sf {

namespace gguf {
class GgufFile;
}

class Tokenizer {
 public:
  // From GGUF metadata (tokenizer.ggml.*). Errors name the file and the key.
  static Result<std::shared_ptr<const Tokenizer>> from_gguf(const gguf::GgufFile& file);
  // From a Hugging Face tokenizer.json; tokenizer_config.json (may be empty)
  // supplies bos/eos, add_bos_token/add_eos_token and the chat template.
  static Result<std::shared_ptr<const Tokenizer>> from_hf(
      const std::string& tokenizer_json_path, const std::string& tokenizer_config_json_path);
  // Same, from JSON text already in memory (tests, fuzzing).
  static Result<std::shared_ptr<const Tokenizer>> from_hf_json(std::string_view tokenizer_json,
                                                               std::string_view config_json = {});
  // From a plain description (tests build vocabularies in memory this way).
  static Result<std::shared_ptr<const Tokenizer>> from_spec(tok::TokenizerSpec spec);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: add BOS/EOS as the tokenizer's metadata/post-processor says.
  // parse_special: recognize special tokens in the text (false for untrusted
  // input; non-special added tokens are still recognized, as in the references).
  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special = true) const;

  // The bytes this token stands for: SPM '▁' -> ' ', <0xXX> -> that byte;
  // byte-level BPE: the GPT-2 byte map undone; special tokens: their text.
  // Out-of-range ids give "".
  std::string token_to_piece(int32_t id) const;
  // Concatenated pieces; skip_special drops control tokens (BOS, EOS, <|im_end|> ...).
  // For SentencePiece-style vocabularies the dummy-prefix space of the first
  // piece is removed, as SentencePiece does.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  int32_t n_vocab() const;
  int32_t bos_id() const;         // -1 if none
  int32_t eos_id() const;         // -1 if none
  int32_t eot_id() const;         // -1 if none
  int32_t unk_id() const;         // -1 if none
  bool is_eog(int32_t id) const;  // end of generation: eos, eot, <|im_end|>, <|eot_id|> ...
  bool add_bos() const;
  bool add_eos() const;
  // True for control tokens (BOS, EOS, <|im_start|> ...), which decode(skip_special) drops.
  bool is_control(int32_t id) const;
  tok::TokenType token_type(int32_t id) const;
  const std::string& token_text(int32_t id) const;  // raw vocab string ("" if out of range)
  std::optional<int32_t> find_token(std::string_view text) const;
  // tokenizer.chat_template / tokenizer_config's chat_template ("" if none).
  std::string chat_template() const;
  // SPM-style: pieces carry a dummy-prefix space the decoder strips after BOS.
  bool strips_prefix_space() const;
  tok::ModelType model_type() const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Streams decoded text token by token. Holds back an incomplete UTF-8 tail
// until it completes, so every returned string is valid UTF-8 (bytes that can
// never form a character come out as U+FFFD). Follows llama2.c's convention
// for SentencePiece vocabularies: a piece directly following BOS loses its
// leading space. Control tokens produce no text unless `print_special`.
// Not thread-safe (one decoder per stream); the Tokenizer must outlive it.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool print_special = false);
  // Tells the decoder which token came before the first one pushed (e.g. the
  // prompt's last token) without producing text for it.
  void set_prev(int32_t id) { prev_ = id; }
  int32_t prev() const { return prev_; }
  // Returns the text completed by this token (possibly empty).
  std::string push(int32_t id);
  // Returns what is still held back (an incomplete sequence becomes U+FFFD).
  std::string flush();
  void reset();

 private:
  const Tokenizer& tok_;
  bool print_special_;
  int32_t prev_ = -1;
  std::string pending_;
};

// Validates UTF-8 in `buf`: returns the valid text of its longest prefix that
// does not end inside a sequence (invalid bytes replaced by U+FFFD), and leaves
// in `buf` only an incomplete but still possible tail. Used by StreamDecoder.
std::string take_complete_utf8(std::string& buf);

}  // namespace sf
