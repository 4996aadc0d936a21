// Export of a trained model as a GGUF the engine loads: the metadata keys
// the loader reads (models/model_loader.cpp, as models/random_model.cpp
// writes them), every weight under its GGUF name, LoRA adapters merged into
// their base weights (W + alpha/rank * B A). Written tensor by tensor
// (GgufStreamWriter), so only one f32 matrix is in memory at a time.
#include <algorithm>
#include <cstring>

#include "core/quant.h"
#include "core/threadpool.h"
#include "models/gguf_hparams.h"
#include "models/gguf_stream.h"
#include "models/quantize.h"
#include "train/model_impl.h"
#include "train/ops/linear.h"

namespace sf::train::detail {
namespace {

bool exportable(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::Q8_0:
    case DType::Q6_K:
    case DType::Q5_K:
    case DType::Q5_1:
    case DType::Q5_0:
    case DType::Q4_K:
    case DType::Q4_1:
    case DType::Q4_0:
    case DType::Q3_K:
    case DType::Q2_K:
      return true;
    default:
      return false;
  }
}

struct Item {
  std::string name;
  const Net<float>::Mat* mat = nullptr;     // 2-D
  const Net<float>::Vec* vec = nullptr;     // 1-D
  const std::vector<float>* raw = nullptr;  // rope_freqs
  DType type = DType::F32;
};

}  // namespace

Status export_net(const Net<float>& net, const std::string& path, DType type,
                  const gguf::GgufFile* kv_source) {
  if (!exportable(type))
    return errorf(
        "export: cannot write weights as %s (use F32, F16, BF16, Q8_0, Q6_K, Q5_K, "
        "Q5_1, Q5_0, Q4_K, Q4_1, Q4_0, Q3_K or Q2_K)",
        type_name(type));
  const ModelConfig& c = net.cfg;
  GgufStreamWriter w;
  const std::string a = c.arch;
  w.set("general.architecture", gguf::Value::str(a));
  w.set("general.name", gguf::Value::str(c.name.empty() ? "starfire-trained" : c.name));
  // The recipe of the same name when there is one (its per-tensor rules, e.g.
  // a Q6_K output head for K-quants, and general.file_type); else `type` for
  // every matrix whose rows fit its blocks.
  auto recipe = find_recipe(type_name(type));
  const QuantRecipe rc = recipe ? *recipe : QuantRecipe{type_name(type), -1, type};
  if (rc.ftype >= 0) w.set("general.file_type", gguf::Value::u32(rc.ftype));
  for (auto& [k, v] : hparams_kv(c)) w.set(std::move(k), std::move(v));
  if (kv_source)
    for (const auto& [key, value] : kv_source->metadata())
      if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);

  std::vector<Item> items;
  auto add_mat = [&](std::string name, const Net<float>::Mat& m) {
    items.push_back({std::move(name), &m, nullptr, nullptr});
  };
  auto add_vec = [&](std::string name, const Net<float>::Vec& v) {
    if (v.present) items.push_back({std::move(name), nullptr, &v, nullptr});
  };
  add_mat("token_embd.weight", net.tok_embd);
  add_vec("output_norm.weight", net.output_norm);
  if (!c.tied_output) add_mat("output.weight", net.output);
  if (!c.rope_freq_factors.empty())
    items.push_back({"rope_freqs.weight", nullptr, nullptr, &c.rope_freq_factors});
  for (int l = 0; l < c.n_layer; ++l) {
    const auto& L = net.layers[l];
    auto n = [&](const std::string& s) { return "blk." + std::to_string(l) + "." + s; };
    add_vec(n("attn_norm.weight"), L.attn_norm);
    for (int p : {kQ, kK, kV, kO}) add_mat(n(std::string(proj_name(p)) + ".weight"), L.mat[p]);
    for (int p : {kQ, kK, kV}) add_vec(n(std::string(proj_name(p)) + ".bias"), L.bias[p]);
    add_vec(n("attn_q_norm.weight"), L.q_norm);
    add_vec(n("attn_k_norm.weight"), L.k_norm);
    add_vec(n("ffn_norm.weight"), L.ffn_norm);
    for (int p : {kGate, kUp, kDown}) add_mat(n(std::string(proj_name(p)) + ".weight"), L.mat[p]);
  }
  auto vec_len = [&](const Item& it) -> size_t {
    if (it.raw) return it.raw->size();
    return it.vec->param >= 0 ? net.layout[it.vec->param].size : it.vec->frozen.size();
  };
  QuantModelInfo info;
  info.n_layer = c.n_layer;
  info.n_gqa = c.n_head / c.n_head_kv;
  info.has_output = !c.tied_output;
  for (Item& it : items) {
    if (it.mat) {
      it.type = choose_quant_type(rc, info, it.name, {it.mat->cols, it.mat->rows}, DType::F32);
      SF_RETURN_IF_ERROR(w.declare(it.name, it.type, {it.mat->cols, it.mat->rows}));
    } else {
      SF_RETURN_IF_ERROR(w.declare(it.name, DType::F32, {static_cast<int64_t>(vec_len(it))}));
    }
  }
  SF_RETURN_IF_ERROR(w.open(path));

  ThreadPool pool(0);
  const ops::Exec ex{&pool, GemmPrecision::F32};
  std::vector<float> rows;
  std::vector<uint8_t> bytes;
  for (const Item& it : items) {
    if (!it.mat) {
      const float* p = it.raw ? it.raw->data() : net.val(*it.vec);
      SF_RETURN_IF_ERROR(w.write_next(p, vec_len(it) * sizeof(float)));
      continue;
    }
    const auto& m = *it.mat;
    const float* src;
    if (m.trainable()) {
      src = net.P(m.param);
    } else {
      rows.resize(static_cast<size_t>(m.rows * m.cols));
      ops::dequantize_rows<float>(m.frozen, 0, m.rows, rows.data(), ex);
      if (m.lora_a >= 0)  // merge: W += alpha/rank * B A
        ops::gemm<float>(Trans::No, Trans::No, m.rows, m.cols, net.lora_rank, net.lora_scale,
                         net.P(m.lora_b), net.lora_rank, net.P(m.lora_a), m.cols, 1.0f, rows.data(),
                         m.cols, ex);
      src = rows.data();
    }
    const size_t rb = row_bytes(it.type, m.cols);
    bytes.resize(rb * m.rows);
    pool.parallel_for(m.rows, 16, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r)
        quantize_row_ref(it.type, src + r * m.cols, bytes.data() + r * rb, m.cols);
    });
    SF_RETURN_IF_ERROR(w.write_next(bytes.data(), bytes.size()));
  }
  return w.finish().with_context("export " + path);
}

}  // namespace sf::train::detail
