// Quantization recipes: the per-tensor rules as llama.cpp users know them,
// fallbacks for rows that K-quant blocks cannot hold, and for each type the KL
// divergence of next-token distributions against the f16 model on a fixed
// text, within a stated bound (docs/QUANTIZATION.md has the table this test
// prints).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "core/quant.h"
#include "core/threadpool.h"
#include "formats/gguf.h"
#include "models/decoder.h"
#include "models/gguf_stream.h"
#include "models/kv_cache.h"
#include "models/model.h"
#include "models/quantize.h"
#include "models/random_model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

DType pick(const char* recipe, const std::string& name, std::vector<int64_t> dims,
           QuantModelInfo m = {8, 4, true}, bool* fb = nullptr) {
  return choose_quant_type(*find_recipe(recipe), m, name, dims, DType::F16, fb);
}

TEST(QuantRecipe, RulesAsLlamaCppUsersKnowThem) {
  const std::vector<int64_t> mat = {256, 256};
  // 1-D tensors and norms keep their type.
  EXPECT_EQ(pick("Q4_K_M", "blk.0.attn_norm.weight", {256}), DType::F16);
  EXPECT_EQ(pick("Q4_K_M", "blk.0.attn_q.bias", {256}), DType::F16);
  // Output head: Q6_K; a tied embedding gets the head's type; Q8_0 stays Q8_0.
  EXPECT_EQ(pick("Q4_K_M", "output.weight", mat), DType::Q6_K);
  EXPECT_EQ(pick("Q4_0", "output.weight", mat), DType::Q6_K);
  EXPECT_EQ(pick("Q8_0", "output.weight", mat), DType::Q8_0);
  EXPECT_EQ(pick("Q4_K_M", "token_embd.weight", mat), DType::Q4_K);
  EXPECT_EQ(pick("Q4_K_M", "token_embd.weight", mat, {8, 4, false}), DType::Q6_K);
  // Q4_K_M: attn_v and ffn_down get Q6_K in the "more bits" layers (8 layers: 0, 3, 6, 7).
  for (int l = 0; l < 8; ++l) {
    const bool more = l == 0 || l == 3 || l == 6 || l == 7;
    const std::string b = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(pick("Q4_K_M", b + "attn_v.weight", mat), more ? DType::Q6_K : DType::Q4_K) << l;
    EXPECT_EQ(pick("Q4_K_M", b + "ffn_down.weight", mat), more ? DType::Q6_K : DType::Q4_K) << l;
    EXPECT_EQ(pick("Q4_K_M", b + "attn_q.weight", mat), DType::Q4_K);
    EXPECT_EQ(pick("Q5_K_M", b + "ffn_down.weight", mat), more ? DType::Q6_K : DType::Q5_K) << l;
    EXPECT_EQ(pick("Q3_K_M", b + "attn_v.weight", mat), l < 2 ? DType::Q5_K : DType::Q4_K);
    EXPECT_EQ(pick("Q3_K_M", b + "ffn_down.weight", mat), DType::Q4_K);
    EXPECT_EQ(pick("Q3_K_M", b + "attn_output.weight", mat), DType::Q4_K);
  }
  // Q2_K: attn_v Q4_K with GQA >= 4, else Q3_K; ffn_down / attn_output Q3_K.
  EXPECT_EQ(pick("Q2_K", "blk.1.attn_v.weight", mat), DType::Q4_K);
  EXPECT_EQ(pick("Q2_K", "blk.1.attn_v.weight", mat, {8, 2, true}), DType::Q3_K);
  EXPECT_EQ(pick("Q2_K", "blk.1.ffn_down.weight", mat), DType::Q3_K);
  EXPECT_EQ(pick("Q2_K", "blk.1.attn_output.weight", mat), DType::Q3_K);
  EXPECT_EQ(pick("Q2_K", "blk.1.ffn_up.weight", mat), DType::Q2_K);
  // Legacy types stay uniform apart from the head.
  EXPECT_EQ(pick("Q5_1", "blk.0.attn_v.weight", mat), DType::Q5_1);
  EXPECT_EQ(pick("Q6_K", "blk.0.ffn_down.weight", mat), DType::Q6_K);
  // Rows not a multiple of 256: the K-quant fallbacks, then F16.
  bool fb = false;
  EXPECT_EQ(pick("Q4_K_M", "blk.1.attn_q.weight", {896, 896}, {8, 4, true}, &fb), DType::Q5_0);
  EXPECT_TRUE(fb);
  EXPECT_EQ(pick("Q4_K_M", "blk.0.attn_v.weight", {896, 128}), DType::Q8_0);
  EXPECT_EQ(pick("Q5_K_M", "blk.1.attn_q.weight", {896, 896}), DType::Q5_1);
  EXPECT_EQ(pick("Q2_K", "blk.1.ffn_up.weight", {896, 896}), DType::Q4_0);
  EXPECT_EQ(pick("Q4_K_M", "output.weight", {896, 1000}), DType::Q8_0);
  EXPECT_EQ(pick("Q4_K_M", "blk.1.attn_q.weight", {48, 48}), DType::F16);
  EXPECT_FALSE(find_recipe("Q9_K").has_value());
  EXPECT_EQ(find_recipe("q4_k_m")->ftype, 15);
}

