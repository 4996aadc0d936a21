// add_hf_tokenizer (models/hf_convert.h): tokenizer.json -> tokenizer.ggml.*.
//
// The vocabulary, special ids, add_bos/eos and chat template come from our
// own Tokenizer::from_hf reading of the folder (so the GGUF says what the
// folder's tokenizer does); merges and the pre-tokenizer regex are read from
// tokenizer.json here, since they are what llama.cpp needs to name.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/gguf.h"
#include "models/hf_convert.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

Result<json> read_json(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return errorf("%s: cannot read", p.string().c_str());
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return errorf("%s: not valid JSON", p.string().c_str());
  return j;
}

// Every object in a pre_tokenizer / normalizer tree (Sequence nests them).
void flatten(const json& j, const char* list_key, std::vector<const json*>& out) {
  if (!j.is_object()) return;
  auto it = j.find(list_key);
  if (j.value("type", "") == "Sequence" && it != j.end() && it->is_array()) {
    for (const json& x : *it) flatten(x, list_key, out);
  } else {
    out.push_back(&j);
  }
}

// llama.cpp names pre-tokenizers; ours map a name back to the regex. Only
// names whose regex we can verify are written.
Result<std::string> detect_pre(const json& tj) {
  std::vector<const json*> steps;
  if (auto it = tj.find("pre_tokenizer"); it != tj.end()) flatten(*it, "pretokenizers", steps);
  std::string regex;
  bool byte_level_regex = false;
  for (const json* s : steps) {
    const std::string type = s->value("type", "");
    if (type == "Split") {
      auto pat = s->find("pattern");
      if (pat != s->end() && pat->is_object() && pat->contains("Regex"))
        regex += (regex.empty() ? "" : "\n") + pat->at("Regex").get<std::string>();
    } else if (type == "ByteLevel") {
      byte_level_regex = s->value("use_regex", true);
    }
  }
  if (regex.empty() && byte_level_regex) return std::string("gpt-2");
  if (!byte_level_regex) {
    if (regex == tok::kPatternLlama3) return std::string("llama-bpe");
    if (regex == tok::kPatternQwen2) return std::string("qwen2");
  }
  return Status::error(
      "tokenizer.json's pre-tokenizer (regex '" + regex.substr(0, 120) +
      "') is not one Starfire can name for llama.cpp (known: Llama 3, Qwen2, GPT-2); converting "
      "it would tokenize differently");
}

}  // namespace

