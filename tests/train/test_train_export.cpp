// A model trained here must be the model the engine runs: export_gguf then
// Model::load_gguf + sf::forward gives forward_logits' logits (F32 within
// 1e-4; F16 / Q8_0 load and stay close), from_model of the export gives the
// same parameters back, and LoRA on quantized bases (Q8_0, Q4_K) starts at
// the base model's loss and exports a merged model the engine agrees with.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/cpu.h"
#include "core/threadpool.h"
#include "formats/gguf.h"
#include "models/decoder.h"
#include "models/random_model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "train/model.h"

namespace sf::train {
namespace {

const std::vector<int32_t> kIds = {1, 17, 5, 33, 2, 29, 29, 8, 12, 0, 36};

// The engine's logits for every position of one sequence.
std::vector<float> engine_logits(const Model& model, const std::vector<int32_t>& ids) {
  ThreadPool pool(2);
  const int n = static_cast<int>(ids.size());
  KvCache cache(model.config(), n, 1);
  DecoderScratch scratch(model, n, pool.size());
  Batch batch;
  for (int i = 0; i < n; ++i) batch.add(ids[i], i, 0, true);
  std::vector<float> logits(static_cast<size_t>(n) * model.config().n_vocab);
  Status s = forward(model, batch, cache, scratch, pool, logits.data());
  EXPECT_TRUE(s.ok()) << s.message();
  return logits;
}

std::vector<float> train_logits(TrainModel& m, const std::vector<int32_t>& ids) {
  ThreadPool pool(2);
  std::vector<float> out(ids.size() * m.config().n_vocab);
  Status s = m.forward_logits(ids.data(), static_cast<int>(ids.size()), out.data(), pool);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

// max |a - b| / max(1, max |b|)
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0, mag = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, double(std::fabs(a[i] - b[i])));
    mag = std::max(mag, double(std::fabs(b[i])));
  }
  return err / mag;
}

ModelConfig config(const std::string& arch, bool tied) {
  ModelConfig c;
  c.arch = arch;
  c.n_vocab = 37;
  c.n_embd = 32;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.n_ff = 64;
  c.n_ctx_train = 32;
  c.tied_output = tied;
  if (arch == "qwen3") {
    c.head_dim = 16;  // not n_embd / n_head: qwen3 stores it
    c.rope_base = 1000000.0f;
  }
  if (arch == "llama") c.rope_freq_factors = {1.0f, 2.0f, 4.0f, 8.0f};  // Llama 3 style
  return c;
}

// Bigger weights than the init so logits differ clearly between positions.
void spread(TrainModel& m, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> n(0.0f, 0.15f);
  for (float& p : m.params().data) p += n(g);
}

// Engine path that dequantizes rows to f32 (the arithmetic the trainer's
// frozen weights use), restored afterwards.
class ScalarIsa {
 public:
  ScalarIsa() : prev_(active_isa()) { set_isa(Isa::Scalar); }
  ~ScalarIsa() { set_isa(prev_); }

 private:
  Isa prev_;
};

struct ExportCase {
  const char* arch;
  bool tied;
};

class Export : public ::testing::TestWithParam<ExportCase> {};