TEST(GgufStream, SameBytesAsGgufWriter) {
  // Streaming output (convert, quantize) must be the file GgufWriter writes.
  for (bool custom_alignment : {false, true}) {
    gguf::GgufWriter ref;
    GgufStreamWriter st;
    auto both_set = [&](const std::string& k, const gguf::Value& v) {
      ref.set(k, v);
      st.set(k, v);
    };
    both_set("general.architecture", gguf::Value::str("llama"));
    if (custom_alignment) both_set("general.alignment", gguf::Value::u32(64));
    both_set("tokenizer.ggml.tokens", gguf::Value::str_array({"a", "b",
                                                              "\xE2\x96\x81"
                                                              "c"}));
    both_set("x.f", gguf::Value::f32(1.5f));
    std::vector<float> a(7, 0.25f), b(64, -1.0f);
    ASSERT_TRUE(ref.add_tensor("a", DType::F32, {7}, a.data(), 28).ok());
    std::vector<uint8_t> q(row_bytes(DType::Q8_0, 32) * 2);
    quantize_row_ref(DType::Q8_0, b.data(), q.data(), 64);
    ASSERT_TRUE(ref.add_tensor("b", DType::Q8_0, {32, 2}, q.data(), q.size()).ok());
    ASSERT_TRUE(st.declare("a", DType::F32, {7}).ok());
    ASSERT_TRUE(st.declare("b", DType::Q8_0, {32, 2}).ok());
    const std::string path = test::tmp_path("stream.gguf").string();
    ASSERT_TRUE(st.open(path).ok());
    ASSERT_TRUE(st.write_next(a.data(), 28).ok());
    EXPECT_FALSE(st.finish().ok()) << "one tensor missing";
    ASSERT_TRUE(st.write_next(q.data(), q.size()).ok());
    ASSERT_TRUE(st.finish().ok());
    const std::string got = test::read_file(path);
    if (!custom_alignment) {
      EXPECT_EQ(got, ref.to_bytes());
    } else {  // general.alignment moves to the end of the metadata; same content
      auto g = gguf::GgufFile::open(path);
      ASSERT_TRUE(g.ok()) << g.status().message();
      EXPECT_EQ((*g)->alignment(), 64u);
      EXPECT_EQ((*g)->data_offset() % 64, 0u);
      EXPECT_EQ(std::memcmp((*g)->find_tensor("b")->data, q.data(), q.size()), 0);
      EXPECT_EQ((*g)->metadata().size(), 4u);
    }
  }
}

// Log-softmax of one row.
std::vector<double> log_probs(const float* x, int n) {
  double mx = x[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, double(x[i]));
  double s = 0;
  for (int i = 0; i < n; ++i) s += std::exp(x[i] - mx);
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) out[i] = x[i] - mx - std::log(s);
  return out;
}

std::vector<float> all_logits(const Model& m, const std::vector<int32_t>& ids, ThreadPool& pool) {
  const int n = static_cast<int>(ids.size());
  KvCache cache(m.config(), n, 1);
  DecoderScratch s(m, n, pool.size());
  Batch b;
  for (int i = 0; i < n; ++i) b.add(ids[i], i, 0, true);
  std::vector<float> out(static_cast<size_t>(n) * m.config().n_vocab);
  EXPECT_TRUE(forward(m, b, cache, s, pool, out.data()).ok());
  return out;
}

