// The architecture fixtures: tiny random-weight llama (Llama-3 RoPE factors),
// qwen2 (q/k/v bias, tied output) and qwen3 (q/k norm) models in 13 tensor
// types, with llama.cpp's logits (../shared/fixtures/models/README.md).
// Our scalar path (F32 arithmetic on dequantized weights) must match llama.cpp's
// all-F32 reference within 1e-3 and reproduce the greedy ids on the safe
// prefix; our fast native path (activations quantized per weight type, SIMD
// integer kernels) must match llama.cpp's native quantized logits within the
// per-file tolerance the fixture README gives.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/cpu.h"
#include "models/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace sf {
namespace {

struct Case {
  nlohmann::json rec;
  std::string name() const { return rec["file"].get<std::string>(); }
};

std::vector<Case> load_cases() {
  std::ifstream f(test::fixture("models/models.json"));
  if (!f) return {};
  nlohmann::json j = nlohmann::json::parse(f);
  std::vector<Case> cases;
  for (auto& rec : j["files"]) cases.push_back({rec});
  return cases;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(FixtureModelsManifest, HasAllThirtyNineFiles) {
  SF_REQUIRE_FIXTURE("models/models.json");
  EXPECT_EQ(load_cases().size(), 39u);
}

// Runs the body with the kernels forced to one ISA level, restoring it after.
struct IsaScope {
  explicit IsaScope(Isa isa) : saved(active_isa()) { EXPECT_TRUE(set_isa(isa)); }
  ~IsaScope() { set_isa(saved); }
  Isa saved;
};

TEST(FixtureModelsAll, LogitsAndGreedyMatchLlamaCpp) {
  SF_REQUIRE_FIXTURE("models/models.json");
  IsaScope scalar(Isa::Scalar);
  auto cases = load_cases();
  ASSERT_FALSE(cases.empty());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name());
    const auto& rec = c.rec;
    auto model = Model::load_gguf(test::fixture("models/" + c.name()).string());
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::vector<int32_t> prompt = rec["prompt_ids"].get<std::vector<int32_t>>();
    SessionOptions so;
    so.n_ctx = 64;
    so.n_threads = 2;
    Session session(*model, so);
    std::vector<float> logits;
    ASSERT_TRUE(session.feed(prompt, &logits).ok());

    const bool is_f32 = rec["type"] == "F32";
    // Primary check: F32 arithmetic on the dequantized weights vs llama.cpp's all-F32 run.
    const std::string ref_file = is_f32 ? rec["logits_file"].get<std::string>()
                                        : rec["dequant_logits_file"].get<std::string>();
    std::vector<float> ref = test::read_f32(test::fixture("models/" + ref_file));
    const float d = max_abs_diff(logits, ref);
    EXPECT_LE(d, 1e-3f) << "dequant-path logits differ from llama.cpp's by " << d;
    // Native quantized path: within the manifest's tolerance.
    std::vector<float> native =
        test::read_f32(test::fixture("models/" + rec["logits_file"].get<std::string>()));
    const float tol = rec["native_logits_tolerance"].get<float>();
    const float dn = max_abs_diff(logits, native);
    EXPECT_LE(dn, tol) << "native logits differ by " << dn;

    // Greedy continuation, one token at a time through the KV cache.
    std::vector<int32_t> want =
        rec[is_f32 ? "greedy_ids" : "dequant_greedy_ids"].get<std::vector<int32_t>>();
    const int safe = rec[is_f32 ? "greedy_safe_prefix" : "dequant_greedy_safe_prefix"].get<int>();
    std::vector<int32_t> got;
    for (size_t k = 0; k < want.size(); ++k) {
      auto last = session.last_logits();
      int32_t best = 0;
      for (int32_t v = 1; v < static_cast<int32_t>(last.size()); ++v)
        if (last[v] > last[best]) best = v;
      got.push_back(best);
      const int32_t one[1] = {best};
      ASSERT_TRUE(session.feed(one).ok());
    }
    for (int k = 0; k < safe; ++k) ASSERT_EQ(got[k], want[k]) << "greedy id " << k;
  }
}

TEST(FixtureModelsAll, NativePathMatchesLlamaCppNativeLogits) {
  SF_REQUIRE_FIXTURE("models/models.json");
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) {
      std::printf("skipping %s: not supported by this CPU\n", isa_name(isa));
      continue;
    }
    IsaScope scope(isa);
    for (const Case& c : load_cases()) {
      SCOPED_TRACE(c.name() + " @ " + isa_name(isa));
      auto model = Model::load_gguf(test::fixture("models/" + c.name()).string());
      ASSERT_TRUE(model.ok()) << model.status().message();
      SessionOptions so;
      so.n_ctx = 64;
      so.n_threads = 2;
      Session session(*model, so);
      std::vector<float> logits;
      ASSERT_TRUE(session.feed(c.rec["prompt_ids"].get<std::vector<int32_t>>(), &logits).ok());
      std::vector<float> native =
          test::read_f32(test::fixture("models/" + c.rec["logits_file"].get<std::string>()));
      const float tol = c.rec["native_logits_tolerance"].get<float>();
      const float dn = max_abs_diff(logits, native);
      EXPECT_LE(dn, tol) << "native logits differ from llama.cpp's native path by " << dn;
    }
  }
}

TEST(FixtureModelsAll, GreedyPathLogitsOfF32Files) {
  // The 32 logit rows along the greedy path exercise the KV-cache decode path.
  SF_REQUIRE_FIXTURE("models/models.json");
  IsaScope scalar(Isa::Scalar);
  for (const Case& c : load_cases()) {
    if (c.rec["type"] != "F32") continue;
    SCOPED_TRACE(c.name());
    auto model = Model::load_gguf(test::fixture("models/" + c.name()).string());
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::vector<float> ref =
        test::read_f32(test::fixture("models/" + c.rec["greedy_logits_file"].get<std::string>()));
    std::vector<int32_t> ids = c.rec["greedy_ids"].get<std::vector<int32_t>>();
    SessionOptions so;
    so.n_ctx = 64;
    Session session(*model, so);
    ASSERT_TRUE(session.feed(c.rec["prompt_ids"].get<std::vector<int32_t>>()).ok());
    const size_t vocab = 512;
    float worst = 0;
    for (size_t k = 0; k < ids.size(); ++k) {
      auto last = session.last_logits();
      for (size_t v = 0; v < vocab; ++v)
        worst = std::max(worst, std::fabs(last[v] - ref[k * vocab + v]));
      const int32_t one[1] = {ids[k]};
      ASSERT_TRUE(session.feed(one).ok());
    }
    EXPECT_LE(worst, 1e-3f);
  }
}

}  // namespace
}  // namespace sf
