// The whole trainable model's gradients against central finite differences
// in double precision (the f64 twin of the f32 model, same code), for a tiny
// llama, qwen2 (biases, tied head) and qwen3 (q/k norms) and for LoRA
// adapters on a frozen base; then the f32 model against its f64 twin, and the
// TrainModel contract (accumulation, masks, errors, dropout state).
//
// Bound: for every parameter tensor, max |fd - analytic| <= 1e-6 * max
// |analytic| over the tensor (h = 1e-5; a missing or wrong term is O(1)).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/threadpool.h"
#include "models/random_model.h"
#include "test_util.h"
#include "train/model.h"
#include "train/model_impl.h"

namespace sf::train {
namespace {

constexpr double kFdTol = 1e-6;
constexpr int kB = 2, kT = 7;

ModelConfig tiny(const std::string& arch, bool tied) {
  ModelConfig c;
  c.arch = arch;
  c.n_vocab = 37;
  c.n_embd = 16;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.n_ff = 24;
  c.n_ctx_train = 16;
  c.rope_base = 100.0f;  // larger angles at short positions exercise RoPE harder
  c.tied_output = tied;
  return c;
}

struct Batch {
  std::vector<int32_t> tokens, targets;
  std::vector<float> mask;
};

Batch make_batch(int vocab, uint32_t seed) {
  std::mt19937 g(seed);
  Batch b;
  for (int i = 0; i < kB * kT; ++i) {
    b.tokens.push_back(static_cast<int32_t>(g() % vocab));
    b.targets.push_back(static_cast<int32_t>(g() % vocab));
    b.mask.push_back(i % 5 == 1 ? 0.0f : (i % 3 == 0 ? 0.5f : 1.0f));  // zeros and weights
  }
  return b;
}

// Spreads parameters away from the init (norms around 1, biases nonzero,
// larger matrices), so every term of the backward matters.
void perturb(TrainModel& m, uint32_t seed, float scale) {
  std::mt19937 g(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& p : m.params().data) p += scale * n(g);
}

// Relative FD error of every parameter tensor of a double net; fails the
// test on any tensor over the bound or with an all-zero gradient.
void check_fd(detail::Net<double>& net, const Batch& b, ThreadPool& pool,
              const std::vector<std::string>& only_suffix = {}) {
  net.grads.zero();
  const double scale = 1.3;
  const double loss0 = net.loss(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, scale,
                                true, nullptr, pool, GemmPrecision::F32);
  EXPECT_TRUE(std::isfinite(loss0));
  const ParamLayout& lay = net.layout;
  int checked = 0;
  for (int i = 0; i < static_cast<int>(lay.tensors().size()); ++i) {
    const ParamTensor& t = lay[i];
    if (!only_suffix.empty()) {
      bool want = false;
      for (const auto& s : only_suffix)
        want |=
            t.name.size() >= s.size() && t.name.compare(t.name.size() - s.size(), s.size(), s) == 0;
      if (!want) continue;
    }
    double* p = net.params.view(lay, i);
    const double* g = net.grads.view(lay, i);
    double err = 0, mag = 0;
    for (size_t j = 0; j < t.size; ++j) {
      const double keep = p[j], h = 1e-5;
      p[j] = keep + h;
      const double lp = net.loss(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, 1.0,
                                 false, nullptr, pool, GemmPrecision::F32);
      p[j] = keep - h;
      const double lm = net.loss(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, 1.0,
                                 false, nullptr, pool, GemmPrecision::F32);
      p[j] = keep;
      const double fd = scale * (lp - lm) / (2 * h);
      err = std::max(err, std::fabs(fd - g[j]));
      mag = std::max(mag, std::fabs(g[j]));
    }
    EXPECT_GT(mag, 1e-9) << t.name << ": zero gradient";
    EXPECT_LT(err / mag, kFdTol) << t.name << " max err " << err << " max grad " << mag;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// f32 model gradients vs the f64 twin's, per tensor, relative to the tensor's max.
void check_float_vs_double(TrainModel& m, detail::Net<double>& twin, const Batch& b,
                           ThreadPool& pool) {
  m.grads().zero();
  twin.grads.zero();
  auto lf =
      m.forward_backward(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, 1.0f, pool);
  ASSERT_TRUE(lf.ok()) << lf.status().message();
  const double ld = twin.loss(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, 1.0, true,
                              nullptr, pool, GemmPrecision::F32);
  EXPECT_NEAR(*lf, ld, 1e-5 * std::fabs(ld));
  const ParamLayout& lay = m.layout();
  for (int i = 0; i < static_cast<int>(lay.tensors().size()); ++i) {
    const float* gf = m.grads().view(lay, i);
    const double* gd = twin.grads.view(lay, i);
    double err = 0, mag = 0;
    for (size_t j = 0; j < lay[i].size; ++j) {
      err = std::max(err, std::fabs(gf[j] - gd[j]));
      mag = std::max(mag, std::fabs(gd[j]));
    }
    if (mag == 0) continue;  // e.g. lora_a while B = 0
    EXPECT_LT(err / mag, 1e-4) << lay[i].name;
  }
}

struct ArchCase {
  const char* arch;
  bool tied;
};

class ModelGrad : public ::testing::TestWithParam<ArchCase> {};

TEST_P(ModelGrad, FullModelMatchesFiniteDifferences) {
  auto r = TrainModel::create(tiny(GetParam().arch, GetParam().tied), 11);
  ASSERT_TRUE(r.ok()) << r.status().message();
  TrainModel& m = **r;
  perturb(m, 3, 0.3f);
  ThreadPool pool(2);
  auto twin = detail::double_twin(m);
  Batch b = make_batch(37, 5);
  check_fd(*twin, b, pool);
  check_float_vs_double(m, *twin, b, pool);
}

INSTANTIATE_TEST_SUITE_P(Archs, ModelGrad,
                         ::testing::Values(ArchCase{"llama", false}, ArchCase{"qwen2", true},
                                           ArchCase{"qwen3", false}),
                         [](const auto& info) { return std::string(info.param.arch); });

TEST(ModelGrad, LayoutNamesShapesAndDecay) {
  auto r = TrainModel::create(tiny("qwen2", false), 1);
  ASSERT_TRUE(r.ok());
  const ParamLayout& lay = (*r)->layout();
  auto shape = [&](const char* name) {
    const int i = lay.find(name);
    EXPECT_GE(i, 0) << name;
    return i >= 0 ? lay[i].shape : std::vector<int64_t>{};
  };
  EXPECT_EQ(shape("token_embd.weight"), (std::vector<int64_t>{37, 16}));
  EXPECT_EQ(shape("output.weight"), (std::vector<int64_t>{37, 16}));
  EXPECT_EQ(shape("blk.1.attn_k.weight"), (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(shape("blk.1.attn_output.weight"), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(shape("blk.0.attn_v.bias"), (std::vector<int64_t>{8}));
  EXPECT_EQ(shape("blk.0.ffn_down.weight"), (std::vector<int64_t>{16, 24}));
  EXPECT_TRUE(lay[lay.find("token_embd.weight")].decay);
  EXPECT_TRUE(lay[lay.find("blk.0.ffn_up.weight")].decay);
  EXPECT_FALSE(lay[lay.find("blk.0.attn_q.bias")].decay);
  EXPECT_FALSE(lay[lay.find("blk.1.ffn_norm.weight")].decay);
  EXPECT_EQ(lay.find("blk.0.attn_q_norm.weight"), -1);  // qwen2 has no q/k norm

  auto q3 = TrainModel::create(tiny("qwen3", true), 1);
  ASSERT_TRUE(q3.ok());
  EXPECT_EQ((*q3)->layout().find("output.weight"), -1);  // tied
  EXPECT_GE((*q3)->layout().find("blk.1.attn_k_norm.weight"), 0);
  EXPECT_EQ((*q3)->layout().find("blk.0.attn_q.bias"), -1);

  // Init: norms 1, biases 0, matrices ~N(0, 0.02), output projections smaller.
  TrainModel& m = **r;
  auto stdev = [&](const char* name) {
    const int i = lay.find(name);
    const float* p = m.params().view(lay, i);
    double s = 0;
    for (size_t j = 0; j < lay[i].size; ++j) s += double(p[j]) * p[j];
    return std::sqrt(s / lay[i].size);
  };
  EXPECT_NEAR(stdev("token_embd.weight"), 0.02, 0.004);
  EXPECT_NEAR(stdev("blk.0.ffn_down.weight"), 0.02 / 2, 0.003);  // 1/sqrt(2 * 2 layers)
  EXPECT_EQ(m.params().view(lay, lay.find("blk.0.ffn_norm.weight"))[3], 1.0f);
  EXPECT_EQ(m.params().view(lay, lay.find("blk.0.attn_k.bias"))[3], 0.0f);
}

// LoRA on a frozen base (an F32 random model file): adapter gradients by FD.
TEST(ModelGrad, LoraAdaptersMatchFiniteDifferences) {
  RandomModelSpec spec;
  spec.arch = "qwen2";  // biases in the frozen base too
  spec.n_vocab = 37;
  spec.n_embd = 16;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 24;
  spec.n_ctx = 16;
  spec.weight_std = 0.3f;
  spec.seed = 9;
  const std::string path = test::tmp_path("lora_grad_base.gguf").string();
  ASSERT_TRUE(write_random_model(spec, path).ok());
  auto base = Model::load_gguf(path);
  ASSERT_TRUE(base.ok()) << base.status().message();
  LoraConfig lc;
  lc.rank = 3;
  lc.alpha = 5.0f;
  lc.targets = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
  auto r = TrainModel::with_lora(*base, lc, 4);
  ASSERT_TRUE(r.ok()) << r.status().message();
  TrainModel& m = **r;
  EXPECT_TRUE(m.is_lora());
  EXPECT_EQ(m.layout().tensors().size(), 2u * 7 * 2);
  const int ia = m.layout().find("blk.1.ffn_down.weight.lora_a");
  const int ib = m.layout().find("blk.1.ffn_down.weight.lora_b");
  ASSERT_GE(ia, 0);
  ASSERT_GE(ib, 0);
  EXPECT_EQ(m.layout()[ia].shape, (std::vector<int64_t>{3, 24}));
  EXPECT_EQ(m.layout()[ib].shape, (std::vector<int64_t>{16, 3}));
  // B starts at 0, A does not.
  double sa = 0, sb = 0;
  for (size_t j = 0; j < m.layout()[ia].size; ++j)
    sa += std::fabs(m.params().view(m.layout(), ia)[j]);
  for (size_t j = 0; j < m.layout()[ib].size; ++j)
    sb += std::fabs(m.params().view(m.layout(), ib)[j]);
  EXPECT_GT(sa, 0.0);
  EXPECT_EQ(sb, 0.0);
  perturb(m, 8, 0.2f);  // B != 0 so A's gradient is not zero
  ThreadPool pool(2);
  auto twin = detail::double_twin(m);
  Batch b = make_batch(37, 6);
  check_fd(*twin, b, pool);
  check_float_vs_double(m, *twin, b, pool);
}

class ModelContract : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = TrainModel::create(tiny("llama", false), 21);
    ASSERT_TRUE(r.ok());
    m = std::move(*r);
    perturb(*m, 2, 0.1f);
    b = make_batch(37, 7);
  }
  std::unique_ptr<TrainModel> m;
  Batch b;
  ThreadPool pool{2};
};

TEST_F(ModelContract, GradientsAccumulateWithLossScale) {
  m->grads().zero();
  auto l1 =
      m->forward_backward(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, 1.0f, pool);
  ASSERT_TRUE(l1.ok());
  std::vector<float> once = m->grads().data;
  m->grads().zero();
  for (int i = 0; i < 2; ++i) {
    auto l =
        m->forward_backward(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, 0.5f, pool);
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(*l, *l1);  // the loss is not scaled; only the gradient is
  }
  double err = 0, mag = 0;
  for (size_t i = 0; i < once.size(); ++i) {
    err = std::max(err, double(std::fabs(once[i] - m->grads().data[i])));
    mag = std::max(mag, double(std::fabs(once[i])));
  }
  EXPECT_GT(mag, 0.0);
  EXPECT_LT(err, 1e-6 * mag);
  // forward_loss agrees and touches no gradient.
  std::vector<float> before = m->grads().data;
  auto lv = m->forward_loss(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, pool);
  ASSERT_TRUE(lv.ok());
  EXPECT_EQ(*lv, *l1);
  EXPECT_EQ(m->grads().data, before);
}

TEST_F(ModelContract, ResultsDoNotDependOnThreadCount) {
  ThreadPool one(1), three(3);
  m->grads().zero();
  auto l1 =
      m->forward_backward(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, 1.0f, one);
  std::vector<float> g1 = m->grads().data;
  m->grads().zero();
  auto l3 =
      m->forward_backward(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, 1.0f, three);
  ASSERT_TRUE(l1.ok() && l3.ok());
  EXPECT_EQ(*l1, *l3);
  EXPECT_EQ(g1, m->grads().data);
}

TEST_F(ModelContract, MaskWeightsTheMeanAndAllZeroMaskGivesZero) {
  // Mean over counted positions: duplicating the batch with mask 0 on the
  // copy leaves the loss unchanged.
  std::vector<float> ones(kB * kT, 1.0f);
  auto full = m->forward_loss(b.tokens.data(), b.targets.data(), ones.data(), kB, kT, pool);
  auto none = m->forward_loss(b.tokens.data(), b.targets.data(), nullptr, kB, kT, pool);
  ASSERT_TRUE(full.ok() && none.ok());
  EXPECT_EQ(*full, *none);
  std::vector<float> zeros(kB * kT, 0.0f);
  m->grads().zero();
  auto z = m->forward_backward(b.tokens.data(), b.targets.data(), zeros.data(), kB, kT, 1.0f, pool);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(*z, 0.0f);
  for (float g : m->grads().data) ASSERT_EQ(g, 0.0f);
  // Masked positions may carry any target id (e.g. -100, "ignore").
  std::vector<int32_t> tg = b.targets;
  std::vector<float> mk = b.mask;
  mk[3] = 0.0f;
  tg[3] = -100;
  auto ig = m->forward_loss(b.tokens.data(), tg.data(), mk.data(), kB, kT, pool);
  EXPECT_TRUE(ig.ok()) << ig.status().message();
}

TEST_F(ModelContract, BadInputsAreErrors) {
  std::vector<int32_t> bad = b.tokens;
  bad[4] = 37;
  auto e1 = m->forward_backward(bad.data(), b.targets.data(), nullptr, kB, kT, 1.0f, pool);
  ASSERT_FALSE(e1.ok());
  EXPECT_NE(e1.status().message().find("token id 37"), std::string::npos) << e1.status().message();
  std::vector<int32_t> bt = b.targets;
  bt[0] = -1;
  auto e2 = m->forward_loss(b.tokens.data(), bt.data(), nullptr, kB, kT, pool);
  ASSERT_FALSE(e2.ok());
  EXPECT_NE(e2.status().message().find("target id -1"), std::string::npos);
  std::vector<int32_t> longseq(17, 1);
  auto e3 = m->forward_loss(longseq.data(), longseq.data(), nullptr, 1, 17, pool);
  ASSERT_FALSE(e3.ok());
  EXPECT_NE(e3.status().message().find("exceeds the model's context of 16"), std::string::npos);
  auto e4 = m->forward_loss(b.tokens.data(), b.targets.data(), nullptr, 0, kT, pool);
  EXPECT_FALSE(e4.ok());
  std::vector<float> nanmask(kB * kT, 1.0f);
  nanmask[2] = std::nanf("");
  EXPECT_FALSE(
      m->forward_loss(b.tokens.data(), b.targets.data(), nanmask.data(), kB, kT, pool).ok());
  EXPECT_FALSE(m->adapter().ok());  // a full model has no adapter

  ModelConfig c = tiny("llama", false);
  c.head_dim = 8;  // llama derives the head size from n_embd / n_head
  EXPECT_FALSE(TrainModel::create(c, 1).ok());
  c.arch = "gpt2";
  EXPECT_FALSE(TrainModel::create(c, 1).ok());
  ModelConfig q3 = tiny("qwen3", false);
  q3.head_dim = 6;  // qwen3 may have any even head size
  EXPECT_TRUE(TrainModel::create(q3, 1).ok());
}

TEST_F(ModelContract, LogitsOfOneSequenceMatchTheLoss) {
  // CE from forward_logits equals forward_loss on the same single sequence.
  std::vector<float> logits(kT * 37);
  ASSERT_TRUE(m->forward_logits(b.tokens.data(), kT, logits.data(), pool).ok());
  double ce = 0;
  for (int t = 0; t < kT; ++t) {
    const float* row = logits.data() + t * 37;
    double mx = -1e30, s = 0;
    for (int j = 0; j < 37; ++j) mx = std::max(mx, double(row[j]));
    for (int j = 0; j < 37; ++j) s += std::exp(row[j] - mx);
    ce += std::log(s) + mx - row[b.targets[t]];
  }
  auto l = m->forward_loss(b.tokens.data(), b.targets.data(), nullptr, 1, kT, pool);
  ASSERT_TRUE(l.ok());
  EXPECT_NEAR(*l, ce / kT, 1e-5);
}

TEST_F(ModelContract, Bf16ProductsStayCloseToF32) {
  TrainOptions o;
  o.precision = GemmPrecision::Bf16;
  auto r = TrainModel::create(tiny("llama", false), 21, o);
  ASSERT_TRUE(r.ok());
  (*r)->params().data = m->params().data;
  auto lb = (*r)->forward_loss(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, pool);
  auto lf = m->forward_loss(b.tokens.data(), b.targets.data(), b.mask.data(), kB, kT, pool);
  ASSERT_TRUE(lb.ok() && lf.ok());
  EXPECT_NEAR(*lb, *lf, 2e-2 * *lf);
}

TEST(ModelDropout, RngStateMakesDropoutReproducible) {
  RandomModelSpec spec;
  spec.n_vocab = 37;
  spec.n_embd = 16;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 24;
  spec.n_ctx = 16;
  spec.weight_std = 0.3f;
  const std::string path = test::tmp_path("lora_dropout_base.gguf").string();
  ASSERT_TRUE(write_random_model(spec, path).ok());
  auto base = Model::load_gguf(path);
  ASSERT_TRUE(base.ok());
  LoraConfig lc;
  lc.rank = 4;
  lc.dropout = 0.5f;
  auto r = TrainModel::with_lora(*base, lc, 3);
  ASSERT_TRUE(r.ok());
  TrainModel& m = **r;
  perturb(m, 1, 0.3f);
  ThreadPool pool(2);
  Batch b = make_batch(37, 8);
  const uint64_t s0 = m.rng_state();
  auto l1 = m.forward_backward(b.tokens.data(), b.targets.data(), nullptr, kB, kT, 1.0f, pool);
  const uint64_t s1 = m.rng_state();
  auto l2 = m.forward_backward(b.tokens.data(), b.targets.data(), nullptr, kB, kT, 1.0f, pool);
  ASSERT_TRUE(l1.ok() && l2.ok());
  EXPECT_NE(s0, s1);
  EXPECT_NE(*l1, *l2);  // different masks
  m.set_rng_state(s0);
  auto l3 = m.forward_backward(b.tokens.data(), b.targets.data(), nullptr, kB, kT, 1.0f, pool);
  ASSERT_TRUE(l3.ok());
  EXPECT_EQ(*l3, *l1);
  // Validation has no dropout: repeatable and independent of the generator.
  auto v1 = m.forward_loss(b.tokens.data(), b.targets.data(), nullptr, kB, kT, pool);
  auto v2 = m.forward_loss(b.tokens.data(), b.targets.data(), nullptr, kB, kT, pool);
  ASSERT_TRUE(v1.ok() && v2.ok());
  EXPECT_EQ(*v1, *v2);

  LoraConfig bad = lc;
  bad.targets = {"attn_x"};
  auto e = TrainModel::with_lora(*base, bad, 1);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("attn_x"), std::string::npos);
}

}  // namespace
}  // namespace sf::train
