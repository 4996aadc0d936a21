// Writers for a TrainedBpe (bpe_trainer.h): tokenizer.json and
// tokenizer_config.json in Hugging Face's format (laid out as Qwen2's files,
// which both `tokenizers` and our hf_loader read), and a vocab-only GGUF with
// the keys llama.cpp and our gguf_loader read.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/byte_map.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/vocab.h"

namespace sf::tok {

// ChatML, as Qwen2.5 renders a conversation without tools.
const char* const kChatMlTemplate =
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

namespace {

using ojson = nlohmann::ordered_json;

// Vocabulary strings: the GPT-2 byte map of each token's bytes.
std::vector<std::string> vocab_strings(const TrainedBpe& t) {
  std::vector<std::string> v(t.token_bytes.size());
  for (size_t i = 0; i < v.size(); ++i) bytes_to_byte_level(t.token_bytes[i], v[i]);
  return v;
}

std::vector<std::string> merge_strings(const TrainedBpe& t, const std::vector<std::string>& v) {
  std::vector<std::string> m;
  m.reserve(t.merges.size());
  // A byte-level string never holds a raw space (it maps to 'Ġ'), so "a b" is unambiguous.
  for (const auto& [a, b] : t.merges) m.push_back(v[a] + " " + v[b]);
  return m;
}

int32_t special_base(const TrainedBpe& t) {
  return static_cast<int32_t>(t.token_bytes.size());
}

ojson byte_level_component() {
  return ojson{{"type", "ByteLevel"},
               {"add_prefix_space", false},
               {"trim_offsets", false},
               {"use_regex", false}};
}

ojson token_or_null(const TrainedBpe& t, int32_t id) {
  if (id < 0) return nullptr;
  return t.specials[static_cast<size_t>(id - special_base(t))];
}

}  // namespace

std::string trained_bpe_tokenizer_json(const TrainedBpe& t) {
  const std::vector<std::string> v = vocab_strings(t);
  ojson added = ojson::array();
  for (size_t i = 0; i < t.specials.size(); ++i) {
    added.push_back({{"id", special_base(t) + static_cast<int32_t>(i)},
                     {"content", t.specials[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  ojson vocab = ojson::object();
  for (size_t i = 0; i < v.size(); ++i) vocab[v[i]] = static_cast<int32_t>(i);
  ojson j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = std::move(added);
  j["normalizer"] = {{"type", "NFC"}};
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers", ojson::array({ojson{{"type", "Split"},
                                            {"pattern", {{"Regex", kPatternQwen2}}},
                                            {"behavior", "Isolated"},
                                            {"invert", false}},
                                      byte_level_component()})}};
  j["post_processor"] = byte_level_component();
  j["decoder"] = byte_level_component();
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", std::move(vocab)},
                {"merges", merge_strings(t, v)}};
  return j.dump(2) + "\n";
}

std::string trained_bpe_config_json(const TrainedBpe& t) {
  ojson decoder = ojson::object();
  ojson additional = ojson::array();
  for (size_t i = 0; i < t.specials.size(); ++i) {
    const int32_t id = special_base(t) + static_cast<int32_t>(i);
    decoder[std::to_string(id)] = {{"content", t.specials[i]}, {"lstrip", false},
                                   {"normalized", false},      {"rstrip", false},
                                   {"single_word", false},     {"special", true}};
    if (id != t.bos_id && id != t.eos_id && id != t.pad_id) additional.push_back(t.specials[i]);
  }
  ojson j;
  j["add_bos_token"] = false;
  j["add_eos_token"] = false;
  j["add_prefix_space"] = false;
  j["added_tokens_decoder"] = std::move(decoder);
  j["additional_special_tokens"] = std::move(additional);
  j["bos_token"] = token_or_null(t, t.bos_id);
  if (!t.chat_template.empty()) j["chat_template"] = t.chat_template;
  j["clean_up_tokenization_spaces"] = false;
  j["eos_token"] = token_or_null(t, t.eos_id);
  j["errors"] = "replace";
  j["pad_token"] = token_or_null(t, t.pad_id);
  j["split_special_tokens"] = false;
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  j["unk_token"] = nullptr;
  return j.dump(2) + "\n";
}

std::string trained_bpe_gguf(const TrainedBpe& t) {
  std::vector<std::string> tokens = vocab_strings(t);
  const std::vector<std::string> merges = merge_strings(t, tokens);
  std::vector<int32_t> types(tokens.size(), static_cast<int32_t>(TokenType::kNormal));
  for (const std::string& s : t.specials) {
    tokens.push_back(s);
    types.push_back(static_cast<int32_t>(TokenType::kControl));
  }
  gguf::GgufWriter w;
  w.set("general.name", gguf::Value::str("starfire byte-level BPE"));
  w.set("tokenizer.ggml.model", gguf::Value::str("gpt2"));
  // "qwen2": the Qwen2 split regex with NFC, the pre-tokenizer trained with.
  w.set("tokenizer.ggml.pre", gguf::Value::str("qwen2"));
  w.set("tokenizer.ggml.tokens", gguf::Value::str_array(tokens));
  w.set("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
  w.set("tokenizer.ggml.merges", gguf::Value::str_array(merges));
  auto set_id = [&](const char* key, int32_t id) {
    if (id >= 0) w.set(key, gguf::Value::u32(static_cast<uint32_t>(id)));
  };
  set_id("tokenizer.ggml.bos_token_id", t.bos_id);
  set_id("tokenizer.ggml.eos_token_id", t.eos_id);
  set_id("tokenizer.ggml.padding_token_id", t.pad_id);
  w.set("tokenizer.ggml.add_bos_token", gguf::Value::boolean(false));
  w.set("tokenizer.ggml.add_eos_token", gguf::Value::boolean(false));
  if (!t.chat_template.empty()) w.set("tokenizer.chat_template", gguf::Value::str(t.chat_template));
  return w.to_bytes();
}

Status write_trained_bpe(const TrainedBpe& t, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return errorf("%s: cannot create the output folder: %s", dir.c_str(), ec.message().c_str());
  const std::pair<const char*, std::string> files[] = {
      {"tokenizer.json", trained_bpe_tokenizer_json(t)},
      {"tokenizer_config.json", trained_bpe_config_json(t)},
      {"tokenizer.gguf", trained_bpe_gguf(t)},
  };
  for (const auto& [name, bytes] : files) {
    const fs::path p = fs::path(dir) / name, tmp = fs::path(dir) / (std::string(name) + ".tmp");
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!f) return errorf("%s: cannot write", tmp.string().c_str());
    }
    fs::rename(tmp, p, ec);  // a reader never sees half a file
    if (ec) return errorf("%s: cannot write: %s", p.string().c_str(), ec.message().c_str());
  }
  return Status();
}

}  // namespace sf::tok
