// Tokenizer from a Hugging Face tokenizer.json (+ tokenizer_config.json).
//
// Supported: model BPE (byte-level or with byte fallback); normalizers NFC,
// NFKC, NFD, NFKD, Lowercase, Prepend("▁"), Replace(" " -> "▁"), Sequence;
// pre-tokenizers Split, ByteLevel, Metaspace, Digits, Whitespace,
// WhitespaceSplit, Punctuation, Sequence; post-processors TemplateProcessing,
// ByteLevel, RobertaProcessing, BertProcessing, Sequence; decoders ByteLevel,
// Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence. Anything else is an
// error naming the component (a silently different tokenizer gives wrong ids).
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

namespace sf {

namespace {

using nlohmann::json;
using tok::PreTokStep;
using tok::TokenizerSpec;
using tok::TokenType;

const std::string kMeta = "\xE2\x96\x81";  // U+2581

std::string escape_regex(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}-").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

const json* get(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

bool get_bool(const json& j, const char* key, bool dflt) {
  const json* v = get(j, key);
  return v && v->is_boolean() ? v->get<bool>() : dflt;
}

std::string get_str(const json& j, const char* key) {
  const json* v = get(j, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// A token field of tokenizer_config.json: "text" or {"content": "text", ...}.
std::string token_field(const json& cfg, const char* key) {
  const json* v = get(cfg, key);
  if (v == nullptr) return {};
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object()) return get_str(*v, "content");
  return {};
}

struct Loader {
  TokenizerSpec spec;
  std::map<std::string, int32_t> added_by_text;  // added tokens
  bool saw_byte_level = false;

  int32_t id_of(const std::string& text) const {
    auto a = added_by_text.find(text);
    if (a != added_by_text.end()) return a->second;
    for (size_t i = 0; i < spec.tokens.size(); ++i)
      if (spec.tokens[i] == text) return static_cast<int32_t>(i);
    return -1;
  }

  Status normalizer(const json& n) {
    const std::string type = get_str(n, "type");
    if (type == "Sequence") {
      const json* list = get(n, "normalizers");
      if (list && list->is_array())
        for (const json& k : *list) SF_RETURN_IF_ERROR(normalizer(k));
      return Status();
    }
    if (type == "NFC") {
      spec.normal_form = tok::NormalForm::kNFC;
    } else if (type == "NFKC") {
      spec.normal_form = tok::NormalForm::kNFKC;
    } else if (type == "NFD") {
      spec.normal_form = tok::NormalForm::kNFD;
    } else if (type == "NFKD") {
      spec.normal_form = tok::NormalForm::kNFKD;
    } else if (type == "Lowercase") {
      spec.lowercase = true;
    } else if (type == "Prepend") {
      const std::string p = get_str(n, "prepend");
      if (p != kMeta && p != " ") return Status::error("normalizer Prepend('" + p + "')");
      spec.space_prefix = tok::SpacePrefix::kAlways;
    } else if (type == "Replace") {
      const json* pat = get(n, "pattern");
      const std::string from = pat ? get_str(*pat, "String") : std::string();
      const std::string to = get_str(n, "content");
      if (from != " " || to != kMeta)
        return Status::error("normalizer Replace other than ' ' -> '\\u2581'");
      spec.escape_whitespace = true;
    } else {
      return Status::error("unsupported normalizer '" + type + "'");
    }
    return Status();
  }

  Status pre_tokenizer(const json& n) {
    const std::string type = get_str(n, "type");
    if (type == "Sequence") {
      const json* list = get(n, "pretokenizers");
      if (list && list->is_array())
        for (const json& k : *list) SF_RETURN_IF_ERROR(pre_tokenizer(k));
      return Status();
    }
    PreTokStep step;
    if (type == "Split") {
      const json* pat = get(n, "pattern");
      if (pat == nullptr) return Status::error("Split without a pattern");
      if (const json* r = get(*pat, "Regex"); r && r->is_string()) {
        step.pattern = r->get<std::string>();
      } else if (const json* s = get(*pat, "String"); s && s->is_string()) {
        step.pattern = escape_regex(s->get<std::string>());
      } else {
        return Status::error("Split pattern is neither Regex nor String");
      }
      const std::string b = get_str(n, "behavior");
      using B = PreTokStep::Behavior;
      if (b == "Isolated") {
        step.behavior = B::kIsolated;
      } else if (b == "Removed") {
        step.behavior = B::kRemoved;
      } else if (b == "MergedWithPrevious") {
        step.behavior = B::kMergedWithPrevious;
      } else if (b == "MergedWithNext") {
        step.behavior = B::kMergedWithNext;
      } else if (b == "Contiguous") {
        step.behavior = B::kContiguous;
      } else {
        return Status::error("Split behavior '" + b + "'");
      }
      step.invert = get_bool(n, "invert", false);
      spec.pretok.push_back(step);
    } else if (type == "ByteLevel") {
      saw_byte_level = true;
      spec.byte_level = true;
      if (get_bool(n, "add_prefix_space", false)) spec.byte_level_prefix_space = true;
      if (get_bool(n, "use_regex", true)) {
        step.pattern = tok::kPatternGpt2;
        spec.pretok.push_back(step);
      }
    } else if (type == "Metaspace") {
      const std::string rep = get_str(n, "replacement");
      if (!rep.empty() && rep != kMeta) return Status::error("Metaspace replacement '" + rep + "'");
      spec.escape_whitespace = true;
      std::string scheme = get_str(n, "prepend_scheme");
      if (scheme.empty()) scheme = get_bool(n, "add_prefix_space", true) ? "always" : "never";
      if (scheme == "always") {
        spec.space_prefix = tok::SpacePrefix::kAlways;
      } else if (scheme == "first") {
        spec.space_prefix = tok::SpacePrefix::kFirst;
      } else {
        spec.space_prefix = tok::SpacePrefix::kNone;
      }
      spec.space_prefix_if_absent = true;
      if (get_bool(n, "split", true)) {
        step.kind = PreTokStep::Kind::kMetaspace;
        spec.pretok.push_back(step);
      }
    } else if (type == "Digits") {
      step.kind = PreTokStep::Kind::kDigits;
      step.individual_digits = get_bool(n, "individual_digits", false);
      spec.pretok.push_back(step);
    } else if (type == "Whitespace") {
      step.pattern = R"(\w+|[^\w\s]+)";
      step.behavior = PreTokStep::Behavior::kRemoved;
      step.invert = true;
      spec.pretok.push_back(step);
    } else if (type == "WhitespaceSplit") {
      step.pattern = R"(\s+)";
      step.behavior = PreTokStep::Behavior::kRemoved;
      spec.pretok.push_back(step);
    } else if (type == "Punctuation") {
      step.pattern = R"([\p{P}!-/:-@\[-`{-~])";
      const std::string b = get_str(n, "behavior");
      step.behavior = b == "Removed"              ? PreTokStep::Behavior::kRemoved
                      : b == "MergedWithPrevious" ? PreTokStep::Behavior::kMergedWithPrevious
                      : b == "MergedWithNext"     ? PreTokStep::Behavior::kMergedWithNext
                      : b == "Contiguous"         ? PreTokStep::Behavior::kContiguous
                                                  : PreTokStep::Behavior::kIsolated;
      spec.pretok.push_back(step);
    } else {
      return Status::error("unsupported pre_tokenizer '" + type + "'");
    }
    return Status();
  }

  Status post_processor(const json& n) {
    const std::string type = get_str(n, "type");
    if (type == "Sequence") {
      const json* list = get(n, "processors");
      if (list && list->is_array())
        for (const json& k : *list) SF_RETURN_IF_ERROR(post_processor(k));
      return Status();
    }
    if (type == "ByteLevel") return Status();
    if (type == "TemplateProcessing") {
      const json* single = get(n, "single");
      if (single == nullptr || !single->is_array())
        return Status::error("TemplateProcessing without 'single'");
      const json* specials = get(n, "special_tokens");
      bool after = false;
      for (const json& piece : *single) {
        if (get(piece, "Sequence")) {
          after = true;
          continue;
        }
        const json* st = get(piece, "SpecialToken");
        if (st == nullptr) return Status::error("TemplateProcessing piece of unknown kind");
        const std::string name = get_str(*st, "id");
        std::vector<int32_t> ids;
        if (specials) {
          if (const json* def = get(*specials, name.c_str())) {
            if (const json* arr = get(*def, "ids"); arr && arr->is_array())
              for (const json& x : *arr) ids.push_back(x.get<int32_t>());
          }
        }
        if (ids.empty()) {
          const int32_t id = id_of(name);
          if (id < 0) return Status::error("TemplateProcessing token '" + name + "' not in vocab");
          ids.push_back(id);
        }
        auto& dst = after ? spec.suffix_ids : spec.prefix_ids;
        dst.insert(dst.end(), ids.begin(), ids.end());
      }
      return Status();
    }
    if (type == "RobertaProcessing" || type == "BertProcessing") {
      for (const char* key : {"cls", "sep"}) {
        const json* v = get(n, key);
        if (v && v->is_array() && v->size() == 2) {
          const int32_t id = (*v)[1].get<int32_t>();
          (std::string(key) == "cls" ? spec.prefix_ids : spec.suffix_ids).push_back(id);
        }
      }
      return Status();
    }
    return Status::error("unsupported post_processor '" + type + "'");
  }

  Status decoder(const json& n) {
    const std::string type = get_str(n, "type");
    if (type == "Sequence") {
      const json* list = get(n, "decoders");
      if (list && list->is_array())
        for (const json& k : *list) SF_RETURN_IF_ERROR(decoder(k));
      return Status();
    }
    if (type == "ByteLevel") {
      spec.byte_level = true;
    } else if (type == "Metaspace") {
      spec.decode_spaces = true;
      const std::string scheme = get_str(n, "prepend_scheme");
      if (scheme != "never" && get_bool(n, "add_prefix_space", true))
        spec.strip_prefix_space_on_decode = true;
    } else if (type == "Replace") {
      const json* pat = get(n, "pattern");
      const std::string from = pat ? get_str(*pat, "String") : std::string();
      if (from == kMeta && get_str(n, "content") == " ") spec.decode_spaces = true;
    } else if (type == "Strip") {
      if (get_str(n, "content") == " " && n.value("start", 0) >= 1)
        spec.strip_prefix_space_on_decode = true;
    } else if (type == "ByteFallback" || type == "Fuse") {
      // byte tokens decode to their byte; pieces are concatenated anyway
    } else {
      return Status::error("unsupported decoder '" + type + "'");
    }
    return Status();
  }

  Status load(const json& j, const json& cfg) {
    const json* model = get(j, "model");
    if (model == nullptr) return Status::error("no 'model'");
    std::string mtype = get_str(*model, "type");
    if (mtype.empty() && get(*model, "merges")) mtype = "BPE";
    if (mtype != "BPE")
      return Status::error("unsupported model type '" + mtype + "' (supported: BPE)");
    spec.model = tok::ModelType::kBpe;
    if (!get_str(*model, "continuing_subword_prefix").empty() ||
        !get_str(*model, "end_of_word_suffix").empty())
      return Status::error("BPE continuing_subword_prefix/end_of_word_suffix are not supported");
    spec.byte_fallback = get_bool(*model, "byte_fallback", false);
    spec.ignore_merges = get_bool(*model, "ignore_merges", false);
    spec.fuse_unk = get_bool(*model, "fuse_unk", false);

    const json* vocab = get(*model, "vocab");
    if (vocab == nullptr || !vocab->is_object())
      return Status::error("model.vocab is not an object");
    int64_t max_id = -1;
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      if (!it->is_number_integer()) return Status::error("vocab id of '" + it.key() + "'");
      max_id = std::max<int64_t>(max_id, it->get<int64_t>());
    }
    const json* added = get(j, "added_tokens");
    if (added && added->is_array())
      for (const json& a : *added) max_id = std::max<int64_t>(max_id, a.value("id", int64_t{-1}));
    if (max_id < 0 || max_id > 50'000'000) return Status::error("bad vocabulary size");
    spec.tokens.assign(static_cast<size_t>(max_id + 1), std::string());
    spec.types.assign(static_cast<size_t>(max_id + 1), TokenType::kUnused);
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      const int64_t id = it->get<int64_t>();
      if (id < 0) return Status::error("negative vocab id");
      spec.tokens[id] = it.key();
      spec.types[id] = TokenType::kNormal;
    }
    if (added && added->is_array()) {
      for (const json& a : *added) {
        tok::AddedToken t;
        t.id = a.value("id", -1);
        t.content = a.value("content", std::string());
        t.special = a.value("special", false);
        t.lstrip = a.value("lstrip", false);
        t.rstrip = a.value("rstrip", false);
        t.single_word = a.value("single_word", false);
        if (t.id < 0 || t.content.empty()) continue;
        spec.tokens[t.id] = t.content;
        spec.types[t.id] = t.special ? TokenType::kControl : TokenType::kUserDefined;
        added_by_text[t.content] = t.id;
        spec.added.push_back(std::move(t));
      }
    }
    if (spec.byte_fallback) {
      for (size_t i = 0; i < spec.tokens.size(); ++i) {
        const std::string& s = spec.tokens[i];
        if (s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>' &&
            spec.types[i] == TokenType::kNormal)
          spec.types[i] = TokenType::kByte;
      }
    }

    if (const json* merges = get(*model, "merges"); merges && merges->is_array()) {
      spec.merges.reserve(merges->size());
      for (const json& m : *merges) {
        if (m.is_string()) {
          const std::string s = m.get<std::string>();
          const size_t sp = s.find(' ', 1);
          if (sp == std::string::npos) return Status::error("merge '" + s + "' has no space");
          spec.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
          spec.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
          return Status::error("bad merge entry");
        }
      }
    }
    if (const std::string unk = get_str(*model, "unk_token"); !unk.empty())
      spec.unk_id = id_of(unk);

    if (const json* n = get(j, "normalizer"))
      SF_RETURN_IF_ERROR(normalizer(*n).with_context("normalizer"));
    if (const json* n = get(j, "pre_tokenizer"))
      SF_RETURN_IF_ERROR(pre_tokenizer(*n).with_context("pre_tokenizer"));
    if (const json* n = get(j, "post_processor"))
      SF_RETURN_IF_ERROR(post_processor(*n).with_context("post_processor"));
    if (const json* n = get(j, "decoder")) SF_RETURN_IF_ERROR(decoder(*n).with_context("decoder"));
    if (spec.escape_whitespace && !get(j, "decoder")) spec.decode_spaces = true;

    // tokenizer_config.json
    if (cfg.is_object()) {
      if (auto s = token_field(cfg, "bos_token"); !s.empty()) spec.bos_id = id_of(s);
      if (auto s = token_field(cfg, "eos_token"); !s.empty()) spec.eos_id = id_of(s);
      if (auto s = token_field(cfg, "pad_token"); !s.empty()) spec.pad_id = id_of(s);
      if (auto s = token_field(cfg, "unk_token"); !s.empty() && spec.unk_id < 0)
        spec.unk_id = id_of(s);
      // Slow-tokenizer flags: only add what the post-processor does not already.
      if (spec.prefix_ids.empty() && spec.suffix_ids.empty()) {
        spec.add_bos = get_bool(cfg, "add_bos_token", false);
        spec.add_eos = get_bool(cfg, "add_eos_token", false);
      }
      if (const json* ct = get(cfg, "chat_template")) {
        if (ct->is_string()) {
          spec.chat_template = ct->get<std::string>();
        } else if (ct->is_array()) {
          for (const json& e : *ct) {
            if (e.value("name", std::string()) == "default" || spec.chat_template.empty())
              spec.chat_template = e.value("template", std::string());
          }
        }
      }
    }
    // A post-processor that adds one token in front of the text names the BOS.
    if (spec.bos_id < 0 && spec.prefix_ids.size() == 1) spec.bos_id = spec.prefix_ids[0];
    if (spec.eos_id >= 0) spec.eog_ids.push_back(spec.eos_id);
    return Status();
  }
};

Result<std::string> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error(path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_hf_json(std::string_view tokenizer_json,
                                                                 std::string_view config_json) {
  json j, cfg;
  try {
    j = json::parse(tokenizer_json);
    if (!config_json.empty()) cfg = json::parse(config_json);
  } catch (const std::exception& e) {
    return Status::error(std::string("invalid JSON: ") + e.what());
  }
  Loader loader;
  try {
    SF_RETURN_IF_ERROR(loader.load(j, cfg));
  } catch (const std::exception& e) {  // a field of an unexpected JSON type
    return Status::error(std::string("unexpected tokenizer.json content: ") + e.what());
  }
  loader.spec.name = "tokenizer.json";
  return from_spec(std::move(loader.spec));
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_hf(
    const std::string& tokenizer_json_path, const std::string& tokenizer_config_json_path) {
  auto text = slurp(tokenizer_json_path);
  if (!text.ok()) return text.status();
  std::string cfg;
  if (!tokenizer_config_json_path.empty()) {
    auto c = slurp(tokenizer_config_json_path);
    if (!c.ok()) return c.status();
    cfg = std::move(*c);
  }
  auto r = from_hf_json(*text, cfg);
  if (!r.ok()) return r.status().with_context(tokenizer_json_path);
  return r;
}

}  // namespace sf
