#include "train/train_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "core/dtype.h"
#include "core/threadpool.h"

namespace sf::train {
namespace {

using nlohmann::json;

// One list of (key, field) drives to_json, from_json and the known-key check,
// so a new field cannot be half-wired.
template <class C, class F>
void visit(C& c, F&& f) {
  f("arch", c.arch);
  f("dim", c.dim);
  f("layers", c.layers);
  f("heads", c.heads);
  f("kv_heads", c.kv_heads);
  f("head_dim", c.head_dim);
  f("ff", c.ff);
  f("vocab", c.vocab);
  f("ctx", c.ctx);
  f("rope_base", c.rope_base);
  f("rms_eps", c.rms_eps);
  f("tie_embeddings", c.tie_embeddings);
  f("init", c.init);
  f("lora_rank", c.lora_rank);
  f("lora_alpha", c.lora_alpha);
  f("lora_dropout", c.lora_dropout);
  f("lora_targets", c.lora_targets);
  f("data", c.data);
  f("tokenizer", c.tokenizer);
  f("batch", c.batch);
  f("seq", c.seq);
  f("accum", c.accum);
  f("steps", c.steps);
  f("lr", c.lr);
  f("min_lr", c.min_lr);
  f("warmup", c.warmup);
  f("wd", c.wd);
  f("beta1", c.beta1);
  f("beta2", c.beta2);
  f("eps", c.eps);
  f("clip", c.clip);
  f("seed", c.seed);
  f("threads", c.threads);
  f("precision", c.precision);
  f("eval_every", c.eval_every);
  f("eval_batches", c.eval_batches);
  f("sample_every", c.sample_every);
  f("sample_prompt", c.sample_prompt);
  f("sample_tokens", c.sample_tokens);
  f("sample_temp", c.sample_temp);
  f("log", c.log);
  f("ckpt_dir", c.ckpt_dir);
  f("ckpt_every", c.ckpt_every);
  f("ckpt_keep", c.ckpt_keep);
  f("out", c.out);
  f("out_type", c.out_type);
  f("adapter_out", c.adapter_out);
}

// Keys that describe the model shape; with `init` the model brings its own.
const std::set<std::string> kShapeKeys = {"arch",     "dim",       "layers",  "heads",
                                          "kv_heads", "head_dim",  "ff",      "vocab",
                                          "ctx",      "rope_base", "rms_eps", "tie_embeddings"};

std::string type_err(const std::string& key, const char* want, const json& v) {
  return "config key '" + key + "': expected " + want + ", got " + v.dump();
}

Status parse(const std::string& key, const json& v, int& out) {
  if (!v.is_number_integer() || v.get<int64_t>() < std::numeric_limits<int>::min() ||
      v.get<int64_t>() > std::numeric_limits<int>::max())
    return Status::error(type_err(key, "an integer", v));
  out = v.get<int>();
  return {};
}
Status parse(const std::string& key, const json& v, uint64_t& out) {
  if (!v.is_number_integer() ||
      (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
    return Status::error(type_err(key, "a non-negative integer", v));
  out = v.get<uint64_t>();
  return {};
}
Status parse(const std::string& key, const json& v, float& out) {
  if (!v.is_number()) return Status::error(type_err(key, "a number", v));
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max())
    return Status::error(type_err(key, "a finite number", v));
  out = static_cast<float>(d);
  return {};
}
Status parse(const std::string& key, const json& v, bool& out) {
  if (!v.is_boolean()) return Status::error(type_err(key, "true or false", v));
  out = v.get<bool>();
  return {};
}
Status parse(const std::string& key, const json& v, std::string& out) {
  if (!v.is_string()) return Status::error(type_err(key, "a string", v));
  out = v.get<std::string>();
  return {};
}
Status parse(const std::string& key, const json& v, std::vector<std::string>& out) {
  std::vector<std::string> r;
  if (v.is_string()) {
    std::stringstream ss(v.get<std::string>());
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) r.push_back(item);
  } else if (v.is_array()) {
    for (const json& e : v) {
      if (!e.is_string()) return Status::error(type_err(key, "an array of strings", v));
      r.push_back(e.get<std::string>());
    }
  } else {
    return Status::error(type_err(key, "a list like \"attn_q,attn_v\"", v));
  }
  out = std::move(r);
  return {};
}

std::string known_keys() {
  std::string s;
  TrainConfig c;
  visit(c, [&](const char* k, auto&) { s += std::string(s.empty() ? "" : ", ") + k; });
  return s;
}

template <class T>
json to_j(const T& v) {
  return json(v);
}
// Floats as their shortest decimal (0.9, not 0.8999999761581421), unless
// that would not read back as the same float.
json to_j(const float& v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf - 1, v);
  *r.ptr = '\0';
  const double d = std::strtod(buf, nullptr);
  return json(static_cast<float>(d) == v ? d : static_cast<double>(v));
}

// Paths as absolute paths, so a checkpoint resumed from another working
// directory still finds its data and writes where the run said. `init` may
// also be a model-store name, which stays as given.
void absolute_paths(TrainConfig& c) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (std::string* p : {&c.data, &c.tokenizer, &c.log, &c.ckpt_dir, &c.out, &c.adapter_out})
    if (!p->empty()) *p = fs::absolute(*p, ec).lexically_normal().string();
  if (!c.init.empty() && fs::exists(c.init, ec))
    c.init = fs::absolute(c.init, ec).lexically_normal().string();
}

}  // namespace

