// LoRA adapters in llama.cpp's GGUF convention (models/lora_adapter.h).
// Facts from llama.cpp: convert_lora_to_gguf.py writes general.type =
// "adapter", adapter.type = "lora", adapter.lora.alpha (f32) and, per adapted
// weight, "<name>.lora_a" (numpy shape [rank, in], GGUF dims {in, rank}) and
// "<name>.lora_b" ([out, rank], dims {rank, out}); src/llama-adapter.cpp
// pairs them by name, requires general.architecture to equal the model's,
// checks a.ne[0] == W.ne[0], b.ne[1] == W.ne[1], a.ne[1] == b.ne[0], and
// scales by adapter_scale * alpha / rank (rank = b.ne[0]), or adapter_scale
// alone when alpha is 0.
#include <cmath>
#include <map>
#include <set>

#include "core/quant.h"
#include "formats/gguf.h"
#include "models/config.h"
#include "models/lora_adapter.h"
#include "models/lora_apply.h"

namespace sf {
namespace {

// Ranks beyond this are a corrupt file, not an adapter (PEFT users pick 4..256).
constexpr int64_t kMaxRank = 1 << 16;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "{";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "}";
}

// A tensor's rows as f32, whatever its (computable) type.
Result<std::vector<float>> read_f32(const std::string& path, const gguf::TensorInfo& t) {
  if (!traits(t.type).computable)
    return errorf(
        "%s: tensor '%s' has type %s, which Starfire cannot read; convert the adapter "
        "with --outtype f32 or f16",
        path.c_str(), t.name.c_str(), type_name(t.type));
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  const size_t rb = row_bytes(t.type, t.dims[0]);
  for (int64_t r = 0; r < t.n_rows(); ++r)
    dequantize_row_ref(t.type, t.data + r * rb, v.data() + r * t.dims[0], t.dims[0]);
  return v;
}

}  // namespace

Status validate_lora(const LoraAdapter& a, const ModelConfig& cfg) {
  if (a.arch != cfg.arch)
    return errorf(
        "adapter is for architecture '%s' but the model is '%s' (hint: an adapter only fits the "
        "base model it was trained on)",
        a.arch.c_str(), cfg.arch.c_str());
  if (a.tensors.empty()) return Status::error("adapter has no tensors");
  if (!(a.alpha >= 0.0f) || !std::isfinite(a.scale))
    return errorf("adapter has alpha %g and scale %g; alpha must be >= 0 and scale finite", a.alpha,
                  a.scale);
  std::set<std::string> seen;
  for (const LoraTensorPair& p : a.tensors) {
    auto t = parse_lora_target(p.target);
    if (!t)
      return errorf(
          "adapter targets '%s', which is not a projection Starfire can adapt (expected "
          "blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down}.weight)",
          p.target.c_str());
    if (t->layer >= cfg.n_layer)
      return errorf(
          "adapter targets '%s' but the model has only %d layers (hint: wrong base model?)",
          p.target.c_str(), cfg.n_layer);
    if (!seen.insert(p.target).second)
      return errorf("adapter has two pairs for '%s'", p.target.c_str());
    int64_t out = 0, in = 0;
    lora_proj_shape(cfg, t->proj, &out, &in);
    if (p.in != in || p.out != out)
      return errorf(
          "adapter pair '%s' is %lld x %lld (out x in) but the model's weight is %lld x %lld "
          "(hint: the adapter was made for another base model)",
          p.target.c_str(), static_cast<long long>(p.out), static_cast<long long>(p.in),
          static_cast<long long>(out), static_cast<long long>(in));
    if (p.rank <= 0 || p.rank > kMaxRank)
      return errorf("adapter pair '%s' has rank %lld (expected 1..%lld)", p.target.c_str(),
                    static_cast<long long>(p.rank), static_cast<long long>(kMaxRank));
    if (p.a.size() != static_cast<size_t>(p.rank * p.in) ||
        p.b.size() != static_cast<size_t>(p.out * p.rank))
      return errorf("adapter pair '%s': a has %zu values (want %lld), b has %zu (want %lld)",
                    p.target.c_str(), p.a.size(), static_cast<long long>(p.rank * p.in), p.b.size(),
                    static_cast<long long>(p.out * p.rank));
  }
  return {};
}

