// The KV cache and batching must not change the numbers: one batched prompt
// pass, token-by-token decoding, chunked prefill and several sequences in one
// batch all give the same logits as recomputing from scratch. Uses random
// models written by our own GGUF writer, so no fixtures are needed.
#include <gtest/gtest.h>

#include <cmath>

#include "core/threadpool.h"
#include "models/decoder.h"
#include "models/random_model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace sf {
namespace {

std::shared_ptr<const Model> make(const std::string& arch, DType type) {
  RandomModelSpec spec;
  spec.arch = arch;
  spec.type = type;
  const bool k_quant = traits(type).block_size == 256;  // rows must hold whole blocks
  spec.n_embd = k_quant ? 256 : 64;
  spec.n_ff = k_quant ? 512 : 128;
  spec.n_vocab = 300;
  spec.tied_output = arch != "llama";
  spec.seed = 7;
  const std::string path = test::tmp_path("kv_" + arch + "_" + type_name(type) + ".gguf").string();
  Status s = write_random_model(spec, path);
  EXPECT_TRUE(s.ok()) << s.message();
  auto m = Model::load_gguf(path);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : nullptr;
}

float max_diff(std::span<const float> a, std::span<const float> b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

const std::vector<int32_t> kIds = {1, 17, 250, 3,   99, 42, 42,  7, 280,
                                   5, 64, 12,  200, 8,  9,  150, 33};

class KvConsistency : public ::testing::TestWithParam<std::pair<const char*, DType>> {};

TEST_P(KvConsistency, BatchedPrefillEqualsTokenByToken) {
  auto model = make(GetParam().first, GetParam().second);
  ASSERT_TRUE(model);
  const size_t V = static_cast<size_t>(model->config().n_vocab);
  SessionOptions so;
  so.n_ctx = 64;
  Session full(model, so);
  std::vector<float> all;
  ASSERT_TRUE(full.feed(kIds, &all).ok());

  Session inc(model, so);
  for (size_t i = 0; i < kIds.size(); ++i) {
    const int32_t one[1] = {kIds[i]};
    ASSERT_TRUE(inc.feed(one).ok());
    EXPECT_LE(max_diff(inc.last_logits(), std::span<const float>(all).subspan(i * V, V)), 1e-5f)
        << "position " << i;
  }
}

TEST_P(KvConsistency, ChunkedPrefillAndIncrementalEqualFullRecompute) {
  auto model = make(GetParam().first, GetParam().second);
  ASSERT_TRUE(model);
  SessionOptions chunked;
  chunked.n_ctx = 64;
  chunked.n_batch = 5;  // odd chunks across the prompt
  Session a(model, chunked);
  std::vector<int32_t> head(kIds.begin(), kIds.begin() + 11);
  ASSERT_TRUE(a.feed(head).ok());
  std::vector<int32_t> tail(kIds.begin() + 11, kIds.end());
  ASSERT_TRUE(a.feed(tail).ok());

  SessionOptions one_pass;
  one_pass.n_ctx = 64;
  Session b(model, one_pass);
  ASSERT_TRUE(b.feed(kIds).ok());
  EXPECT_LE(max_diff(a.last_logits(), b.last_logits()), 1e-5f);
  // And the logits differ from a different history (the test can fail).
  Session c(model, one_pass);
  std::vector<int32_t> other = kIds;
  other[3] = 4;
  ASSERT_TRUE(c.feed(other).ok());
  EXPECT_GT(max_diff(c.last_logits(), b.last_logits()), 1e-3f);
}

TEST_P(KvConsistency, TwoSequencesInOneBatchEqualSeparateRuns) {
  auto model = make(GetParam().first, GetParam().second);
  ASSERT_TRUE(model);
  const auto& cfg = model->config();
  const size_t V = static_cast<size_t>(cfg.n_vocab);
  ThreadPool pool(2);
  KvCache cache(cfg, 32, 2);
  DecoderScratch scratch(*model, 32, pool.size());
  std::vector<int32_t> s0(kIds.begin(), kIds.begin() + 9), s1(kIds.begin() + 5, kIds.end());
  Batch batch;
  // Interleave the two sequences' tokens to show order within a batch doesn't matter.
  for (size_t i = 0; i < std::max(s0.size(), s1.size()); ++i) {
    if (i < s0.size()) batch.add(s0[i], static_cast<int>(i), 0, i + 1 == s0.size());
    if (i < s1.size()) batch.add(s1[i], static_cast<int>(i), 1, i + 1 == s1.size());
  }
  std::vector<float> logits(2 * V);
  ASSERT_TRUE(forward(*model, batch, cache, scratch, pool, logits.data()).ok());
  // Which logits row belongs to which sequence follows batch order.
  int row0 = -1, row1 = -1, r = 0;
  for (int64_t i = 0; i < batch.size(); ++i)
    if (batch.want_logits[i]) (batch.seq[i] == 0 ? row0 : row1) = r++;

  SessionOptions so;
  so.n_ctx = 32;
  Session a(model, so), b(model, so);
  ASSERT_TRUE(a.feed(s0).ok());
  ASSERT_TRUE(b.feed(s1).ok());
  EXPECT_LE(max_diff(a.last_logits(), std::span<const float>(logits).subspan(row0 * V, V)), 1e-5f);
  EXPECT_LE(max_diff(b.last_logits(), std::span<const float>(logits).subspan(row1 * V, V)), 1e-5f);
}

TEST(KvConsistencyErrors, BadTokenAndContextOverflowAreErrorsNotCrashes) {
  auto model = make("llama", DType::F32);
  ASSERT_TRUE(model);
  SessionOptions so;
  so.n_ctx = 8;
  Session s(model, so);
  const int32_t bad[1] = {100000};
  Status st = s.feed(bad);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("out of range"), std::string::npos) << st.message();
  std::vector<int32_t> many(9, 5);
  st = s.feed(many);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("context"), std::string::npos) << st.message();
}

INSTANTIATE_TEST_SUITE_P(Archs, KvConsistency,
                         ::testing::Values(std::make_pair("llama", DType::F32),
                                           std::make_pair("qwen2", DType::Q8_0),
                                           std::make_pair("qwen3", DType::Q4_K)),
                         [](const auto& info) {
                           return std::string(info.param.first) + "_" +
                                  type_name(info.param.second);
                         });

}  // namespace
}  // namespace sf