TEST_P(Export, EngineLogitsEqualForwardLogits) {
  auto r = TrainModel::create(config(GetParam().arch, GetParam().tied), 5);
  ASSERT_TRUE(r.ok()) << r.status().message();
  TrainModel& m = **r;
  spread(m, 1);
  const std::vector<float> ours = train_logits(m, kIds);
  const std::string tag = std::string(GetParam().arch) + (GetParam().tied ? "_tied" : "");

  const std::string f32 = test::tmp_path("export_" + tag + "_f32.gguf").string();
  ASSERT_TRUE(m.export_gguf(f32, DType::F32, nullptr).ok());
  auto loaded = Model::load_gguf(f32);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ((*loaded)->config().head_dim, m.config().head_dim);
  EXPECT_EQ((*loaded)->config().tied_output, GetParam().tied);
  const std::vector<float> eng = engine_logits(**loaded, kIds);
  EXPECT_LT(rel_diff(ours, eng), 1e-4);
  const std::vector<int32_t> one = {kIds[3]};  // a single position too
  EXPECT_LT(rel_diff(train_logits(m, one), engine_logits(**loaded, one)), 1e-4);
  // The comparison has teeth: positions differ from each other.
  std::vector<float> p0(eng.begin(), eng.begin() + 37),
      p5(eng.begin() + 5 * 37, eng.begin() + 6 * 37);
  EXPECT_GT(rel_diff(p0, p5), 1e-2);

  // from_model of the export gives the same parameters, bit for bit.
  auto back = TrainModel::from_model(**loaded);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ((*back)->layout().total(), m.layout().total());
  for (const ParamTensor& t : m.layout().tensors()) ASSERT_GE((*back)->layout().find(t.name), 0);
  EXPECT_EQ((*back)->params().data, m.params().data);
  EXPECT_EQ((*back)->config().rope_freq_factors, m.config().rope_freq_factors);

  // F16 and Q8_0 exports load and run. On the engine's dequantizing path
  // their logits equal ours for the rounded weights (from_model of the
  // loaded file), and stay near the f32 logits (only the weights' rounding
  // differs: F16 ~1e-3, Q8_0 a few 1e-2 of the largest logit at these sizes).
  ScalarIsa scalar;
  for (DType t : {DType::F16, DType::Q8_0}) {
    const std::string p = test::tmp_path("export_" + tag + "_" + type_name(t) + ".gguf").string();
    Status s = m.export_gguf(p, t, nullptr);
    ASSERT_TRUE(s.ok()) << s.message();
    auto q = Model::load_gguf(p);
    ASSERT_TRUE(q.ok()) << q.status().message();
    for (const auto& rec : (*q)->tensor_records()) {
      if (rec.name == "blk.0.ffn_up.weight") {
        EXPECT_EQ(rec.type, t);
      }
    }
    const std::vector<float> lq = engine_logits(**q, kIds);
    auto rounded = TrainModel::from_model(**q);
    ASSERT_TRUE(rounded.ok()) << rounded.status().message();
    EXPECT_LT(rel_diff(train_logits(**rounded, kIds), lq), 1e-4) << type_name(t);
    const double d = rel_diff(lq, ours);
    EXPECT_LT(d, t == DType::F16 ? 1e-2 : 1e-1) << type_name(t);
    EXPECT_GT(d, 0.0) << type_name(t) << " should round something";
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, Export,
                         ::testing::Values(ExportCase{"llama", false}, ExportCase{"qwen2", true},
                                           ExportCase{"qwen3", false}),
                         [](const auto& info) { return std::string(info.param.arch); });

TEST(ExportErrors, BadTypeAndTokenizerKeysCopied) {
  auto r = TrainModel::create(config("llama", false), 5);
  ASSERT_TRUE(r.ok());
  Status s = (*r)->export_gguf(test::tmp_path("bad.gguf").string(), DType::I8, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("I8"), std::string::npos) << s.message();

  // Tokenizer keys come from a source file.
  RandomModelSpec spec;
  spec.n_vocab = 37;
  spec.n_embd = 32;
  spec.n_ff = 64;
  spec.chat_template = "{{ messages }}";
  const std::string src = test::tmp_path("kv_source.gguf").string();
  ASSERT_TRUE(write_random_model(spec, src).ok());
  auto f = gguf::GgufFile::open(src);
  ASSERT_TRUE(f.ok());
  const std::string out = test::tmp_path("with_tokenizer.gguf").string();
  ASSERT_TRUE((*r)->export_gguf(out, DType::F32, f->get()).ok());
  auto g = gguf::GgufFile::open(out);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->get_string("tokenizer.chat_template"),
            std::optional<std::string>("{{ messages }}"));
  EXPECT_EQ((*g)->get_string("tokenizer.ggml.model"), std::optional<std::string>("llama"));
  auto loaded = Model::load_gguf(out);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  auto srcm = Model::load_gguf(src);
  ASSERT_TRUE(srcm.ok());
  ASSERT_NE((*srcm)->tokenizer(), nullptr) << (*srcm)->tokenizer_error();
  ASSERT_NE((*loaded)->tokenizer(), nullptr) << (*loaded)->tokenizer_error();
  EXPECT_EQ((*loaded)->tokenizer()->n_vocab(), (*srcm)->tokenizer()->n_vocab());
}

class LoraBase : public ::testing::TestWithParam<DType> {};