json to_json(const TrainConfig& c) {
  json j = json::object();
  visit(c, [&](const char* k, const auto& v) { j[k] = to_j(v); });
  return j;
}

Result<TrainConfig> from_json(const json& j, TrainConfig base) {
  if (!j.is_object())
    return Status::error("training config: expected a JSON object, got " + j.dump());
  for (const auto& item : j.items()) {
    // Named copies, not structured bindings: lambdas may not capture those
    // before C++20 compilers that implement P1091 (clang < 16).
    const std::string key = item.key();
    const json& value = item.value();
    bool found = false;
    Status st;
    visit(base, [&](const char* k, auto& field) {
      if (found || key != k) return;
      found = true;
      st = parse(key, value, field);
    });
    if (!found)
      return Status::error("unknown config key '" + key + "' (known: " + known_keys() + ")");
    SF_RETURN_IF_ERROR(st);
  }
  return base;
}

Result<json> read_config_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error("cannot open config file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) return Status::error("config file '" + path + "' is not valid JSON");
  if (!j.is_object())
    return Status::error("config file '" + path + "': expected a JSON object of settings");
  // Flags spell keys with '-', JSON may too; one spelling inside.
  json norm = json::object();
  for (const auto& [k, v] : j.items()) {
    std::string key = k;
    std::replace(key.begin(), key.end(), '-', '_');
    norm[key] = v;
  }
  if (auto c = from_json(norm); !c.ok()) return c.status().with_context(path);
  return norm;
}

Status validate(const TrainConfig& c, const json& given) {
  auto bad = [](const std::string& m) { return Status::error(m); };
  if (!c.init.empty())
    for (const auto& [k, v] : given.items())
      if (kShapeKeys.count(k))
        return bad("'" + k + "' conflicts with init '" + c.init +
                   "': the model's shape comes from it (drop the setting)");
  if (c.init.empty()) {
    if (c.arch != "llama" && c.arch != "qwen2" && c.arch != "qwen3")
      return bad("unknown arch '" + c.arch + "' (llama, qwen2 or qwen3)");
    if (c.dim < 1 || c.layers < 1 || c.heads < 1)
      return bad("dim, layers and heads must be at least 1");
    if (c.kv_heads < 0 || (c.kv_heads > 0 && c.heads % c.kv_heads != 0))
      return bad("heads (" + std::to_string(c.heads) + ") must be a multiple of kv_heads (" +
                 std::to_string(c.kv_heads) + ")");
    if (c.head_dim == 0 && c.dim % c.heads != 0)
      return bad("dim (" + std::to_string(c.dim) + ") must be a multiple of heads (" +
                 std::to_string(c.heads) + "), or set head_dim");
    if (c.head_dim < 0 || c.head_dim % 2 != 0)
      return bad("head_dim must be even (RoPE rotates pairs)");
    if (c.head_dim == 0 && (c.dim / c.heads) % 2 != 0)
      return bad("dim / heads must be even (RoPE rotates pairs)");
    if (c.ff < 0 || c.vocab < 0 || c.ctx < 0) return bad("ff, vocab and ctx must be >= 0");
    if (c.rope_base <= 0 || c.rms_eps <= 0) return bad("rope_base and rms_eps must be > 0");
  }
  if (c.is_lora() && c.init.empty())
    return bad("lora_rank needs a base model: give --init BASE (GGUF or HF folder)");
  if (c.lora_rank < 0) return bad("lora_rank must be >= 0");
  if (c.lora_dropout < 0 || c.lora_dropout >= 1) return bad("lora_dropout must be in [0, 1)");
  if (c.is_lora()) {
    static const std::set<std::string> kTargets = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                                   "ffn_gate", "ffn_up", "ffn_down"};
    if (c.lora_targets.empty()) return bad("lora_targets is empty (e.g. attn_q,attn_v)");
    for (const auto& t : c.lora_targets)
      if (!kTargets.count(t))
        return bad("unknown LoRA target '" + t +
                   "' (attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down)");
  } else if (given.contains("lora_alpha") || given.contains("lora_dropout") ||
             given.contains("lora_targets") || given.contains("adapter_out")) {
    return bad("LoRA settings given without lora_rank (add --lora-rank R)");
  }
  if (c.data.empty())
    return bad("no training data: give --data DIR (from `starfire data prepare`)");
  if (c.batch < 1 || c.seq < 1 || c.accum < 1) return bad("batch, seq and accum must be >= 1");
  if (c.steps < 1) return bad("steps must be >= 1");
  if (!(c.lr > 0)) return bad("lr must be > 0");
  if (c.min_lr > c.lr) return bad("min_lr must not exceed lr");
  if (c.beta1 < 0 || c.beta1 >= 1 || c.beta2 < 0 || c.beta2 >= 1)
    return bad("beta1 and beta2 must be in [0, 1)");
  if (!(c.eps > 0)) return bad("eps must be > 0");
  if (c.threads < 0) return bad("threads must be >= 0 (0: all cores)");
  if (c.precision != "f32" && c.precision != "bf16")
    return bad("unknown precision '" + c.precision + "' (f32 or bf16)");
  if (c.eval_every < 0 || c.eval_batches < 1 || c.sample_every < 0 || c.sample_tokens < 1)
    return bad("eval_every and sample_every must be >= 0, eval_batches and sample_tokens >= 1");
  if (c.sample_temp < 0) return bad("sample_temp must be >= 0 (0: greedy)");
  if (c.ckpt_every < 0 || c.ckpt_keep < 1) return bad("ckpt_every must be >= 0, ckpt_keep >= 1");
  if (c.ckpt_every > 0 && c.ckpt_dir.empty()) return bad("ckpt_every needs --ckpt-dir DIR");
  auto type = type_from_name(c.out_type);
  if (!type) return bad("unknown out_type '" + c.out_type + "' (f32, f16, bf16, q8_0, q4_k ...)");
  if (!c.adapter_out.empty() && !c.is_lora())
    return bad("adapter_out is for LoRA runs (add --lora-rank R)");
  return {};
}

