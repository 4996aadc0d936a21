// Whole models with packed weights (models/weight_packing.h): at the AVX-512
// level the loader packs the Q4_0 / Q8_0 / Q4_K / Q6_K / F32 / F16 / BF16
// matrices (tied heads included, whose packed copy then also serves the
// embedding lookups) and leaves tok_embd's GGUF rows as they are; LoadOptions
// and STARFIRE_REPACK=0 turn it off; logits stay next to the unpacked run's
// (only float summation order differs) and batched prompts equal
// token-by-token decoding. Random models from our own writer, with a
// vocabulary (300) that leaves a partial group.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/cpu.h"
#include "models/random_model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace sf {
namespace {

std::string write_model(const std::string& arch, DType type) {
  RandomModelSpec spec;
  spec.arch = arch;
  spec.type = type;
  const bool k_quant = traits(type).block_size == 256;  // rows must hold whole blocks
  spec.n_embd = k_quant ? 256 : 64;
  spec.n_ff = k_quant ? 512 : 160;
  spec.n_vocab = 300;
  spec.tied_output = arch != "llama";
  spec.seed = 11;
  const std::string path = test::tmp_path("pk_" + arch + "_" + type_name(type) + ".gguf").string();
  const Status s = write_random_model(spec, path);
  EXPECT_TRUE(s.ok()) << s.message();
  return path;
}

std::shared_ptr<const Model> load(const std::string& path, bool pack) {
  auto m = Model::load_gguf(path, LoadOptions{.pack_weights = pack});
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : nullptr;
}

std::vector<const WeightView*> matrices(const Model& m) {
  std::vector<const WeightView*> v;
  for (const LayerWeights& l : m.weights().layers)
    for (const WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      v.push_back(w);
  v.push_back(&m.weights().output);
  return v;
}

std::vector<float> prompt_logits(const std::shared_ptr<const Model>& m,
                                 const std::vector<int32_t>& ids) {
  SessionOptions so;
  so.n_ctx = 64;
  so.n_threads = 2;
  Session s(m, so);
  std::vector<float> all;
  EXPECT_TRUE(s.feed(ids, &all).ok());
  return all;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

struct IsaScope {
  explicit IsaScope(Isa isa) : saved(active_isa()), ok(set_isa(isa)) {}
  ~IsaScope() { set_isa(saved); }
  Isa saved;
  bool ok;
};

const std::vector<int32_t> kIds = {1, 17, 250, 3, 99, 42, 42, 7, 280, 5, 64, 12, 200};

class PackedModels : public ::testing::TestWithParam<std::pair<const char*, DType>> {
 protected:
  void SetUp() override {
    if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "this CPU lacks the avx512 level";
    if (const char* e = std::getenv("STARFIRE_REPACK"); e && std::strcmp(e, "0") == 0)
      GTEST_SKIP() << "STARFIRE_REPACK=0 in the environment turns packing off";
  }
};

TEST_P(PackedModels, LoaderPacksMatricesAndKeepsEmbeddingRows) {
  IsaScope avx512(Isa::Avx512);
  const std::string path = write_model(GetParam().first, GetParam().second);
  auto packed = load(path, true), plain = load(path, false);
  ASSERT_TRUE(packed && plain);
  for (const WeightView* w : matrices(*packed)) EXPECT_NE(w->packed, nullptr);
  for (const WeightView* w : matrices(*plain)) EXPECT_EQ(w->packed, nullptr);
  // A tied head's packed copy serves the embedding lookups too; an untied
  // embedding is not packed.
  const bool tied = std::string(GetParam().first) != "llama";
  EXPECT_EQ(packed->weights().tok_embd.packed, tied ? packed->weights().output.packed : nullptr);
  if (tied) {
    EXPECT_NE(packed->weights().tok_embd.packed, nullptr);
  }
  // The GGUF rows stay readable and unchanged (LoRA and the trainer read
  // them), and every looked-up row has the unpacked model's values.
  const WeightView& e = packed->weights().tok_embd;
  const WeightView& e0 = plain->weights().tok_embd;
  EXPECT_EQ(std::memcmp(e.data, e0.data, row_bytes(e.type, e.cols) * e.rows), 0);
  std::vector<float> got(e.cols), want(e.cols);
  for (int64_t r = 0; r < e.rows; ++r) {
    weight_row_f32(e, r, got.data());
    weight_row_f32(e0, r, want.data());
    ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << "row " << r;
  }

  // STARFIRE_REPACK=0 turns packing off for every load (SetUp skipped the
  // test if it was set already, so unsetting restores the environment).
  ::setenv("STARFIRE_REPACK", "0", 1);
  auto env_off = load(path, true);
  ::unsetenv("STARFIRE_REPACK");
  ASSERT_TRUE(env_off);
  for (const WeightView* w : matrices(*env_off)) EXPECT_EQ(w->packed, nullptr);
}

TEST_P(PackedModels, LogitsNextToUnpackedAndBatchEqualsIncremental) {
  IsaScope avx512(Isa::Avx512);
  const std::string path = write_model(GetParam().first, GetParam().second);
  auto packed = load(path, true), plain = load(path, false);
  ASSERT_TRUE(packed && plain);
  const auto a = prompt_logits(packed, kIds), b = prompt_logits(plain, kIds);
  ASSERT_EQ(a.size(), b.size());
  float scale = 0;
  for (float v : b) scale = std::max(scale, std::fabs(v));
  const float d = max_diff(a, b);
  std::printf("%s %s packed vs GGUF layout: max |diff| %.3g (max |logit| %.3g)\n", GetParam().first,
              type_name(GetParam().second), d, scale);
  // Each matrix product differs by float summation order only (~1e-7), but a
  // changed last bit can flip an activation's int8 rounding in a later layer,
  // so the bound is the activation-quantization noise of the native path.
  EXPECT_LE(d, 1e-2f * std::max(1.f, scale));
  EXPECT_GT(d, 0.f) << "packed and unpacked runs gave identical bits: is packing used?";

  // Token by token through the KV cache: the same logits as the batched pass.
  const size_t V = static_cast<size_t>(packed->config().n_vocab);
  SessionOptions so;
  so.n_ctx = 64;
  so.n_threads = 2;
  Session inc(packed, so);
  for (size_t i = 0; i < kIds.size(); ++i) {
    const int32_t one[1] = {kIds[i]};
    ASSERT_TRUE(inc.feed(one).ok());
    const auto last = inc.last_logits();
    float worst = 0;
    for (size_t v = 0; v < V; ++v) worst = std::max(worst, std::fabs(last[v] - a[i * V + v]));
    EXPECT_LE(worst, 1e-5f) << "position " << i;
  }
}

TEST_P(PackedModels, OtherLevelsRunThePackedModel) {
  // A model packed at the AVX-512 level still runs (on its GGUF rows) when the
  // level is lowered afterwards, and gives that level's results.
  const std::string path = write_model(GetParam().first, GetParam().second);
  std::shared_ptr<const Model> packed;
  {
    IsaScope avx512(Isa::Avx512);
    packed = load(path, true);
  }
  auto plain = load(path, false);
  ASSERT_TRUE(packed && plain);
  for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
    IsaScope scope(isa);
    if (!scope.ok) continue;
    EXPECT_EQ(max_diff(prompt_logits(packed, kIds), prompt_logits(plain, kIds)), 0.f)
        << isa_name(isa);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Archs, PackedModels,
    ::testing::Values(std::make_pair("llama", DType::Q4_0), std::make_pair("qwen2", DType::Q8_0),
                      std::make_pair("qwen2", DType::Q4_0), std::make_pair("llama", DType::Q8_0),
                      std::make_pair("qwen3", DType::Q4_K), std::make_pair("llama", DType::F16),
                      std::make_pair("qwen2", DType::BF16), std::make_pair("qwen3", DType::F32),
                      std::make_pair("llama", DType::Q6_K), std::make_pair("qwen2", DType::Q6_K)),
    [](const auto& info) {
      return std::string(info.param.first) + "_" + type_name(info.param.second);
    });

}  // namespace
}  // namespace sf