TEST_P(LoraBase, StartsAtBaseLossAndExportsMergedModel) {
  const DType type = GetParam();
  RandomModelSpec spec;
  spec.arch = "qwen2";
  spec.type = type;
  spec.n_vocab = 37;
  spec.n_embd = 256;  // K-quant rows hold whole 256-element blocks
  spec.n_ff = 512;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ctx = 64;
  spec.tied_output = true;
  spec.weight_std = 0.08f;
  spec.seed = 3;
  const std::string path =
      test::tmp_path(std::string("lora_base_") + type_name(type) + ".gguf").string();
  ASSERT_TRUE(write_random_model(spec, path).ok());
  auto base = Model::load_gguf(path);
  ASSERT_TRUE(base.ok()) << base.status().message();
  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8.0f;
  lc.targets = {"attn_q", "attn_v", "ffn_down"};
  auto r = TrainModel::with_lora(*base, lc, 17);
  ASSERT_TRUE(r.ok()) << r.status().message();
  TrainModel& m = **r;
  ThreadPool pool(2);
  ScalarIsa scalar;

  // Loss at the start equals the base model's (B = 0).
  const int T = static_cast<int>(kIds.size()) - 1;
  std::vector<int32_t> tok(kIds.begin(), kIds.end() - 1), tgt(kIds.begin() + 1, kIds.end());
  const std::vector<float> eng = engine_logits(**base, tok);
  double ce = 0;
  for (int t = 0; t < T; ++t) {
    const float* row = eng.data() + t * 37;
    double mx = -1e30, s = 0;
    for (int j = 0; j < 37; ++j) mx = std::max(mx, double(row[j]));
    for (int j = 0; j < 37; ++j) s += std::exp(row[j] - mx);
    ce += std::log(s) + mx - row[tgt[t]];
  }
  ce /= T;
  auto l0 = m.forward_loss(tok.data(), tgt.data(), nullptr, 1, T, pool);
  ASSERT_TRUE(l0.ok()) << l0.status().message();
  EXPECT_NEAR(*l0, ce, 1e-5 * ce);
  EXPECT_LT(rel_diff(train_logits(m, tok), eng), 1e-4);

  // Gradients reach B (A's are zero while B is zero: dA = dH^T X, dH = s dY B).
  m.grads().zero();
  auto l1 = m.forward_backward(tok.data(), tgt.data(), nullptr, 1, T, 1.0f, pool);
  ASSERT_TRUE(l1.ok());
  EXPECT_EQ(*l1, *l0);
  const ParamLayout& lay = m.layout();
  for (const ParamTensor& t : lay.tensors()) {
    const float* g = m.grads().view(lay, lay.find(t.name));
    double s = 0;
    for (size_t j = 0; j < t.size; ++j) s += std::fabs(g[j]);
    if (t.name.find(".lora_b") != std::string::npos)
      EXPECT_GT(s, 0.0) << t.name;
    else
      EXPECT_EQ(s, 0.0) << t.name;
  }

  // After "training" (B moved), the merged F32 export runs in the engine
  // with the same logits as forward_logits.
  std::mt19937 g(5);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  for (const ParamTensor& t : lay.tensors())
    if (t.name.find(".lora_b") != std::string::npos) {
      float* p = m.params().view(lay, lay.find(t.name));
      for (size_t j = 0; j < t.size; ++j) p[j] = nd(g);
    }
  const std::vector<float> ours = train_logits(m, tok);
  EXPECT_GT(rel_diff(ours, eng), 1e-3) << "the adapter should change the logits";
  const std::string merged =
      test::tmp_path(std::string("lora_merged_") + type_name(type) + ".gguf").string();
  ASSERT_TRUE(m.export_gguf(merged, DType::F32, &(*base)->file()).ok());
  auto mm = Model::load_gguf(merged);
  ASSERT_TRUE(mm.ok()) << mm.status().message();
  EXPECT_LT(rel_diff(engine_logits(**mm, tok), ours), 1e-4);
  EXPECT_EQ((*mm)->file().get_string("tokenizer.ggml.model"),  // copied from the base
            std::optional<std::string>("llama"));

  // adapter(): every (layer, target) pair with the trained values.
  auto ad = m.adapter();
  ASSERT_TRUE(ad.ok());
  EXPECT_EQ(ad->arch, "qwen2");
  EXPECT_EQ(ad->rank, 4);
  EXPECT_EQ(ad->alpha, 8.0f);
  EXPECT_EQ(ad->scale, 1.0f);
  EXPECT_FLOAT_EQ(ad->effective_scale(), 2.0f);
  ASSERT_EQ(ad->tensors.size(), 2u * 3);
  const LoraTensorPair& p = ad->tensors[5];
  EXPECT_EQ(p.target, "blk.1.ffn_down.weight");
  EXPECT_EQ(p.in, 512);
  EXPECT_EQ(p.out, 256);
  EXPECT_EQ(p.rank, 4);
  const float* pa = m.params().view(lay, lay.find("blk.1.ffn_down.weight.lora_a"));
  const float* pb = m.params().view(lay, lay.find("blk.1.ffn_down.weight.lora_b"));
  EXPECT_EQ(p.a, std::vector<float>(pa, pa + 4 * 512));
  EXPECT_EQ(p.b, std::vector<float>(pb, pb + 256 * 4));
}

INSTANTIATE_TEST_SUITE_P(Types, LoraBase, ::testing::Values(DType::Q8_0, DType::Q4_K),
                         [](const auto& info) { return std::string(type_name(info.param)); });

}  // namespace
}  // namespace sf::train
