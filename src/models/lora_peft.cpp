// LoRA adapters as PEFT folders (models/lora_adapter.h).
//
// What PEFT's save_pretrained writes for a LoRA on a *ForCausalLM model:
//  * adapter_config.json: LoraConfig.to_dict() dumped with indent=2 and
//    sorted keys. We write the keys PEFT has had since 0.10 (older readers
//    reject keys they do not know; newer ones fill in what is missing).
//  * adapter_model.safetensors (metadata {"format": "pt"}): for each adapted
//    Linear, "base_model.model.<module>.lora_A.weight" [r, in] and
//    ".lora_B.weight" [out, r], where <module> is the transformers module path
//    ("model.layers.0.self_attn.q_proj"); the adapter name ("default") is
//    stripped from the keys.
//  * scaling: lora_alpha / r per module (alpha_pattern / rank_pattern
//    override per module; use_rslora: lora_alpha / sqrt(r)).
// llama.cpp's convert_lora_to_gguf.py reads the same names (it strips
// "base_model.model." and ".lora_A"/".lora_B" to find the base weight).
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "formats/safetensors.h"
#include "models/config.h"
#include "models/hf_model.h"
#include "models/lora_adapter.h"
#include "models/lora_apply.h"

namespace sf {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::string_view kPrefix = "base_model.model.";
constexpr const char* kShort[kLoraProjCount] = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                "gate_proj", "up_proj", "down_proj"};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The PEFT module key of a target ("model.layers.3.self_attn.q_proj").
std::string module_of(const std::string& gguf_target) {
  std::string hf = *hfmap::hf_name(gguf_target);
  return hf.substr(0, hf.size() - 7);  // drop ".weight"
}

Status write_text(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return errorf("cannot write %s", tmp.c_str());
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!f) return errorf("%s: write failed (disk full?)", tmp.c_str());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    return errorf("cannot rename %s to %s: %s", tmp.c_str(), path.c_str(), ec.message().c_str());
  return {};
}

// PEFT picks a pattern key for a module by re.match(r"(.*\.)?{key}$", module).
Result<const json*> pattern_value(const json& patterns, const std::string& module,
                                  const std::string& cfg_path, const char* field) {
  for (auto it = patterns.begin(); it != patterns.end(); ++it) {
    try {
      if (std::regex_match(module, std::regex("(.*\\.)?(" + it.key() + ")"))) return &it.value();
    } catch (const std::regex_error&) {
      return errorf("%s: %s key '%s' is not a regular expression Starfire understands",
                    cfg_path.c_str(), field, it.key().c_str());
    }
  }
  return static_cast<const json*>(nullptr);
}

}  // namespace

Status save_lora_peft(const LoraAdapter& a, const ModelConfig& base_cfg,
                      const std::string& base_model_name, const std::string& dir) {
  SF_RETURN_IF_ERROR(validate_lora(a, base_cfg).with_context("saving PEFT adapter " + dir));
  const int r = a.rank > 0 ? a.rank : static_cast<int>(a.tensors[0].rank);
  // alpha 0 means "B A unscaled" (llama.cpp); PEFT says that with alpha = r.
  const bool unscaled = a.alpha == 0.0f;
  const double alpha = unscaled ? r : a.alpha;

  json rank_pattern = json::object(), alpha_pattern = json::object();
  std::set<int> proj_used, layers_used;
  st::SafetensorsWriter w;
  w.set_metadata("format", "pt");
  for (const LoraTensorPair& p : a.tensors) {
    const LoraTarget t = *parse_lora_target(p.target);
    proj_used.insert(static_cast<int>(t.proj));
    layers_used.insert(t.layer);
    const std::string module = module_of(p.target);
    // "layers.N.x.y" matches with and without the "model." PEFT versions prefix.
    const std::string key = module.substr(6);
    if (p.rank != r) rank_pattern[key] = p.rank;
    if (unscaled && p.rank != r) alpha_pattern[key] = p.rank;
    std::vector<float> b = p.b;
    if (lora_qk_permuted(base_cfg) && (t.proj == LoraProj::Q || t.proj == LoraProj::K))
      permute_qk_rows(b, p.rank, t.proj == LoraProj::Q ? base_cfg.n_head : base_cfg.n_head_kv,
                      false);
    const std::string name = std::string(kPrefix) + module;
    SF_RETURN_IF_ERROR(w.add_tensor(name + ".lora_A.weight", DType::F32, {p.rank, p.in}, p.a.data(),
                                    p.a.size() * sizeof(float)));
    SF_RETURN_IF_ERROR(w.add_tensor(name + ".lora_B.weight", DType::F32, {p.out, p.rank}, b.data(),
                                    b.size() * sizeof(float)));
  }

  json targets = json::array();
  for (int p : proj_used) targets.push_back(kShort[p]);
  json cfg = {
      {"alpha_pattern", alpha_pattern},
      {"auto_mapping", nullptr},
      {"base_model_name_or_path", base_model_name},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"inference_mode", true},
      {"init_lora_weights", true},
      {"layer_replication", nullptr},
      {"layers_pattern", nullptr},
      {"layers_to_transform", nullptr},
      {"loftq_config", json::object()},
      {"lora_dropout", 0.0},
      {"megatron_config", nullptr},
      {"megatron_core", "megatron.core"},
      {"modules_to_save", nullptr},
      {"peft_type", "LORA"},
      {"r", r},
      {"rank_pattern", rank_pattern},
      {"revision", nullptr},
      {"target_modules", targets},
      {"task_type", "CAUSAL_LM"},
      {"use_dora", false},
      {"use_rslora", false},
  };
  // PEFT writes the alpha the user gave, usually an integer.
  if (alpha == std::floor(alpha) && std::fabs(alpha) < 1e9)
    cfg["lora_alpha"] = static_cast<int64_t>(alpha);
  else
    cfg["lora_alpha"] = alpha;
  // Only some layers adapted: say which, or PEFT would add zero adapters to all.
  if (static_cast<int>(layers_used.size()) != base_cfg.n_layer)
    cfg["layers_to_transform"] = std::vector<int>(layers_used.begin(), layers_used.end());

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return errorf("cannot create folder %s: %s", dir.c_str(), ec.message().c_str());
  SF_RETURN_IF_ERROR(w.write((fs::path(dir) / "adapter_model.safetensors").string()));
  return write_text(fs::path(dir) / "adapter_config.json", cfg.dump(2) + "\n");
}

