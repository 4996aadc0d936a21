// convert_hf_to_gguf (models/hf_convert.h): weights and hyperparameters.
#include "models/hf_convert.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include "core/quant.h"
#include "core/threadpool.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "models/gguf_stream.h"
#include "models/hf_model.h"

namespace sf {
namespace {

// llama.cpp's converter stores Llama q/k rows so that RoPE can rotate adjacent
// pairs: within each head, row (j * hd/2 + i) of the HF layout (rotate-halves
// order) becomes row (2 * i + j).
std::vector<float> permute_qk(const std::vector<float>& w, int n_heads, int64_t cols) {
  const int64_t rows = static_cast<int64_t>(w.size()) / cols;
  const int64_t hd = rows / n_heads, half = hd / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t i = 0; i < half; ++i)
        std::memcpy(&out[(h * hd + 2 * i + j) * cols], &w[(h * hd + j * half + i) * cols],
                    cols * sizeof(float));
  return out;
}

std::string encode(const std::vector<float>& v, DType type, int64_t cols, ThreadPool& pool) {
  const int64_t rows = static_cast<int64_t>(v.size()) / cols;
  const size_t rb = row_bytes(type, cols);
  std::string out(rb * rows, '\0');
  pool.parallel_for(rows, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) quantize_row_ref(type, v.data() + r * cols, &out[r * rb], cols);
  });
  return out;
}

}  // namespace

int gguf_file_type(DType t) {
  switch (t) {
    case DType::F32:
      return 0;
    case DType::F16:
      return 1;
    case DType::Q4_0:
      return 2;
    case DType::Q4_1:
      return 3;
    case DType::Q8_0:
      return 7;
    case DType::Q5_0:
      return 8;
    case DType::Q5_1:
      return 9;
    case DType::Q2_K:
      return 10;
    case DType::Q6_K:
      return 18;
    case DType::BF16:
      return 32;
    default:
      return 1;
  }
}

Result<ConvertReport> convert_hf_to_gguf(const std::string& folder, const std::string& out_path,
                                         const ConvertOptions& opt) {
  namespace fs = std::filesystem;
  if (opt.out_type != DType::F32 && opt.out_type != DType::F16 && opt.out_type != DType::BF16 &&
      opt.out_type != DType::Q8_0)
    return errorf(
        "convert: output type %s is not one of f32, f16, bf16, q8_0 (quantize further "
        "with `starfire quantize`)",
        type_name(opt.out_type));
  SF_ASSIGN_OR_RETURN(hf::Config hc,
                      hf::read_hf_config((fs::path(folder) / "config.json").string()));
  const ModelConfig c = hfmap::model_config(hc);
  SF_ASSIGN_OR_RETURN(st::SafetensorsSet set, st::SafetensorsSet::open(folder));
  const std::string& a = hc.gguf_arch;
  const char* p = folder.c_str();

  GgufStreamWriter w;
  w.set("general.architecture", gguf::Value::str(a));
  w.set("general.name",
        gguf::Value::str(hc.name.empty() ? fs::path(folder).filename().string() : hc.name));
  w.set("general.file_type", gguf::Value::u32(gguf_file_type(opt.out_type)));
  if (opt.out_type == DType::Q8_0) w.set("general.quantization_version", gguf::Value::u32(2));
  for (auto& [k, v] : hparams_kv(c)) w.set(std::move(k), std::move(v));
  GgufKv tok_kv;
  SF_RETURN_IF_ERROR(add_hf_tokenizer(folder, c.n_vocab, tok_kv).with_context("convert " + folder));
  for (auto& [k, v] : tok_kv) w.set(std::move(k), std::move(v));

  // Tensors in llama.cpp's usual order: embedding, layers, output norm, head.
  std::vector<std::pair<std::string, const st::TensorInfo*>> todo;
  std::map<std::string, int> order;
  for (const st::TensorInfo* t : set.tensors()) {
    auto g = hfmap::gguf_name(t->name);
    if (!g)
      return errorf("%s: tensor '%s' has no GGUF counterpart for %s; refusing to drop weights", p,
                    t->name.c_str(), hc.architecture.c_str());
    if (g->empty()) continue;
    if (!t->type)
      return errorf("%s: tensor '%s' has dtype %s; only F32, F16 and BF16 can be converted", p,
                    t->name.c_str(), t->dtype.c_str());
    if (*g == "output.weight" && hc.tie_word_embeddings)
      continue;  // tied: llama.cpp reuses token_embd
    todo.emplace_back(*g, t);
  }
  auto rank = [](const std::string& n) {
    if (n == "token_embd.weight") return std::make_pair(-1, n);
    if (n.rfind("blk.", 0) == 0) return std::make_pair(std::stoi(n.substr(4)), n);
    return std::make_pair(1 << 30, n);
  };
  std::sort(todo.begin(), todo.end(),
            [&](const auto& x, const auto& y) { return rank(x.first) < rank(y.first); });
  for (const char* need : {"token_embd.weight", "output_norm.weight"})
    if (std::none_of(todo.begin(), todo.end(), [&](const auto& x) { return x.first == need; }))
      return errorf("%s: missing tensor '%s'", p, hfmap::hf_name(need)->c_str());

  // Every tensor's type and shape first: they fix the file layout, so the
  // data can then be streamed out one tensor at a time.
  struct Out {
    std::string name;
    const st::TensorInfo* src;  // nullptr: rope_freqs from the config
    DType type;
    std::vector<int64_t> dims;
  };
  std::vector<Out> outs;
  ConvertReport rep;
  rep.arch = a;
  if (!c.rope_freq_factors.empty())
    outs.push_back({"rope_freqs.weight",
                    nullptr,
                    DType::F32,
                    {static_cast<int64_t>(c.rope_freq_factors.size())}});
  for (const auto& [name, t] : todo) {
    if (t->shape.empty() || t->shape.size() > 2)
      return errorf("%s: tensor '%s' has %zu dimensions; expected 1 or 2", p, t->name.c_str(),
                    t->shape.size());
    const int64_t cols = t->shape.back();
    const bool mat = t->shape.size() == 2;
    DType type = mat ? opt.out_type : DType::F32;
    if (cols % traits(type).block_size != 0) {
      type = DType::F16;
      rep.n_fallback++;
    }
    std::vector<int64_t> dims = {cols};
    if (mat) dims.push_back(t->shape[0]);
    outs.push_back({name, t, type, dims});
  }
  for (const Out& o : outs) SF_RETURN_IF_ERROR(w.declare(o.name, o.type, o.dims));
  SF_RETURN_IF_ERROR(w.open(out_path));

  ThreadPool pool(opt.n_threads);
  for (const Out& o : outs) {
    std::vector<float> v = o.src ? o.src->to_f32() : c.rope_freq_factors;
    const int64_t cols = o.dims[0];
    if (a == "llama" && o.dims.size() == 2) {
      if (o.name.find(".attn_q.weight") != std::string::npos) v = permute_qk(v, c.n_head, cols);
      if (o.name.find(".attn_k.weight") != std::string::npos) v = permute_qk(v, c.n_head_kv, cols);
    }
    const std::string bytes = encode(v, o.type, cols, pool);
    SF_RETURN_IF_ERROR(w.write_next(bytes.data(), bytes.size()));
    rep.n_tensors++;
    rep.n_params += v.size();
    rep.tensor_bytes += bytes.size();
    if (opt.progress) opt.progress(rep.n_tensors, outs.size(), rep.tensor_bytes);
  }
  SF_RETURN_IF_ERROR(w.finish());
  return rep;
}

}  // namespace sf
