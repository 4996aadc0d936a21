// Tokenizer from GGUF metadata (tokenizer.ggml.*), following llama.cpp's
// reading of the keys so ids match what llama.cpp produces for the same file.
#include <string>

#include "formats/gguf.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

namespace sf {

namespace {

using tok::TokenType;

// Token ids are stored as u32; 0xFFFFFFFF (and anything out of range) means none.
int32_t id_or(const gguf::GgufFile& f, const char* key, int32_t dflt) {
  const auto v = f.get_int(key);
  if (!v) return dflt;
  if (*v < 0 || *v >= 0x7FFFFFFF) return -1;
  return static_cast<int32_t>(*v);
}

Status read_strings(const gguf::GgufFile& f, const char* key, std::vector<std::string>* out,
                    bool required) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) {
    if (required) return errorf("%s: missing %s", f.path().c_str(), key);
    return Status();
  }
  const gguf::Array* a = v->as_array();
  if (a == nullptr || a->elem_type != gguf::ValueType::STRING)
    return errorf("%s: %s is not an array of strings", f.path().c_str(), key);
  out->reserve(a->items.size());
  for (const auto& item : a->items) {
    const std::string* s = item.as_string();
    if (s == nullptr) return errorf("%s: %s holds a non-string", f.path().c_str(), key);
    out->push_back(*s);
  }
  return Status();
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_gguf(const gguf::GgufFile& f) {
  const std::string ctx = f.path() + ": tokenizer";
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model) return Status::error(ctx + ": missing tokenizer.ggml.model (no vocabulary in file)");
  const std::string pre = f.get_string("tokenizer.ggml.pre").value_or("default");

  tok::TokenizerSpec spec;
  spec.name = *model + "/" + pre;
  SF_RETURN_IF_ERROR(read_strings(f, "tokenizer.ggml.tokens", &spec.tokens, true));
  const size_t n = spec.tokens.size();
  if (n == 0) return Status::error(ctx + ": tokenizer.ggml.tokens is empty");

  if (const gguf::Value* v = f.find("tokenizer.ggml.scores")) {
    const gguf::Array* a = v->as_array();
    if (a == nullptr || a->items.size() != n)
      return Status::error(ctx + ": tokenizer.ggml.scores must be an array of " +
                           std::to_string(n) + " numbers");
    spec.scores.reserve(n);
    for (const auto& item : a->items) {
      const auto x = item.as_float();
      if (!x) return Status::error(ctx + ": tokenizer.ggml.scores holds a non-number");
      spec.scores.push_back(static_cast<float>(*x));
    }
  }
  if (const gguf::Value* v = f.find("tokenizer.ggml.token_type")) {
    const gguf::Array* a = v->as_array();
    if (a == nullptr || a->items.size() != n)
      return Status::error(ctx + ": tokenizer.ggml.token_type must be an array of " +
                           std::to_string(n) + " integers");
    spec.types.reserve(n);
    for (const auto& item : a->items) {
      const auto x = item.as_int();
      spec.types.push_back(x && *x >= 0 && *x <= 6 ? static_cast<TokenType>(*x)
                                                   : TokenType::kUndefined);
    }
  }

  if (*model == "llama") {
    spec.model = tok::ModelType::kSpm;
    spec.unk_id = id_or(f, "tokenizer.ggml.unknown_token_id", 0);
    spec.bos_id = id_or(f, "tokenizer.ggml.bos_token_id", 1);
    spec.eos_id = id_or(f, "tokenizer.ggml.eos_token_id", 2);
    const bool space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
    spec.space_prefix = space_prefix ? tok::SpacePrefix::kAlways : tok::SpacePrefix::kNone;
    spec.escape_whitespace = true;
    spec.decode_spaces = true;
    spec.byte_fallback = true;
    spec.strip_prefix_space_on_decode = space_prefix;
    spec.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(true);
    spec.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  } else if (*model == "gpt2") {
    spec.model = tok::ModelType::kBpe;
    spec.byte_level = true;
    std::vector<std::string> merges;
    SF_RETURN_IF_ERROR(read_strings(f, "tokenizer.ggml.merges", &merges, true));
    spec.merges.reserve(merges.size());
    for (const std::string& m : merges) {
      // "a b": split at the first space after the first character (a never
      // contains a raw space in byte-level vocabularies).
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) continue;
      spec.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
    bool ignore_merges = false;
    auto st = tok::pretok_steps_for_gguf_pre(pre, &spec.pretok, &spec.normal_form, &ignore_merges);
    if (!st.ok()) return st.with_context(ctx);
    spec.ignore_merges = ignore_merges;
    spec.unk_id = id_or(f, "tokenizer.ggml.unknown_token_id", -1);
    spec.bos_id = id_or(f, "tokenizer.ggml.bos_token_id", -1);
    spec.eos_id = id_or(f, "tokenizer.ggml.eos_token_id", -1);
    // llama.cpp adds BOS by default for the Llama 3 family only.
    spec.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(ignore_merges);
    spec.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  } else if (*model == "bert") {
    spec.model = tok::ModelType::kWpm;
    spec.unk_id = id_or(f, "tokenizer.ggml.unknown_token_id", 100);
    const int32_t cls = id_or(f, "tokenizer.ggml.cls_token_id", 101);
    const int32_t sep = id_or(f, "tokenizer.ggml.seperator_token_id", 102);
    spec.bos_id = cls;
    spec.eos_id = sep;
    if (cls >= 0) spec.prefix_ids.push_back(cls);
    if (sep >= 0) spec.suffix_ids.push_back(sep);
    spec.decode_spaces = true;
    spec.strip_prefix_space_on_decode = true;
  } else {
    return Status::error(
        ctx + ": unsupported tokenizer.ggml.model '" + *model +
        "' (supported: llama (SentencePiece), gpt2 (byte-level BPE), bert (WordPiece))");
  }
  spec.eot_id = id_or(f, "tokenizer.ggml.eot_token_id", -1);
  spec.eom_id = id_or(f, "tokenizer.ggml.eom_token_id", -1);
  spec.pad_id = id_or(f, "tokenizer.ggml.padding_token_id", -1);
  if (spec.eot_id >= static_cast<int32_t>(n)) spec.eot_id = -1;

  // Known end-of-turn tokens are control tokens even when a converter forgot
  // to mark them (as llama.cpp does).
  if (!spec.types.empty()) {
    for (const char* t : {"<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                          "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"}) {
      for (size_t i = 0; i < n; ++i) {
        if (spec.tokens[i] == t && spec.types[i] != TokenType::kControl) {
          spec.types[i] = TokenType::kControl;
          break;
        }
      }
    }
  }

  // Control, user-defined and unknown tokens are matched in the text; only
  // user-defined ones when special tokens are not parsed.
  for (size_t i = 0; i < spec.types.size(); ++i) {
    const TokenType t = spec.types[i];
    if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
      tok::AddedToken a;
      a.id = static_cast<int32_t>(i);
      a.content = spec.tokens[i];
      a.special = t != TokenType::kUserDefined;
      spec.added.push_back(std::move(a));
    }
  }
  spec.chat_template = f.get_string("tokenizer.chat_template").value_or("");

  auto r = from_spec(std::move(spec));
  if (!r.ok()) return r.status().with_context(ctx);
  return r;
}

}  // namespace sf