void resolve(TrainConfig& c) {
  absolute_paths(c);
  if (c.min_lr < 0) c.min_lr = c.lr / 10;
  if (c.warmup < 0) c.warmup = c.steps / 20;
  if (c.wd < 0) c.wd = c.is_lora() ? 0.0f : 0.1f;
  if (c.kv_heads == 0) c.kv_heads = c.heads;
  if (c.head_dim == 0 && c.heads > 0) c.head_dim = c.dim / c.heads;
  if (c.ff == 0) c.ff = (c.dim * 8 / 3 + 31) / 32 * 32;
  if (c.ctx == 0) c.ctx = c.seq;
  if (c.threads == 0) c.threads = ThreadPool::default_threads();
  if (c.lora_alpha == 0) c.lora_alpha = 2.0f * c.lora_rank;
  if (c.ckpt_every == 0 && !c.ckpt_dir.empty()) c.ckpt_every = 100;
}

bool resumable_key(const std::string& key) {
  static const std::set<std::string> k = {
      "steps",        "threads",       "eval_every",    "eval_batches",
      "sample_every", "sample_prompt", "sample_tokens", "sample_temp",
      "log",          "ckpt_dir",      "ckpt_every",    "ckpt_keep",
      "out",          "out_type",      "adapter_out",   "tokenizer"};
  return k.count(key) > 0;
}

Result<TrainConfig> merge_for_resume(const TrainConfig& stored, const json& given_raw) {
  // Settings given as "auto" (0 or -1, e.g. --ff 0) were resolved when the
  // run started, and the stored config holds the resolved value; repeating
  // the original command line must not read as a change.
  static const std::set<std::string> auto_keys = {"ff",     "kv_heads", "head_dim",
                                                  "vocab",  "ctx",      "min_lr",
                                                  "warmup", "wd",       "lora_alpha"};
  const json defaults = to_json(TrainConfig{});
  json given = json::object();
  for (const auto& item : given_raw.items()) {
    if (auto_keys.count(item.key()) && defaults.contains(item.key()) &&
        item.value() == defaults[item.key()])
      continue;
    given[item.key()] = item.value();
  }
  SF_ASSIGN_OR_RETURN(TrainConfig merged, from_json(given, stored));
  absolute_paths(merged);  // "data/x" given again from the same folder is the same data
  const json a = to_json(stored), b = to_json(merged);
  std::string mismatches;
  for (const auto& [key, v] : given.items()) {
    if (resumable_key(key) || a[key] == b[key]) continue;
    mismatches += "\n  " + key + ": checkpoint " + a[key].dump() + ", now " + b[key].dump();
  }
  if (!mismatches.empty())
    return Status::error(
        "the settings differ from the checkpoint's, so the run cannot continue exactly:" +
        mismatches +
        "\nhint: drop these settings to continue the stored run, or start a fresh run with "
        "another --ckpt-dir");
  return merged;
}

}  // namespace sf::train
