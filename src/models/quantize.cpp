// quantize_gguf and the recipe rules (models/quantize.h).
#include "models/quantize.h"

#include <strings.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/quant.h"
#include "core/threadpool.h"
#include "formats/gguf.h"
#include "models/gguf_stream.h"

namespace sf {
namespace {

// Layer index of "blk.N.*", -1 otherwise.
int layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  return std::atoi(name.c_str() + 4);
}

bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

// llama.cpp's "more bits" layers: first and last eighth, and every third between.
bool more_bits(int i, int n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

DType fallback_for(DType t) {
  switch (t) {
    case DType::Q2_K:
    case DType::Q3_K:
      return DType::Q4_0;
    case DType::Q4_K:
      return DType::Q5_0;
    case DType::Q5_K:
      return DType::Q5_1;
    case DType::Q6_K:
      return DType::Q8_0;
    default:
      return DType::F16;
  }
}

bool is_float(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

}  // namespace

const std::vector<QuantRecipe>& quant_recipes() {
  static const std::vector<QuantRecipe> r = {
      {"Q8_0", 7, DType::Q8_0},    {"Q6_K", 18, DType::Q6_K},   {"Q5_K_M", 17, DType::Q5_K},
      {"Q5_K_S", 16, DType::Q5_K}, {"Q5_1", 9, DType::Q5_1},    {"Q5_0", 8, DType::Q5_0},
      {"Q4_K_M", 15, DType::Q4_K}, {"Q4_K_S", 14, DType::Q4_K}, {"Q4_1", 3, DType::Q4_1},
      {"Q4_0", 2, DType::Q4_0},    {"Q3_K_L", 13, DType::Q3_K}, {"Q3_K_M", 12, DType::Q3_K},
      {"Q3_K_S", 11, DType::Q3_K}, {"Q2_K", 10, DType::Q2_K},   {"F16", 1, DType::F16},
      {"BF16", 32, DType::BF16},   {"F32", 0, DType::F32},
  };
  return r;
}

std::optional<QuantRecipe> find_recipe(const std::string& name) {
  for (const QuantRecipe& r : quant_recipes())
    if (strcasecmp(r.name, name.c_str()) == 0) return r;
  return std::nullopt;
}

DType choose_quant_type(const QuantRecipe& r, const QuantModelInfo& m, const std::string& name,
                        const std::vector<int64_t>& dims, DType src, bool* fallback) {
  if (fallback) *fallback = false;
  // Only matrices are quantized; norms, biases, rope factors keep their type.
  if (dims.size() < 2 || contains(name, "_norm.weight")) return src;
  const std::string rn = r.name;
  const bool k_quant = r.base == DType::Q2_K || r.base == DType::Q3_K || r.base == DType::Q4_K ||
                       r.base == DType::Q5_K || r.base == DType::Q6_K;
  const bool mixed = k_quant || r.base == DType::Q4_0 || r.base == DType::Q4_1 ||
                     r.base == DType::Q5_0 || r.base == DType::Q5_1 || r.base == DType::Q8_0;
  DType t = r.base;
  const int64_t cols = dims[0];
  const int layer = layer_of(name), n = std::max(m.n_layer, 1);
  if (!mixed) return t;  // F16 / BF16 / F32: every matrix the same

  if (name == "output.weight" || (!m.has_output && name == "token_embd.weight")) {
    if (cols % traits(t).block_size != 0)
      t = DType::Q8_0;
    else if (t != DType::Q8_0)
      t = DType::Q6_K;
  } else if (contains(name, "attn_v.weight")) {
    if (rn == "Q2_K")
      t = m.n_gqa >= 4 ? DType::Q4_K : DType::Q3_K;
    else if (rn == "Q3_K_M")
      t = layer < 2 ? DType::Q5_K : DType::Q4_K;
    else if (rn == "Q3_K_L")
      t = DType::Q5_K;
    else if ((rn == "Q4_K_M" || rn == "Q5_K_M") && more_bits(layer, n))
      t = DType::Q6_K;
    else if (rn == "Q4_K_S" && layer < 4)
      t = DType::Q5_K;
  } else if (contains(name, "ffn_down")) {
    if (rn == "Q2_K")
      t = DType::Q3_K;
    else if (rn == "Q3_K_M")
      t = layer < n / 16 ? DType::Q5_K : DType::Q4_K;
    else if (rn == "Q3_K_L")
      t = DType::Q5_K;
    else if (rn == "Q4_K_M" && more_bits(layer, n))
      t = DType::Q6_K;
    else if (rn == "Q5_K_M" && more_bits(layer, n))
      t = DType::Q6_K;
    else if (rn == "Q4_K_S" && layer < n / 8)
      t = DType::Q5_K;
  } else if (contains(name, "attn_output.weight")) {
    if (rn == "Q2_K")
      t = DType::Q3_K;
    else if (rn == "Q3_K_M")
      t = DType::Q4_K;
    else if (rn == "Q3_K_L")
      t = DType::Q5_K;
  }
  if (cols % traits(t).block_size != 0) {
    t = fallback_for(t);
    if (cols % traits(t).block_size != 0) t = DType::F16;
    if (fallback) *fallback = true;
  }
  return t;
}

Result<QuantizeReport> quantize_gguf(const std::string& in_path, const std::string& out_path,
                                     const QuantRecipe& recipe, const QuantizeOptions& opt) {
  SF_ASSIGN_OR_RETURN(auto in, gguf::GgufFile::open(in_path));
  const gguf::GgufFile& f = *in;
  if (std::filesystem::exists(out_path) && std::filesystem::equivalent(in_path, out_path))
    return errorf("quantize: output %s is the input file", out_path.c_str());
  const std::string arch = f.get_string("general.architecture").value_or("");
  QuantModelInfo info;
  info.n_layer = static_cast<int>(f.get_int(arch + ".block_count").value_or(0));
  const int64_t heads = f.get_int(arch + ".attention.head_count").value_or(1);
  const int64_t kv = f.get_int(arch + ".attention.head_count_kv").value_or(heads);
  info.n_gqa = kv > 0 ? static_cast<int>(heads / kv) : 1;
  info.has_output = f.find_tensor("output.weight") != nullptr;

  GgufStreamWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  w.set("general.file_type", gguf::Value::u32(static_cast<uint32_t>(recipe.ftype)));
  w.set("general.quantization_version", gguf::Value::u32(2));

  // Every tensor's type first (it fixes the layout); then stream the data.
  QuantizeReport rep;
  for (const gguf::TensorInfo& t : f.tensors()) {
    bool fb = false;
    const DType dst = choose_quant_type(recipe, info, t.name, t.dims, t.type, &fb);
    if (dst != t.type && !traits(t.type).computable)
      return errorf("%s: tensor '%s' has type %s, which Starfire cannot read", in_path.c_str(),
                    t.name.c_str(), type_name(t.type));
    rep.n_fallback += fb;
    rep.plan.emplace_back(t.name, dst);
    SF_RETURN_IF_ERROR(w.declare(t.name, dst, t.dims));
  }
  SF_RETURN_IF_ERROR(w.open(out_path));

  ThreadPool pool(opt.n_threads);
  size_t done = 0;
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const gguf::TensorInfo& t = f.tensors()[i];
    const DType dst = rep.plan[i].second;
    rep.n_params += static_cast<uint64_t>(t.n_elements());
    rep.bytes_in += t.n_bytes;
    if (dst == t.type) {
      SF_RETURN_IF_ERROR(w.write_next(t.data, t.n_bytes));
    } else {
      if (!is_float(t.type)) rep.requantized = true;
      const int64_t cols = t.dims[0], rows = t.n_rows();
      const size_t src_rb = row_bytes(t.type, cols), dst_rb = row_bytes(dst, cols);
      std::string out(dst_rb * rows, '\0');
      pool.parallel_for(rows, 8, [&](int64_t b, int64_t e, int) {
        std::vector<float> row(cols);
        for (int64_t r = b; r < e; ++r) {
          dequantize_row_ref(t.type, t.data + r * src_rb, row.data(), cols);
          quantize_row_ref(dst, row.data(), &out[r * dst_rb], cols);
        }
      });
      SF_RETURN_IF_ERROR(w.write_next(out.data(), out.size()));
    }
    rep.bytes_out += w.bytes_of(i);
    auto& bt = rep.by_type[type_name(dst)];
    bt.first++;
    bt.second += w.bytes_of(i);
    if (opt.progress) opt.progress(++done, f.tensors().size(), rep.bytes_out);
  }
  SF_RETURN_IF_ERROR(w.finish());
  std::error_code ec;
  rep.file_bytes = std::filesystem::file_size(out_path, ec);
  return rep;
}

}  // namespace sf