Result<LoraAdapter> load_lora_peft(const std::string& dir, const ModelConfig& base_cfg) {
  const fs::path cfg_path = fs::path(dir) / "adapter_config.json";
  const std::string cp = cfg_path.string();
  std::ifstream in(cfg_path, std::ios::binary);
  if (!in)
    return errorf("%s: no adapter_config.json here; is this a PEFT adapter folder?", dir.c_str());
  std::stringstream ss;
  ss << in.rdbuf();
  const json cfg = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (!cfg.is_object()) return errorf("%s: not a JSON object", cp.c_str());
  auto str_of = [&](const char* k) {
    auto it = cfg.find(k);
    return it != cfg.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto true_of = [&](const char* k) {
    auto it = cfg.find(k);
    return it != cfg.end() && it->is_boolean() && it->get<bool>();
  };
  if (str_of("peft_type") != "LORA")
    return errorf("%s: peft_type is '%s'; only LORA adapters are supported", cp.c_str(),
                  str_of("peft_type").c_str());
  if (true_of("use_dora"))
    return errorf("%s: DoRA adapters (use_dora) are not supported; merge it with PEFT first",
                  cp.c_str());
  if (true_of("lora_bias") || (cfg.contains("bias") && str_of("bias") != "none"))
    return errorf("%s: adapters with bias terms (bias '%s') are not supported", cp.c_str(),
                  str_of("bias").c_str());
  if (true_of("fan_in_fan_out"))
    return errorf("%s: fan_in_fan_out adapters (GPT-2 style Conv1D) are not supported", cp.c_str());
  auto r_it = cfg.find("r");
  auto alpha_it = cfg.find("lora_alpha");
  if (r_it == cfg.end() || !r_it->is_number_integer() || r_it->get<int64_t>() <= 0)
    return errorf("%s: 'r' must be a positive integer", cp.c_str());
  if (alpha_it == cfg.end() || !alpha_it->is_number() || !(alpha_it->get<double>() > 0))
    return errorf("%s: 'lora_alpha' must be a positive number", cp.c_str());
  const bool rslora = true_of("use_rslora");
  static const json kEmpty = json::object();
  const json& alpha_pattern = cfg.contains("alpha_pattern") && cfg["alpha_pattern"].is_object()
                                  ? cfg["alpha_pattern"]
                                  : kEmpty;

  LoraAdapter a;
  a.arch = base_cfg.arch;
  a.rank = static_cast<int>(r_it->get<int64_t>());
  a.alpha = static_cast<float>(alpha_it->get<double>());

  const fs::path st_path = fs::path(dir) / "adapter_model.safetensors";
  if (!fs::exists(st_path)) {
    if (fs::exists(fs::path(dir) / "adapter_model.bin"))
      return errorf(
          "%s: only adapter_model.bin (a pickle) is here; Starfire reads safetensors (save with "
          "safe_serialization=True)",
          dir.c_str());
    return errorf("%s: no adapter_model.safetensors", dir.c_str());
  }
  SF_ASSIGN_OR_RETURN(auto file, st::SafetensorsFile::open(st_path.string()));
  const std::string sp = st_path.string();

  struct Halves {
    const st::TensorInfo* a = nullptr;
    const st::TensorInfo* b = nullptr;
  };
  std::map<std::string, Halves> pairs;  // module -> tensors
  std::vector<std::string> order;
  for (const st::TensorInfo& t : file->tensors()) {
    const bool is_a = ends_with(t.name, ".lora_A.weight"),
               is_b = ends_with(t.name, ".lora_B.weight");
    if (t.name.find("lora_embedding_") != std::string::npos)
      return errorf("%s: '%s': LoRA on embeddings is not supported", sp.c_str(), t.name.c_str());
    if ((!is_a && !is_b) || t.name.compare(0, kPrefix.size(), kPrefix) != 0)
      return errorf(
          "%s: tensor '%s' is not a LoRA weight (base_model.model.<module>.lora_A/lora_B.weight); "
          "modules_to_save and other full weights are not supported",
          sp.c_str(), t.name.c_str());
    if (!t.type)
      return errorf("%s: tensor '%s' has dtype %s (expected F32, F16 or BF16)", sp.c_str(),
                    t.name.c_str(), t.dtype.c_str());
    const std::string module =
        t.name.substr(kPrefix.size(), t.name.size() - kPrefix.size() - 14);  // - ".lora_A.weight"
    auto [it, fresh] = pairs.try_emplace(module);
    if (fresh) order.push_back(module);
    (is_a ? it->second.a : it->second.b) = &t;
  }
  if (order.empty()) return errorf("%s: no lora_A/lora_B tensors", sp.c_str());

  for (const std::string& module : order) {
    const Halves& h = pairs[module];
    if (!h.a || !h.b)
      return errorf("%s: module '%s' has %s but no %s", sp.c_str(), module.c_str(),
                    h.a ? "lora_A" : "lora_B", h.a ? "lora_B" : "lora_A");
    auto target = hfmap::gguf_name(module + ".weight");
    if (!target || !parse_lora_target(*target))
      return errorf(
          "%s: module '%s' is not a projection Starfire can adapt (q/k/v/o_proj, "
          "gate/up/down_proj of model.layers.N)",
          sp.c_str(), module.c_str());
    if (h.a->shape.size() != 2 || h.b->shape.size() != 2 || h.a->shape[0] != h.b->shape[1])
      return errorf("%s: module '%s': lora_A shape and lora_B shape do not form [r, in] x [out, r]",
                    sp.c_str(), module.c_str());
    if (h.a->shape[0] <= 0)
      return errorf("%s: module '%s' has rank %lld", sp.c_str(), module.c_str(),
                    static_cast<long long>(h.a->shape[0]));
    LoraTensorPair p;
    p.target = *target;
    p.rank = h.a->shape[0];
    p.in = h.a->shape[1];
    p.out = h.b->shape[0];
    p.a = h.a->to_f32();
    p.b = h.b->to_f32();
    // Fold what PEFT scales differently from alpha / r into B.
    double factor = rslora ? std::sqrt(static_cast<double>(p.rank)) : 1.0;
    SF_ASSIGN_OR_RETURN(const json* ap, pattern_value(alpha_pattern, module, cp, "alpha_pattern"));
    if (ap) {
      if (!ap->is_number())
        return errorf("%s: alpha_pattern value for '%s' is not a number", cp.c_str(),
                      module.c_str());
      factor *= ap->get<double>() / a.alpha;
    }
    if (factor != 1.0)
      for (float& x : p.b) x = static_cast<float>(x * factor);
    const LoraTarget t = *parse_lora_target(p.target);
    if (lora_qk_permuted(base_cfg) && (t.proj == LoraProj::Q || t.proj == LoraProj::K)) {
      const int heads = t.proj == LoraProj::Q ? base_cfg.n_head : base_cfg.n_head_kv;
      if (heads <= 0 || p.out % heads != 0 || (p.out / heads) % 2 != 0)
        return errorf("%s: module '%s' has %lld outputs, not %d heads of even size", sp.c_str(),
                      module.c_str(), static_cast<long long>(p.out), heads);
      permute_qk_rows(p.b, p.rank, heads, true);
    }
    a.tensors.push_back(std::move(p));
  }
  SF_RETURN_IF_ERROR(validate_lora(a, base_cfg).with_context(dir));
  return a;
}

}  // namespace sf