Result<LoraAdapter> load_lora_gguf(const std::string& path) {
  SF_ASSIGN_OR_RETURN(auto f, gguf::GgufFile::open(path));
  const std::string type = f->get_string("general.type").value_or("");
  if (type != "adapter")
    return errorf(
        "%s: general.type is '%s', not 'adapter': this is not a LoRA adapter (hint: pass the base "
        "model with -m and adapters with --lora)",
        path.c_str(), type.c_str());
  const std::string atype = f->get_string("adapter.type").value_or("");
  if (atype != "lora")
    return errorf("%s: adapter.type is '%s', expected 'lora' (control vectors are not LoRA)",
                  path.c_str(), atype.c_str());
  LoraAdapter a;
  a.arch = f->get_string("general.architecture").value_or("");
  if (a.arch.empty()) return errorf("%s: missing general.architecture", path.c_str());
  if (const gguf::Value* v = f->find("adapter.lora.alpha")) {
    auto x = v->as_float();
    if (!x || !std::isfinite(*x) || *x < 0)
      return errorf("%s: adapter.lora.alpha is not a non-negative number", path.c_str());
    a.alpha = static_cast<float>(*x);
  }
  if (f->find("adapter.alora.invocation_tokens"))
    return errorf("%s: activated LoRA (aLoRA) adapters are not supported", path.c_str());

  // Pair tensors by base name; keep the file's order for a stable result.
  struct Halves {
    const gguf::TensorInfo* a = nullptr;
    const gguf::TensorInfo* b = nullptr;
  };
  std::map<std::string, Halves> pairs;
  std::vector<std::string> order;
  for (const gguf::TensorInfo& t : f->tensors()) {
    const bool is_a = ends_with(t.name, ".lora_a"), is_b = ends_with(t.name, ".lora_b");
    if (!is_a && !is_b) {
      // Norm vectors (mergekit-extract-lora adds them): llama.cpp ignores them too.
      if (ends_with(t.name, "_norm.weight")) continue;
      return errorf("%s: tensor '%s' is neither a .lora_a nor a .lora_b", path.c_str(),
                    t.name.c_str());
    }
    const std::string base = t.name.substr(0, t.name.size() - 7);
    auto [it, fresh] = pairs.try_emplace(base);
    if (fresh) order.push_back(base);
    const gguf::TensorInfo*& slot = is_a ? it->second.a : it->second.b;
    if (slot) return errorf("%s: tensor '%s' appears twice", path.c_str(), t.name.c_str());
    slot = &t;
  }
  if (order.empty()) return errorf("%s: the adapter has no lora_a/lora_b tensors", path.c_str());

  for (const std::string& name : order) {
    const Halves& h = pairs[name];
    if (!h.a || !h.b)
      return errorf("%s: '%s' has %s but no %s", path.c_str(), name.c_str(),
                    h.a ? "lora_a" : "lora_b", h.a ? "lora_b" : "lora_a");
    if (h.a->dims.size() != 2 || h.b->dims.size() != 2)
      return errorf("%s: '%s' lora_a dims %s / lora_b dims %s must both be 2-D", path.c_str(),
                    name.c_str(), dims_str(h.a->dims).c_str(), dims_str(h.b->dims).c_str());
    LoraTensorPair p;
    p.target = name;
    p.in = h.a->dims[0];
    p.rank = h.a->dims[1];
    p.out = h.b->dims[1];
    if (h.b->dims[0] != p.rank)
      return errorf(
          "%s: '%s' has lora_a dims %s and lora_b dims %s: their ranks (%lld, %lld) differ "
          "(hint: lora_a must be stored transposed, as convert_lora_to_gguf.py does)",
          path.c_str(), name.c_str(), dims_str(h.a->dims).c_str(), dims_str(h.b->dims).c_str(),
          static_cast<long long>(p.rank), static_cast<long long>(h.b->dims[0]));
    if (p.rank <= 0 || p.rank > kMaxRank)
      return errorf("%s: '%s' has rank %lld (expected 1..%lld)", path.c_str(), name.c_str(),
                    static_cast<long long>(p.rank), static_cast<long long>(kMaxRank));
    SF_ASSIGN_OR_RETURN(p.a, read_f32(path, *h.a));
    SF_ASSIGN_OR_RETURN(p.b, read_f32(path, *h.b));
    if (a.rank == 0) a.rank = static_cast<int>(p.rank);
    a.tensors.push_back(std::move(p));
  }
  // llama.cpp applies B A unscaled when alpha is 0 or absent; alpha = rank
  // says the same in our terms (lora_pair_scale keeps exact llama.cpp
  // semantics even where ranks differ).
  bool uniform = true;
  for (const LoraTensorPair& p : a.tensors) uniform = uniform && p.rank == a.rank;
  if (a.alpha == 0.0f && uniform) a.alpha = static_cast<float>(a.rank);
  return a;
}

Status save_lora_gguf(const LoraAdapter& a, const std::string& path) {
  if (a.arch.empty()) return errorf("%s: the adapter has no architecture", path.c_str());
  if (a.tensors.empty()) return errorf("%s: the adapter has no tensors", path.c_str());
  gguf::GgufWriter w;
  w.set("general.architecture", gguf::Value::str(a.arch));
  w.set("general.type", gguf::Value::str("adapter"));
  w.set("general.file_type", gguf::Value::u32(0));  // all F32
  w.set("adapter.type", gguf::Value::str("lora"));
  w.set("adapter.lora.alpha", gguf::Value::f32(a.alpha));
  for (const LoraTensorPair& p : a.tensors) {
    if (p.rank <= 0 || p.a.size() != static_cast<size_t>(p.rank * p.in) ||
        p.b.size() != static_cast<size_t>(p.out * p.rank))
      return errorf(
          "%s: pair '%s' is inconsistent (rank %lld, in %lld, out %lld, |a| %zu, |b| %zu)",
          path.c_str(), p.target.c_str(), static_cast<long long>(p.rank),
          static_cast<long long>(p.in), static_cast<long long>(p.out), p.a.size(), p.b.size());
    SF_RETURN_IF_ERROR(w.add_tensor(p.target + ".lora_a", DType::F32, {p.in, p.rank}, p.a.data(),
                                    p.a.size() * sizeof(float)));
    SF_RETURN_IF_ERROR(w.add_tensor(p.target + ".lora_b", DType::F32, {p.rank, p.out}, p.b.data(),
                                    p.b.size() * sizeof(float)));
  }
  return w.write(path);
}

}  // namespace sf
