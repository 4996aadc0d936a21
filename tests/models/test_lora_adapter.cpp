// LoRA adapters: GGUF and PEFT files round-trip; applying adapters at
// inference (LoraSet through DecoderScratch::lora) gives the logits of the
// merged model; the PEFT export's q/k row order is right on the Hugging Face
// model (checked against a merge computed here in HF layout, independently of
// the library's permutation); hostile adapter files give errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/cpu.h"
#include "core/threadpool.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "models/decoder.h"
#include "models/hf_convert.h"
#include "models/kv_cache.h"
#include "models/lora_adapter.h"
#include "models/lora_apply.h"
#include "models/lora_merge.h"
#include "models/model.h"
#include "models/random_model.h"
#include "test_util.h"

namespace sf {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::vector<int32_t> kPrompt = {1, 7, 42, 99, 3, 250, 17, 64};

std::vector<float> randn(size_t n, float std, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, std);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A random adapter on `projs` of every layer (B nonzero, unlike a fresh
// PEFT init, so it changes the output).
LoraAdapter random_adapter(const ModelConfig& c, int rank, float alpha, uint32_t seed,
                           std::vector<LoraProj> projs = {LoraProj::Q, LoraProj::K, LoraProj::V,
                                                          LoraProj::O, LoraProj::Gate, LoraProj::Up,
                                                          LoraProj::Down}) {
  std::mt19937 rng(seed);
  LoraAdapter a;
  a.arch = c.arch;
  a.rank = rank;
  a.alpha = alpha;
  for (int l = 0; l < c.n_layer; ++l)
    for (LoraProj p : projs) {
      LoraTensorPair t;
      t.target = lora_target_name(l, p);
      t.rank = rank;
      lora_proj_shape(c, p, &t.out, &t.in);
      t.a = randn(static_cast<size_t>(t.rank * t.in), 0.2f, rng);
      t.b = randn(static_cast<size_t>(t.out * t.rank), 0.2f, rng);
      a.tensors.push_back(std::move(t));
    }
  return a;
}

std::shared_ptr<const Model> load(const std::string& path) {
  auto m = Model::load(path);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : nullptr;
}

std::string random_model(const std::string& arch, DType type, const std::string& tag) {
  RandomModelSpec spec;
  spec.arch = arch;
  spec.type = type;
  spec.seed = 5;
  spec.tied_output = arch != "llama";
  const std::string path = test::tmp_path("lora_" + arch + "_" + tag + ".gguf").string();
  Status st = write_random_model(spec, path);
  EXPECT_TRUE(st.ok()) << st.message();
  return path;
}

// Logits of every prompt position. by_token: one token per forward pass
// (the m = 1 decode path) instead of one batch.
std::vector<float> run_prompt(const Model& m, const std::vector<int32_t>& ids,
                              const LoraSet* lora = nullptr, bool by_token = false) {
  const ModelConfig& c = m.config();
  const int n = static_cast<int>(ids.size());
  KvCache cache(c, n, 1);
  DecoderScratch s(m, n, 2);
  s.lora = lora;
  ThreadPool pool(2);
  std::vector<float> logits(ids.size() * c.n_vocab);
  if (by_token) {
    for (int i = 0; i < n; ++i) {
      Batch b;
      b.add(ids[i], i, 0, true);
      Status st = forward(m, b, cache, s, pool, logits.data() + static_cast<size_t>(i) * c.n_vocab);
      EXPECT_TRUE(st.ok()) << st.message();
    }
    return logits;
  }
  Batch b;
  for (int i = 0; i < n; ++i) b.add(ids[i], i, 0, true);
  Status st = forward(m, b, cache, s, pool, logits.data());
  EXPECT_TRUE(st.ok()) << st.message();
  return logits;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

std::shared_ptr<const LoraSet> make_set(const Model& m, const std::vector<LoraAdapter>& a) {
  auto s = LoraSet::create(m, a);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : nullptr;
}

std::shared_ptr<const Model> merged(const Model& m, const std::vector<LoraAdapter>& a,
                                    std::optional<DType> type, const std::string& tag) {
  const std::string out = test::tmp_path("lora_merged_" + tag + ".gguf").string();
  LoraMergeOptions opt;
  opt.out_type = type;
  opt.n_threads = 2;
  auto rep = merge_lora(m, a, out, opt);
  EXPECT_TRUE(rep.ok()) << rep.status().message();
  return load(out);
}

void expect_same_adapter(const LoraAdapter& x, const LoraAdapter& y) {
  EXPECT_EQ(x.arch, y.arch);
  EXPECT_EQ(x.rank, y.rank);
  EXPECT_EQ(x.alpha, y.alpha);
  ASSERT_EQ(x.tensors.size(), y.tensors.size());
  for (size_t i = 0; i < x.tensors.size(); ++i) {
    const LoraTensorPair &p = x.tensors[i], &q = y.tensors[i];
    EXPECT_EQ(p.target, q.target);
    EXPECT_EQ(p.rank, q.rank);
    EXPECT_EQ(p.in, q.in);
    EXPECT_EQ(p.out, q.out);
    EXPECT_EQ(p.a, q.a) << p.target;
    EXPECT_EQ(p.b, q.b) << p.target;
  }
}

ModelConfig config_of(const std::string& arch) {
  auto m = load(random_model(arch, DType::F32, "cfg"));
  return m->config();
}

// ---------------------------------------------------------------- GGUF files

TEST(LoraGguf, RoundTripInLlamaCppLayout) {
  const ModelConfig c = config_of("llama");
  LoraAdapter a = random_adapter(c, 4, 8.0f, 1, {LoraProj::Q, LoraProj::V, LoraProj::Down});
  const std::string path = test::tmp_path("lora_rt.gguf").string();
  ASSERT_TRUE(save_lora_gguf(a, path).ok());

  // The keys and layout llama.cpp reads (convert_lora_to_gguf.py / llama-adapter.cpp).
  auto f = gguf::GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ((*f)->get_string("general.type"), "adapter");
  EXPECT_EQ((*f)->get_string("adapter.type"), "lora");
  EXPECT_EQ((*f)->get_string("general.architecture"), "llama");
  ASSERT_NE((*f)->find("adapter.lora.alpha"), nullptr);
  EXPECT_EQ((*f)->find("adapter.lora.alpha")->type, gguf::ValueType::FLOAT32);
  EXPECT_EQ((*f)->get_float("adapter.lora.alpha"), 8.0);
  const gguf::TensorInfo* ta = (*f)->find_tensor("blk.1.attn_q.weight.lora_a");
  const gguf::TensorInfo* tb = (*f)->find_tensor("blk.1.attn_q.weight.lora_b");
  ASSERT_TRUE(ta && tb);
  EXPECT_EQ(ta->dims, (std::vector<int64_t>{c.n_embd, 4}));   // {in, rank}
  EXPECT_EQ(tb->dims, (std::vector<int64_t>{4, c.q_dim()}));  // {rank, out}
  EXPECT_EQ(ta->type, DType::F32);
  EXPECT_EQ((*f)->tensors().size(), a.tensors.size() * 2);

  auto b = load_lora_gguf(path);
  ASSERT_TRUE(b.ok()) << b.status().message();
  expect_same_adapter(a, *b);
  EXPECT_EQ(b->scale, 1.0f);
  EXPECT_FLOAT_EQ(b->effective_scale(), 2.0f);
}

TEST(LoraGguf, ReadsF16TensorsAndMissingAlphaLikeLlamaCpp) {
  // convert_lora_to_gguf.py --outtype f16; without adapter.lora.alpha
  // llama.cpp applies B A unscaled.
  gguf::GgufWriter w;
  w.set("general.architecture", gguf::Value::str("qwen2"));
  w.set("general.type", gguf::Value::str("adapter"));
  w.set("adapter.type", gguf::Value::str("lora"));
  std::vector<uint16_t> a(64 * 2), b(2 * 64);
  for (size_t i = 0; i < a.size(); ++i) a[i] = 0x3c00;  // 1.0
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0xb800;  // -0.5
  ASSERT_TRUE(
      w.add_tensor("blk.0.attn_output.weight.lora_a", DType::F16, {64, 2}, a.data(), 256).ok());
  ASSERT_TRUE(
      w.add_tensor("blk.0.attn_output.weight.lora_b", DType::F16, {2, 64}, b.data(), 256).ok());
  // mergekit-style norm vectors are skipped, as llama.cpp skips them.
  std::vector<float> norm(64, 1.0f);
  ASSERT_TRUE(w.add_tensor("blk.0.attn_norm.weight", DType::F32, {64}, norm.data(), 256).ok());
  const std::string path = test::tmp_path("lora_f16.gguf").string();
  ASSERT_TRUE(w.write(path).ok());
  auto l = load_lora_gguf(path);
  ASSERT_TRUE(l.ok()) << l.status().message();
  ASSERT_EQ(l->tensors.size(), 1u);
  EXPECT_EQ(l->tensors[0].a[5], 1.0f);
  EXPECT_EQ(l->tensors[0].b[7], -0.5f);
  EXPECT_EQ(l->alpha, 2.0f);  // = rank
  EXPECT_EQ(l->effective_scale(), 1.0f);
  EXPECT_TRUE(validate_lora(*l, config_of("qwen2")).ok());
}

// ---------------------------------------------------------------- PEFT files

TEST(LoraPeft, WritesWhatPeftWrites) {
  // Names and config fields as PEFT's save_pretrained writes them for a
  // LoraConfig(task_type="CAUSAL_LM") on a *ForCausalLM model: the state-dict
  // key is "base_model.model." + the transformers module path + ".lora_A.weight"
  // ([r, in]) / ".lora_B.weight" ([out, r]); the config is LoraConfig.to_dict()
  // with sorted keys. (No python peft here to cross-check; these are the
  // names llama.cpp's convert_lora_to_gguf.py expects too.)
  const ModelConfig c = config_of("qwen2");
  LoraAdapter a = random_adapter(c, 4, 16.0f, 2, {LoraProj::Q, LoraProj::V, LoraProj::Gate});
  const fs::path dir = test::tmp_path("peft_qwen2");
  fs::remove_all(dir);
  ASSERT_TRUE(save_lora_peft(a, c, "Qwen/Qwen2.5-0.5B", dir.string()).ok());

  json cfg = json::parse(test::read_file(dir / "adapter_config.json"));
  EXPECT_EQ(cfg["peft_type"], "LORA");
  EXPECT_EQ(cfg["task_type"], "CAUSAL_LM");
  EXPECT_EQ(cfg["r"], 4);
  EXPECT_EQ(cfg["lora_alpha"], 16);
  EXPECT_TRUE(cfg["lora_alpha"].is_number_integer());
  EXPECT_EQ(cfg["lora_dropout"], 0.0);
  EXPECT_EQ(cfg["bias"], "none");
  EXPECT_EQ(cfg["fan_in_fan_out"], false);
  EXPECT_EQ(cfg["inference_mode"], true);
  EXPECT_EQ(cfg["use_rslora"], false);
  EXPECT_EQ(cfg["use_dora"], false);
  EXPECT_EQ(cfg["base_model_name_or_path"], "Qwen/Qwen2.5-0.5B");
  EXPECT_EQ(cfg["target_modules"], json({"q_proj", "v_proj", "gate_proj"}));
  EXPECT_TRUE(cfg["modules_to_save"].is_null());
  EXPECT_TRUE(cfg["layers_to_transform"].is_null());
  EXPECT_EQ(cfg["rank_pattern"], json::object());

  auto st = st::SafetensorsFile::open((dir / "adapter_model.safetensors").string());
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_EQ((*st)->metadata().at("format"), "pt");
  EXPECT_EQ((*st)->tensors().size(), a.tensors.size() * 2);
  const st::TensorInfo* qa =
      (*st)->find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  const st::TensorInfo* qb =
      (*st)->find("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
  const st::TensorInfo* ga =
      (*st)->find("base_model.model.model.layers.1.mlp.gate_proj.lora_A.weight");
  ASSERT_TRUE(qa && qb && ga);
  EXPECT_EQ(qa->shape, (std::vector<int64_t>{4, c.n_embd}));
  EXPECT_EQ(qb->shape, (std::vector<int64_t>{c.q_dim(), 4}));
  EXPECT_EQ(qa->dtype, "F32");

  // qwen2 keeps HF's q/k order: the round trip is exact and B is unchanged.
  auto b = load_lora_peft(dir.string(), c);
  ASSERT_TRUE(b.ok()) << b.status().message();
  expect_same_adapter(a, *b);
}

TEST(LoraPeft, LlamaQkRowsArePermutedToHfAndBack) {
  const ModelConfig c = config_of("llama");
  LoraAdapter a = random_adapter(c, 3, 6.0f, 3, {LoraProj::Q, LoraProj::K, LoraProj::V});
  const fs::path dir = test::tmp_path("peft_llama");
  fs::remove_all(dir);
  ASSERT_TRUE(save_lora_peft(a, c, "x", dir.string()).ok());
  auto st = st::SafetensorsFile::open((dir / "adapter_model.safetensors").string());
  ASSERT_TRUE(st.ok());
  // GGUF q row (h*hd + 2i + j) is HF row (h*hd + j*hd/2 + i) (convert_hf_to_gguf).
  const int hd = c.head_dim, half = hd / 2, r = 3;
  const st::TensorInfo* kb =
      (*st)->find("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight");
  const st::TensorInfo* vb =
      (*st)->find("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
  ASSERT_TRUE(kb && vb);
  const float* hf_k = reinterpret_cast<const float*>(kb->data);
  const LoraTensorPair& gk = a.tensors[3 + 1];  // layer 1, K
  ASSERT_EQ(gk.target, "blk.1.attn_k.weight");
  for (int h = 0; h < c.n_head_kv; ++h)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < half; ++i)
        for (int x = 0; x < r; ++x)
          ASSERT_EQ(hf_k[(h * hd + j * half + i) * r + x], gk.b[(h * hd + 2 * i + j) * r + x]);
  // v is not rotated, so not permuted.
  EXPECT_EQ(std::memcmp(vb->data, a.tensors[3 + 2].b.data(), vb->n_bytes()), 0);
  auto b = load_lora_peft(dir.string(), c);
  ASSERT_TRUE(b.ok()) << b.status().message();
  expect_same_adapter(a, *b);
}

// ------------------------------------------------------ inference vs merged

class LoraArch : public ::testing::TestWithParam<std::string> {};

TEST_P(LoraArch, TwoAdaptersAtInferenceMatchTheMergedModel) {
  auto m = load(random_model(GetParam(), DType::F32, "f32"));
  const ModelConfig& c = m->config();
  LoraAdapter a = random_adapter(c, 4, 8.0f, 11);
  LoraAdapter b = random_adapter(c, 2, 4.0f, 12, {LoraProj::Q, LoraProj::K, LoraProj::Up});
  a.scale = 0.7f;
  b.scale = -1.3f;
  auto set = make_set(*m, {a, b});
  const std::vector<float> base = run_prompt(*m, kPrompt);
  const std::vector<float> applied = run_prompt(*m, kPrompt, set.get());
  const std::vector<float> applied_tok = run_prompt(*m, kPrompt, set.get(), true);
  auto mm = merged(*m, {a, b}, DType::F32, GetParam());
  const std::vector<float> ref = run_prompt(*mm, kPrompt);
  EXPECT_GT(max_abs_diff(base, ref), 0.05f) << "the adapters must change the output";
  EXPECT_LT(max_abs_diff(applied, ref), 1e-4f);
  EXPECT_LT(max_abs_diff(applied_tok, ref), 1e-4f);
  // Like matmul, the adapter path gives a row the same bits whatever the batch.
  EXPECT_EQ(applied, applied_tok);
  // The base model itself is untouched (weights shared, not modified).
  EXPECT_EQ(run_prompt(*m, kPrompt), base);
}

TEST_P(LoraArch, ScaleZeroIsTheBaseModel) {
  auto m = load(random_model(GetParam(), DType::F32, "f32"));
  LoraAdapter a = random_adapter(m->config(), 4, 8.0f, 13);
  a.scale = 0.0f;
  auto set = make_set(*m, {a});
  EXPECT_TRUE(set->empty());
  EXPECT_EQ(run_prompt(*m, kPrompt, set.get()), run_prompt(*m, kPrompt));
}

INSTANTIATE_TEST_SUITE_P(All, LoraArch, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(LoraApply, Q8BaseMatchesMergedToF32) {
  auto m = load(random_model("qwen2", DType::Q8_0, "q8"));
  LoraAdapter a = random_adapter(m->config(), 8, 16.0f, 21);
  auto set = make_set(*m, {a});
  auto f32 = merged(*m, {a}, DType::F32, "q8_f32");
  // The scalar path dequantizes weight rows exactly, so adding B A x to the
  // Q8_0 product equals the product with dequant(W) + B A in f32.
  const Isa prev = active_isa();
  ASSERT_TRUE(set_isa(Isa::Scalar));
  const float d_scalar =
      max_abs_diff(run_prompt(*m, kPrompt, set.get()), run_prompt(*f32, kPrompt));
  set_isa(prev);
  EXPECT_LT(d_scalar, 1e-4f);
  // The native path rounds activations for the Q8_0 product (llama.cpp's ~1e-2).
  const float d_native =
      max_abs_diff(run_prompt(*m, kPrompt, set.get()), run_prompt(*f32, kPrompt));
  EXPECT_LT(d_native, 5e-2f);
  // Merging into Q8_0 again rounds the weights a second time.
  auto q8 = merged(*m, {a}, std::nullopt, "q8_q8");
  EXPECT_EQ(q8->file().find_tensor("blk.0.attn_q.weight")->type, DType::Q8_0);
  EXPECT_LT(max_abs_diff(run_prompt(*q8, kPrompt), run_prompt(*f32, kPrompt)), 0.1f);
}

TEST(LoraMerge, CopiesEverythingElse) {
  const std::string path = random_model("llama", DType::F16, "f16");
  auto m = load(path);
  LoraAdapter a = random_adapter(m->config(), 2, 2.0f, 31, {LoraProj::V});
  const std::string out = test::tmp_path("lora_merge_copy.gguf").string();
  auto rep = merge_lora(*m, {a}, out);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->n_merged, static_cast<size_t>(m->config().n_layer));
  auto in = gguf::GgufFile::open(path);
  auto o = gguf::GgufFile::open(out);
  ASSERT_TRUE(in.ok() && o.ok());
  ASSERT_EQ((*in)->metadata().size(), (*o)->metadata().size());
  for (size_t i = 0; i < (*in)->metadata().size(); ++i)
    EXPECT_EQ((*in)->metadata()[i].first, (*o)->metadata()[i].first);
  EXPECT_EQ((*o)->get_string("tokenizer.ggml.model"), (*in)->get_string("tokenizer.ggml.model"));
  ASSERT_EQ((*in)->tensors().size(), (*o)->tensors().size());
  for (size_t i = 0; i < (*in)->tensors().size(); ++i) {
    const gguf::TensorInfo &x = (*in)->tensors()[i], &y = (*o)->tensors()[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.type, y.type) << x.name;  // F16 stays F16
    const bool adapted = x.name.find("attn_v.weight") != std::string::npos;
    EXPECT_EQ(std::memcmp(x.data, y.data, x.n_bytes) == 0, !adapted) << x.name;
  }
  // An HF-loaded or mismatched output is refused.
  EXPECT_FALSE(merge_lora(*m, {a}, path).ok());
}

// ------------------------------------- PEFT on the HF model: independent check

fs::path hf_dir(const std::string& name) {
  return fs::path(__FILE__).parent_path().parent_path() / "data" / "hf" / name;
}

class LoraHf : public ::testing::TestWithParam<std::string> {};

TEST_P(LoraHf, PeftAdapterOnHfModelMatchesGgufRoute) {
  // A PEFT adapter in the HF layout written here by hand; the reference is
  // the HF checkpoint with W + alpha/r B A merged here, in HF layout, and run
  // from the folder (neox RoPE, no permutation anywhere). The adapter applied
  // (a) to the converted GGUF (load_lora_peft permutes q/k lora_B for llama)
  // and (b) to the HF folder itself must both give the reference logits.
  const fs::path src = hf_dir(GetParam());
  auto hf = load(src.string());
  ASSERT_TRUE(hf);
  const ModelConfig& c = hf->config();
  const int r = 4;
  const double alpha = 12.0, s = alpha / r;
  std::mt19937 rng(41);
  auto wset = st::SafetensorsSet::open(src.string());
  ASSERT_TRUE(wset.ok());

  const fs::path peft = test::tmp_path("hf_peft_" + GetParam());
  const fs::path merged_dir = test::tmp_path("hf_merged_" + GetParam());
  fs::remove_all(peft);
  fs::remove_all(merged_dir);
  fs::create_directories(peft);
  fs::create_directories(merged_dir);
  st::SafetensorsWriter adapter, weights;
  std::set<std::string> adapted;
  for (int l = 0; l < c.n_layer; ++l)
    for (const char* mod : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
      const std::string name = "model.layers." + std::to_string(l) + "." + mod;
      const st::TensorInfo* w = wset->find(name + ".weight");
      ASSERT_TRUE(w && w->dtype == "F32");
      const int64_t out = w->shape[0], in = w->shape[1];
      std::vector<float> A = randn(r * in, 0.2f, rng), B = randn(out * r, 0.2f, rng);
      ASSERT_TRUE(adapter
                      .add_tensor("base_model.model." + name + ".lora_A.weight", DType::F32,
                                  {r, in}, A.data(), A.size() * 4)
                      .ok());
      ASSERT_TRUE(adapter
                      .add_tensor("base_model.model." + name + ".lora_B.weight", DType::F32,
                                  {out, r}, B.data(), B.size() * 4)
                      .ok());
      std::vector<float> W(out * in);
      std::memcpy(W.data(), w->data, W.size() * 4);
      for (int64_t o = 0; o < out; ++o)
        for (int64_t i = 0; i < in; ++i) {
          double d = 0;
          for (int j = 0; j < r; ++j) d += static_cast<double>(B[o * r + j]) * A[j * in + i];
          W[o * in + i] += static_cast<float>(s * d);
        }
      ASSERT_TRUE(
          weights.add_tensor(name + ".weight", DType::F32, {out, in}, W.data(), W.size() * 4).ok());
      adapted.insert(name + ".weight");
    }
  for (const st::TensorInfo* t : wset->tensors()) {
    if (!adapted.count(t->name)) {
      ASSERT_TRUE(weights.add_tensor(t->name, *t->type, t->shape, t->data, t->n_bytes()).ok());
    }
  }
  adapter.set_metadata("format", "pt");
  ASSERT_TRUE(adapter.write((peft / "adapter_model.safetensors").string()).ok());
  json cfg = {{"peft_type", "LORA"},
              {"r", r},
              {"lora_alpha", alpha},
              {"target_modules",
               {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}},
              {"task_type", "CAUSAL_LM"},
              {"bias", "none"},
              {"use_rslora", false}};
  test::write_file(peft / "adapter_config.json", cfg.dump(2));
  ASSERT_TRUE(weights.write((merged_dir / "model.safetensors").string()).ok());
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(src / f, merged_dir / f);
  auto ref_model = load(merged_dir.string());
  const std::vector<float> ref = run_prompt(*ref_model, kPrompt);
  EXPECT_GT(max_abs_diff(ref, run_prompt(*hf, kPrompt)), 0.05f);

  // (a) the converted GGUF + the adapter in GGUF convention.
  const std::string gguf_path = test::tmp_path("hf_lora_" + GetParam() + ".gguf").string();
  ConvertOptions co;
  co.out_type = DType::F32;
  ASSERT_TRUE(convert_hf_to_gguf(src.string(), gguf_path, co).ok());
  auto g = load(gguf_path);
  auto ga = load_lora_peft(peft.string(), g->config());
  ASSERT_TRUE(ga.ok()) << ga.status().message();
  EXPECT_LT(max_abs_diff(run_prompt(*g, kPrompt, make_set(*g, {*ga}).get()), ref), 1e-4f);
  // The GGUF adapter file written from it is what llama.cpp would load.
  const std::string lora_gguf = test::tmp_path("hf_lora_" + GetParam() + "_adapter.gguf").string();
  ASSERT_TRUE(save_lora_gguf(*ga, lora_gguf).ok());
  auto ga2 = load_lora_gguf(lora_gguf);
  ASSERT_TRUE(ga2.ok());
  EXPECT_LT(max_abs_diff(run_prompt(*g, kPrompt, make_set(*g, {*ga2}).get()), ref), 1e-4f);

  // (b) the HF folder + the same adapter: LoraSet puts q/k rows back in HF order.
  auto ha = load_lora_peft(peft.string(), c);
  ASSERT_TRUE(ha.ok()) << ha.status().message();
  EXPECT_LT(max_abs_diff(run_prompt(*hf, kPrompt, make_set(*hf, {*ha}).get()), ref), 1e-4f);

  // Exporting back to PEFT reproduces the hand-written HF tensors exactly.
  const fs::path back = test::tmp_path("hf_peft_back_" + GetParam());
  fs::remove_all(back);
  ASSERT_TRUE(save_lora_peft(*ga, g->config(), "x", back.string()).ok());
  auto orig = st::SafetensorsFile::open((peft / "adapter_model.safetensors").string());
  auto again = st::SafetensorsFile::open((back / "adapter_model.safetensors").string());
  ASSERT_TRUE(orig.ok() && again.ok());
  ASSERT_EQ((*orig)->tensors().size(), (*again)->tensors().size());
  for (const st::TensorInfo& t : (*orig)->tensors()) {
    const st::TensorInfo* u = (*again)->find(t.name);
    ASSERT_TRUE(u) << t.name;
    EXPECT_EQ(u->shape, t.shape);
    EXPECT_EQ(std::memcmp(u->data, t.data, t.n_bytes()), 0) << t.name;
  }
}

INSTANTIATE_TEST_SUITE_P(All, LoraHf, ::testing::Values("llama", "qwen3"));

TEST(LoraPeft, RsLoraAndAlphaPatternAreFoldedIntoB) {
  const ModelConfig c = config_of("qwen3");
  LoraAdapter a = random_adapter(c, 4, 8.0f, 51, {LoraProj::Q, LoraProj::V});
  const fs::path dir = test::tmp_path("peft_rslora");
  fs::remove_all(dir);
  ASSERT_TRUE(save_lora_peft(a, c, "x", dir.string()).ok());
  json cfg = json::parse(test::read_file(dir / "adapter_config.json"));
  cfg["use_rslora"] = true;                                   // alpha / sqrt(r)
  cfg["alpha_pattern"] = {{"layers.1.self_attn.v_proj", 2}};  // this module: 2 / sqrt(r)
  test::write_file(dir / "adapter_config.json", cfg.dump(2));
  auto b = load_lora_peft(dir.string(), c);
  ASSERT_TRUE(b.ok()) << b.status().message();
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const double want = (a.tensors[i].target == "blk.1.attn_v.weight" ? 2.0 : 8.0) / std::sqrt(4.0);
    const double got = b->tensors[i].b[3] / a.tensors[i].b[3] * lora_pair_scale(*b, b->tensors[i]);
    EXPECT_NEAR(got, want, 1e-5) << a.tensors[i].target;
  }
}

// ------------------------------------------------------------ hostile files

TEST(LoraErrors, WrongArchShapeTargetAndRank) {
  auto m = load(random_model("llama", DType::F32, "f32"));
  const ModelConfig& c = m->config();
  auto err = [&](LoraAdapter a) {
    auto s = LoraSet::create(*m, {a});
    EXPECT_FALSE(s.ok());
    return s.ok() ? std::string() : s.status().message();
  };
  LoraAdapter a = random_adapter(c, 2, 2.0f, 61, {LoraProj::Q});
  LoraAdapter x = a;
  x.arch = "qwen2";
  EXPECT_NE(err(x).find("architecture 'qwen2' but the model is 'llama'"), std::string::npos);
  x = a;
  x.tensors[0].target = "blk.0.attn_norm.weight";
  EXPECT_NE(err(x).find("not a projection"), std::string::npos);
  x = a;
  x.tensors[0].target = "blk.9.attn_q.weight";
  EXPECT_NE(err(x).find("only 2 layers"), std::string::npos);
  x = a;
  x.tensors[0].in = 32;
  x.tensors[0].a.resize(2 * 32);
  EXPECT_NE(err(x).find("another base model"), std::string::npos);
  x = a;
  x.tensors[0].rank = 0;
  x.tensors[0].a.clear();
  x.tensors[0].b.clear();
  EXPECT_NE(err(x).find("rank 0"), std::string::npos);
  x = a;
  x.tensors.push_back(x.tensors[0]);
  EXPECT_NE(err(x).find("two pairs"), std::string::npos);
}

std::string write_adapter(const std::string& tag,
                          const std::function<void(gguf::GgufWriter&)>& fill) {
  gguf::GgufWriter w;
  w.set("general.architecture", gguf::Value::str("llama"));
  w.set("general.type", gguf::Value::str("adapter"));
  w.set("adapter.type", gguf::Value::str("lora"));
  w.set("adapter.lora.alpha", gguf::Value::f32(4));
  fill(w);
  const std::string path = test::tmp_path("lora_bad_" + tag + ".gguf").string();
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

TEST(LoraErrors, HostileGgufFiles) {
  std::vector<float> a(64 * 2, 0.1f), b(2 * 64, 0.1f);
  auto expect_error = [](const std::string& path, const std::string& needle) {
    auto l = load_lora_gguf(path);
    ASSERT_FALSE(l.ok()) << path;
    EXPECT_NE(l.status().message().find(needle), std::string::npos) << l.status().message();
  };
  expect_error(
      write_adapter(
          "no_b",
          [&](gguf::GgufWriter& w) {
            (void)w.add_tensor("blk.0.attn_q.weight.lora_a", DType::F32, {64, 2}, a.data(), 512);
          }),
      "has lora_a but no lora_b");
  expect_error(
      write_adapter(
          "rank_mismatch",
          [&](gguf::GgufWriter& w) {
            (void)w.add_tensor("blk.0.attn_q.weight.lora_a", DType::F32, {64, 2}, a.data(), 512);
            (void)w.add_tensor("blk.0.attn_q.weight.lora_b", DType::F32, {1, 128}, b.data(), 512);
          }),
      "ranks (2, 1) differ");
  {
    // Rank 0: our writer refuses empty dimensions, so patch a rank-1 file's
    // lora_a dims {64, 1} to {64, 0}.
    const std::string path = write_adapter("rank0", [&](gguf::GgufWriter& w) {
      (void)w.add_tensor("blk.0.attn_q.weight.lora_a", DType::F32, {64, 1}, a.data(), 256);
      (void)w.add_tensor("blk.0.attn_q.weight.lora_b", DType::F32, {1, 64}, b.data(), 256);
    });
    std::string bytes = test::read_file(path);
    const std::string name = "blk.0.attn_q.weight.lora_a";
    const size_t at = bytes.find(name);
    ASSERT_NE(at, std::string::npos);
    const size_t dim1 = at + name.size() + 4 + 8;  // after n_dims (u32) and dims[0] (u64)
    ASSERT_EQ(bytes[dim1], 1);
    bytes[dim1] = 0;
    test::write_file(path, bytes);
    expect_error(path, "'blk.0.attn_q.weight.lora_a' dimension 1 is 0");
  }
  expect_error(
      write_adapter("stray",
                    [&](gguf::GgufWriter& w) {
                      (void)w.add_tensor("token_embd.weight", DType::F32, {64, 2}, a.data(), 512);
                    }),
      "neither a .lora_a nor a .lora_b");
  expect_error(write_adapter("empty", [](gguf::GgufWriter&) {}), "no lora_a/lora_b");
  // A model is not an adapter.
  expect_error(random_model("llama", DType::F32, "f32"), "not 'adapter'");
  expect_error(test::tmp_path("does_not_exist.gguf").string(), "does_not_exist");

  // A valid file whose shapes do not fit the model: error at resolve time.
  const std::string wrong = write_adapter("shape", [&](gguf::GgufWriter& w) {
    (void)w.add_tensor("blk.0.attn_k.weight.lora_a", DType::F32, {64, 2}, a.data(), 512);
    (void)w.add_tensor("blk.0.attn_k.weight.lora_b", DType::F32, {2, 64}, b.data(), 512);
  });
  auto l = load_lora_gguf(wrong);
  ASSERT_TRUE(l.ok()) << l.status().message();
  auto m = load(random_model("llama", DType::F32, "f32"));
  auto s = LoraSet::create(*m, {*l});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("blk.0.attn_k.weight"), std::string::npos);
  EXPECT_NE(s.status().message().find("64 x 64"), std::string::npos) << s.status().message();
}

TEST(LoraErrors, HostilePeftFolders) {
  const ModelConfig c = config_of("qwen2");
  LoraAdapter a = random_adapter(c, 2, 4.0f, 71, {LoraProj::Q});
  const fs::path dir = test::tmp_path("peft_bad");
  auto fresh = [&] {
    fs::remove_all(dir);
    EXPECT_TRUE(save_lora_peft(a, c, "x", dir.string()).ok());
    return json::parse(test::read_file(dir / "adapter_config.json"));
  };
  auto expect_error = [&](const std::string& needle, const ModelConfig& cfg) {
    auto l = load_lora_peft(dir.string(), cfg);
    ASSERT_FALSE(l.ok());
    EXPECT_NE(l.status().message().find(needle), std::string::npos) << l.status().message();
  };
  json cfg = fresh();
  cfg["use_dora"] = true;
  test::write_file(dir / "adapter_config.json", cfg.dump());
  expect_error("DoRA", c);
  cfg = fresh();
  cfg["peft_type"] = "IA3";
  test::write_file(dir / "adapter_config.json", cfg.dump());
  expect_error("only LORA", c);
  cfg = fresh();
  cfg["bias"] = "lora_only";
  test::write_file(dir / "adapter_config.json", cfg.dump());
  expect_error("bias", c);
  fresh();
  fs::remove(dir / "adapter_config.json");
  expect_error("no adapter_config.json", c);
  fresh();
  fs::remove(dir / "adapter_model.safetensors");
  expect_error("no adapter_model.safetensors", c);
  // Wrong base (PEFT folders name no architecture, so shapes tell).
  fresh();
  ModelConfig other = c;
  other.n_embd = 32;
  expect_error("another base model", other);
  // A full weight among the adapter tensors (modules_to_save).
  fresh();
  st::SafetensorsWriter w;
  std::vector<float> v(64 * 2, 0.0f);
  (void)w.add_tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", DType::F32,
                     {2, 64}, v.data(), 512);
  (void)w.add_tensor("base_model.model.lm_head.modules_to_save.default.weight", DType::F32, {2, 64},
                     v.data(), 512);
  ASSERT_TRUE(w.write((dir / "adapter_model.safetensors").string()).ok());
  expect_error("modules_to_save", c);
}

}  // namespace
}  // namespace sf
