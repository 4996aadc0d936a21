// stories260K, a real trained tiny Llama from llama2.c: our greedy decoding
// must reproduce the reference C implementation token for token and byte for
// byte, and its logits within 1e-4.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/model.h"
#include "runtime/generate.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

constexpr const char* kModel = "stories260K/stories260K.gguf";

std::shared_ptr<const Model> load() {
  auto m = Model::load_gguf(test::fixture(kModel).string());
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : nullptr;
}

// Greedy generation of `steps` tokens after the prompt, llama2.c style (no
// stop at EOS; the reference stops only on BOS, which none of its runs hit).
std::vector<int32_t> greedy(std::shared_ptr<const Model> model, const std::vector<int32_t>& prompt,
                            int steps, std::string* text) {
  SessionOptions so;
  so.n_ctx = 512;
  Session session(model, so);
  SamplerParams sp;
  sp.temperature = 0;
  Sampler sampler(sp);
  GenerateOptions go;
  go.n_predict = steps;
  go.stop_at_eog = false;
  std::vector<int32_t> out;
  StreamDecoder dec(*model->tokenizer());
  dec.set_prev(prompt.back());
  auto st = generate(session, prompt, sampler, go, [&](int32_t id) {
    out.push_back(id);
    if (text) *text += dec.push(id);
    return id != 1;
  });
  EXPECT_TRUE(st.ok()) << st.status().message();
  if (text) *text += dec.flush();
  return out;
}

TEST(Stories260K, GreedyOutputMatchesReferenceTextByteForByte) {
  SF_REQUIRE_FIXTURE(kModel);
  auto model = load();
  ASSERT_TRUE(model && model->tokenizer());
  std::string text;
  greedy(model, {1}, 200, &text);
  // run.c prints a final newline after the generated text.
  EXPECT_EQ(text + "\n", test::read_file(test::fixture("stories260K/expected_test_all_n200.txt")));
}

TEST(Stories260K, EveryReferenceIdListAndLogits) {
  SF_REQUIRE_FIXTURE(kModel);
  auto model = load();
  ASSERT_TRUE(model);
  std::ifstream f(test::fixture("stories260K/reference.json"));
  auto ref = nlohmann::json::parse(f);
  ASSERT_FALSE(ref["generate"].empty());
  for (const auto& g : ref["generate"]) {
    SCOPED_TRACE("prompt: " + g["prompt"].get<std::string>());
    auto prompt = g["prompt_ids"].get<std::vector<int32_t>>();
    auto want = g["ids"].get<std::vector<int32_t>>();
    const int steps = static_cast<int>(want.size() - prompt.size());
    std::string text;
    auto out = greedy(model, prompt, steps, &text);
    std::vector<int32_t> got = prompt;
    got.insert(got.end(), out.begin(), out.end());
    EXPECT_EQ(got, want);
    // Our tokenizer must also produce the reference's prompt ids from the text.
    if (model->tokenizer()) {
      EXPECT_EQ(model->tokenizer()->encode(g["prompt"].get<std::string>(), true), prompt);
    }

    if (!g.contains("logits_at_pos")) continue;
    SessionOptions so;
    so.n_ctx = 512;
    Session session(model, so);
    std::vector<float> logits;
    std::vector<int32_t> seq(want.begin(), want.end() - 1);
    ASSERT_TRUE(session.feed(seq, &logits).ok());
    const size_t vocab = static_cast<size_t>(model->config().n_vocab);
    for (auto& [pos, row] : g["logits_at_pos"].items()) {
      const size_t p = std::stoul(pos);
      auto r = row.get<std::vector<float>>();
      ASSERT_EQ(r.size(), vocab);
      float worst = 0;
      for (size_t v = 0; v < vocab; ++v)
        worst = std::max(worst, std::fabs(logits[p * vocab + v] - r[v]));
      EXPECT_LE(worst, 1e-4f) << "position " << p;
    }
  }
}

}  // namespace
}  // namespace sf