TEST(QuantRecipe, KlDivergenceAgainstF16) {
  // A random-weight Llama-shaped model whose rows fit K-quant blocks, 8 layers
  // (so the "more bits" layers differ), GQA 4, untied head.
  RandomModelSpec spec;
  spec.arch = "llama";
  spec.n_vocab = 512;
  spec.n_embd = 256;
  spec.n_layer = 8;
  spec.n_head = 4;
  spec.n_head_kv = 1;
  spec.n_ff = 512;
  spec.type = DType::F16;
  spec.weight_std = 0.08f;
  spec.seed = 7;
  const std::string f16 = test::tmp_path("kl_base_f16.gguf").string();
  ASSERT_TRUE(write_random_model(spec, f16).ok());
  auto base = Model::load(f16);
  ASSERT_TRUE(base.ok()) << base.status().message();
  const Tokenizer* tok = (*base)->tokenizer();
  ASSERT_NE(tok, nullptr);
  const std::vector<int32_t> ids = tok->encode(
      "Once upon a time, in a quiet town by the sea, a curious girl found an old map.", true);
  ASSERT_GE(ids.size(), 40u);
  ThreadPool pool(2);
  const int V = spec.n_vocab;
  const std::vector<float> ref = all_logits(**base, ids, pool);

  // Bounds: about twice the mean KL measured on this model (nats per token).
  // A random 8-layer network amplifies weight noise far more than a trained
  // model does, so these are large next to real models' numbers; what they
  // pin down is each type's error level and the ordering between types.
  const struct {
    const char* type;
    double bound;
  } cases[] = {{"Q8_0", 6e-3},  {"Q6_K", 4e-2}, {"Q5_K_M", 0.12}, {"Q5_1", 0.14},  {"Q5_0", 0.2},
               {"Q4_K_M", 0.4}, {"Q4_1", 0.45}, {"Q4_0", 0.6},    {"Q3_K_M", 1.2}, {"Q2_K", 2.0}};
  std::map<std::string, double> kl_of;
  std::printf(
      "| type | file size | bits/weight | mean KL (nats) | max KL | bound |\n"
      "|---|---|---|---|---|---|\n");
  std::printf("| F16 | %.1f KiB | %.2f | 0 | 0 | - |\n", std::filesystem::file_size(f16) / 1024.0,
              16.0);
  for (const auto& k : cases) {
    const std::string out = test::tmp_path(std::string("kl_") + k.type + ".gguf").string();
    auto rep = quantize_gguf(f16, out, *find_recipe(k.type), {});
    ASSERT_TRUE(rep.ok()) << rep.status().message();
    auto q = Model::load(out);
    ASSERT_TRUE(q.ok()) << q.status().message();
    const std::vector<float> lg = all_logits(**q, ids, pool);
    double sum = 0, mx = 0;
    for (size_t t = 0; t < ids.size(); ++t) {
      auto p = log_probs(&ref[t * V], V), qq = log_probs(&lg[t * V], V);
      double kl = 0;
      for (int i = 0; i < V; ++i) kl += std::exp(p[i]) * (p[i] - qq[i]);
      sum += kl;
      mx = std::max(mx, kl);
    }
    const double mean = sum / ids.size();
    std::printf("| %s | %.1f KiB | %.2f | %.2e | %.2e | %.0e |\n", k.type, rep->file_bytes / 1024.0,
                rep->bits_per_weight(), mean, mx, k.bound);
    EXPECT_LT(mean, k.bound) << k.type;
    EXPECT_GE(mean, 0.0);
    kl_of[k.type] = mean;
  }
  // More bits, less divergence along the K-quant ladder.
  const char* ladder[] = {"Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K"};
  for (size_t i = 1; i < std::size(ladder); ++i)
    EXPECT_LT(kl_of[ladder[i - 1]], kl_of[ladder[i]]) << ladder[i - 1] << " vs " << ladder[i];
}

}  // namespace
}  // namespace sf