Status add_hf_tokenizer(const std::string& folder, int n_vocab, GgufKv& kv) {
  struct {
    GgufKv& kv;
    void set(std::string k, gguf::Value v) { kv.emplace_back(std::move(k), std::move(v)); }
  } w{kv};
  const fs::path dir(folder);
  const fs::path tj_path = dir / "tokenizer.json", cfg_path = dir / "tokenizer_config.json";
  std::error_code ec;
  if (!fs::exists(tj_path, ec))
    return errorf(
        "%s: no tokenizer.json (only Hugging Face fast-tokenizer folders can be "
        "converted)",
        folder.c_str());
  const bool has_cfg = fs::exists(cfg_path, ec);
  SF_ASSIGN_OR_RETURN(auto tok,
                      Tokenizer::from_hf(tj_path.string(), has_cfg ? cfg_path.string() : ""));
  SF_ASSIGN_OR_RETURN(json tj, read_json(tj_path));
  const json& model = tj["model"];
  if (!model.is_object() || model.value("type", "") != "BPE")
    return errorf("%s: tokenizer model type '%s' cannot be converted (only BPE)",
                  tj_path.string().c_str(),
                  model.is_object() ? model.value("type", "?").c_str() : "?");
  if (tok->n_vocab() > n_vocab)
    return errorf("%s: the tokenizer has %d tokens but vocab_size is %d", folder.c_str(),
                  tok->n_vocab(), n_vocab);

  // SentencePiece-style BPE (Llama 2, Mistral): byte fallback, '▁' for spaces.
  const bool spm = model.value("byte_fallback", false);
  std::vector<std::string> tokens(n_vocab);
  std::vector<int32_t> types(n_vocab, 1);
  std::vector<float> scores(n_vocab, 0.0f);
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (i >= tok->n_vocab() || tok->token_text(i).empty()) {
      tokens[i] = "[PAD" + std::to_string(i) + "]";  // rows beyond the tokenizer, as llama.cpp pads
      types[i] = 5;                                  // unused
      continue;
    }
    tokens[i] = tok->token_text(i);
    types[i] = static_cast<int32_t>(tok->token_type(i));
    if (types[i] == 0) types[i] = 1;
    if (spm) {
      if (tokens[i].size() == 6 && tokens[i].rfind("<0x", 0) == 0 && tokens[i].back() == '>')
        types[i] = 6;  // byte
      if (i == tok->unk_id()) types[i] = 2;
      // SentencePiece merges the pair whose result scores best; HF BPE merges by
      // rank. Converted SPM vocabularies list pieces in merge order, so -id
      // reproduces the ranking.
      if (types[i] == 1) scores[i] = -static_cast<float>(i);
    }
  }
  w.set("tokenizer.ggml.tokens", gguf::Value::str_array(tokens));
  w.set("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
  if (spm) {
    w.set("tokenizer.ggml.model", gguf::Value::str("llama"));
    w.set("tokenizer.ggml.scores", gguf::Value::f32_array(scores));
    bool prefix = false;
    std::vector<const json*> norms, pres;
    if (auto it = tj.find("normalizer"); it != tj.end()) flatten(*it, "normalizers", norms);
    if (auto it = tj.find("pre_tokenizer"); it != tj.end()) flatten(*it, "pretokenizers", pres);
    for (const json* n : norms)
      if (n->value("type", "") == "Prepend") prefix = true;
    for (const json* s : pres)
      if (s->value("type", "") == "Metaspace" && s->value("prepend_scheme", "always") != "never")
        prefix = true;
    w.set("tokenizer.ggml.add_space_prefix", gguf::Value::boolean(prefix));
  } else {
    SF_ASSIGN_OR_RETURN(std::string pre, detect_pre(tj));
    w.set("tokenizer.ggml.model", gguf::Value::str("gpt2"));
    w.set("tokenizer.ggml.pre", gguf::Value::str(pre));
    std::vector<std::string> merges;
    if (auto it = model.find("merges"); it != model.end() && it->is_array()) {
      for (const json& m : *it) {
        if (m.is_string()) {
          merges.push_back(m.get<std::string>());
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
          merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        }
      }
    }
    w.set("tokenizer.ggml.merges", gguf::Value::str_array(merges));
  }
  // What our reading of the folder does with add_special, stated explicitly.
  const std::vector<int32_t> plain = tok->encode("a", false), full = tok->encode("a", true);
  const bool add_bos =
      full.size() > plain.size() && tok->bos_id() >= 0 && full.front() == tok->bos_id();
  const bool add_eos =
      full.size() > plain.size() && tok->eos_id() >= 0 && full.back() == tok->eos_id();
  w.set("tokenizer.ggml.add_bos_token", gguf::Value::boolean(add_bos));
  w.set("tokenizer.ggml.add_eos_token", gguf::Value::boolean(add_eos));
  auto set_id = [&](const char* key, int32_t id) {
    if (id >= 0) w.set(key, gguf::Value::u32(static_cast<uint32_t>(id)));
  };
  set_id("tokenizer.ggml.bos_token_id", tok->bos_id());
  set_id("tokenizer.ggml.eos_token_id", tok->eos_id());
  set_id("tokenizer.ggml.unknown_token_id", tok->unk_id());
  set_id("tokenizer.ggml.eot_token_id", tok->eot_id());
  std::string tmpl = tok->chat_template();
  if (tmpl.empty()) {  // newer repos keep it in its own file
    std::ifstream f(dir / "chat_template.jinja", std::ios::binary);
    if (f) tmpl.assign(std::istreambuf_iterator<char>(f), {});
  }
  if (!tmpl.empty()) w.set("tokenizer.chat_template", gguf::Value::str(tmpl));
  return {};
}

}  // namespace sf
