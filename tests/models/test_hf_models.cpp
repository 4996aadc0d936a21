// Hugging Face folders against PyTorch: tiny random-weight models of each
// supported family (tests/hf/make_reference.py wrote them and their reference
// logits) must give the same logits when run straight from the folder and
// after `convert` to GGUF (f32), within 1e-4. Also: tokenizer and chat
// template come from the folder, the converted GGUF's tokenizer encodes like
// the folder's, and broken folders give errors that name the problem.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/fp16.h"
#include "core/threadpool.h"
#include "formats/gguf.h"
#include "models/decoder.h"
#include "models/hf_convert.h"
#include "models/kv_cache.h"
#include "models/model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

namespace fs = std::filesystem;

fs::path data_dir(const std::string& name) {
  return fs::path(__FILE__).parent_path().parent_path() / "data" / "hf" / name;
}

struct Reference {
  std::vector<int32_t> prompt;
  std::vector<float> logits;  // [T, V]
  int n_vocab = 0;
  std::string text;
};

Reference reference(const std::string& name) {
  Reference r;
  auto j = nlohmann::json::parse(test::read_file(data_dir(name) / "reference.json"));
  r.prompt = j["prompt_ids"].get<std::vector<int32_t>>();
  r.n_vocab = j["n_vocab"];
  r.text = j["text"];
  r.logits = test::read_f32(data_dir(name) / "logits.f32");
  return r;
}

// Logits of every prompt position, one batch.
std::vector<float> run_prompt(const Model& m, const std::vector<int32_t>& ids) {
  const ModelConfig& c = m.config();
  KvCache cache(c, static_cast<int>(ids.size()), 1);
  DecoderScratch s(m, static_cast<int>(ids.size()), 1);
  ThreadPool pool(1);
  Batch b;
  for (size_t i = 0; i < ids.size(); ++i) b.add(ids[i], static_cast<int>(i), 0, true);
  std::vector<float> logits(ids.size() * c.n_vocab);
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

class HfFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(HfFamily, FolderMatchesPyTorch) {
  const Reference ref = reference(GetParam());
  auto m = Model::load(data_dir(GetParam()).string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)->config().n_vocab, ref.n_vocab);
  EXPECT_EQ((*m)->gguf(), nullptr);
  EXPECT_LT(max_abs_diff(run_prompt(**m, ref.prompt), ref.logits), 1e-4f);
  const Tokenizer* tok = (*m)->tokenizer();
  ASSERT_NE(tok, nullptr) << (*m)->tokenizer_error();
  EXPECT_FALSE(tok->chat_template().empty());
  EXPECT_EQ(tok->decode(tok->encode(ref.text, false)), ref.text);
}

TEST_P(HfFamily, ConvertedGgufMatchesPyTorch) {
  const Reference ref = reference(GetParam());
  const fs::path out = test::tmp_path("hf_" + GetParam() + "_f32.gguf");
  ConvertOptions opt;
  opt.out_type = DType::F32;
  auto rep = convert_hf_to_gguf(data_dir(GetParam()).string(), out.string(), opt);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  auto m = Model::load(out.string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_LT(max_abs_diff(run_prompt(**m, ref.prompt), ref.logits), 1e-4f);

  // The GGUF's tokenizer encodes and decodes like the folder's, and keeps the template.
  auto hf = Model::load(data_dir(GetParam()).string());
  ASSERT_TRUE(hf.ok());
  const Tokenizer* a = (*hf)->tokenizer();
  const Tokenizer* b = (*m)->tokenizer();
  ASSERT_TRUE(a && b) << (*m)->tokenizer_error();
  for (const std::string& text :
       {ref.text, std::string("Then the THEORY: 12345 things!\n  they thought"),
        std::string("é中")}) {
    EXPECT_EQ(a->encode(text, true), b->encode(text, true)) << text;
    EXPECT_EQ(b->decode(b->encode(text, false)), text);
  }
  EXPECT_EQ(a->chat_template(), b->chat_template());
  EXPECT_EQ(a->eos_id(), b->eos_id());
  EXPECT_EQ(a->bos_id(), b->bos_id());
}

TEST_P(HfFamily, ConvertTypesStayClose) {
  // f16 / bf16 / q8_0 conversions run and stay near the f32 reference.
  const Reference ref = reference(GetParam());
  const struct {
    DType type;
    float tol;
  } cases[] = {{DType::F16, 0.05f}, {DType::BF16, 0.3f}, {DType::Q8_0, 1.0f}};
  for (const auto& k : cases) {
    const fs::path out = test::tmp_path("hf_" + GetParam() + "_" + type_name(k.type) + ".gguf");
    ConvertOptions opt;
    opt.out_type = k.type;
    auto rep = convert_hf_to_gguf(data_dir(GetParam()).string(), out.string(), opt);
    ASSERT_TRUE(rep.ok()) << rep.status().message();
    auto m = Model::load(out.string());
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_LT(max_abs_diff(run_prompt(**m, ref.prompt), ref.logits), k.tol) << type_name(k.type);
  }
}

INSTANTIATE_TEST_SUITE_P(All, HfFamily, ::testing::Values("llama", "mistral", "qwen2", "qwen3"));

// A copy of a reference folder the test may break.
fs::path scratch_copy(const std::string& name, const std::string& tag) {
  const fs::path dst = test::tmp_path("hf_broken_" + tag);
  fs::remove_all(dst);
  fs::create_directories(dst);
  for (const auto& e : fs::directory_iterator(data_dir(name)))
    fs::copy(e.path(), dst / e.path().filename());
  return dst;
}

TEST(HfFolder, ErrorsNameTheProblem) {
  {
    const fs::path d = scratch_copy("qwen2", "cfg");
    auto j = nlohmann::json::parse(test::read_file(d / "config.json"));
    j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    test::write_file(d / "config.json", j.dump());
    auto m = Model::load(d.string());
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("rope_scaling.rope_type"), std::string::npos)
        << m.status().message();
  }
  {
    const fs::path d = scratch_copy("qwen2", "vocab");
    auto j = nlohmann::json::parse(test::read_file(d / "config.json"));
    j["hidden_size"] = 32;
    test::write_file(d / "config.json", j.dump());
    auto m = Model::load(d.string());
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("expected [320, 32]"), std::string::npos)
        << m.status().message();
  }
  {
    const fs::path d = scratch_copy("qwen2", "nost");
    fs::remove(d / "model.safetensors");
    auto m = Model::load(d.string());
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("no model.safetensors"), std::string::npos);
  }
  {
    auto m = Model::load("no/such-model");
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("starfire pull"), std::string::npos)
        << m.status().message();
  }
}

TEST(HfFolder, Llama3RopeFactorsMatterAndMatchTheTensorPath) {
  // The folder's config-derived factors and the GGUF's rope_freqs.weight are
  // the same numbers (the golden tests above check both against PyTorch).
  auto hf = Model::load(data_dir("llama").string());
  ASSERT_TRUE(hf.ok());
  const auto& f = (*hf)->config().rope_freq_factors;
  ASSERT_EQ(f.size(), 8u);
  EXPECT_FLOAT_EQ(f.front(), 1.0f);
  EXPECT_FLOAT_EQ(f.back(), 8.0f);
  const fs::path out = test::tmp_path("hf_llama_f32.gguf");
  ConvertOptions opt;
  opt.out_type = DType::F32;
  ASSERT_TRUE(convert_hf_to_gguf(data_dir("llama").string(), out.string(), opt).ok());
  auto g = gguf::GgufFile::open(out.string());
  ASSERT_TRUE(g.ok());
  const gguf::TensorInfo* t = (*g)->find_tensor("rope_freqs.weight");
  ASSERT_NE(t, nullptr);
  for (size_t i = 0; i < f.size(); ++i) EXPECT_EQ(reinterpret_cast<const float*>(t->data)[i], f[i]);
}

}  // namespace
}  // namespace sf

#include "formats/safetensors.h"

namespace sf {
namespace {

TEST(HfFolder, Bf16ShardedCheckpointRuns) {
  // The qwen3 reference weights re-saved as BF16 in three shards with an
  // index: norms become f32 at load, matrices stay BF16 in the mappings.
  const fs::path src = data_dir("qwen3");
  const fs::path dst = test::tmp_path("hf_qwen3_bf16_sharded");
  fs::remove_all(dst);
  fs::create_directories(dst);
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    fs::copy(src / f, dst / f);
  auto in = st::SafetensorsFile::open((src / "model.safetensors").string());
  ASSERT_TRUE(in.ok());
  st::SafetensorsWriter w;
  for (const st::TensorInfo& t : (*in)->tensors()) {
    std::vector<uint16_t> b(t.n_elements());
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = f32_to_bf16(reinterpret_cast<const float*>(t.data)[i]);
    ASSERT_TRUE(w.add_tensor(t.name, DType::BF16, t.shape, b.data(), b.size() * 2).ok());
  }
  ASSERT_TRUE(w.write_sharded(dst.string(), 100 * 1024).ok());
  ASSERT_TRUE(fs::exists(dst / "model.safetensors.index.json"));
  auto m = Model::load(dst.string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)->weights().layers[0].wq.type, DType::BF16);
  EXPECT_EQ((*m)->weights().layers[0].attn_norm.type, DType::F32);
  const Reference ref = reference("qwen3");
  EXPECT_LT(max_abs_diff(run_prompt(**m, ref.prompt), ref.logits), 0.5f);
  // And it converts from the sharded BF16 folder too.
  ConvertOptions opt;
  opt.out_type = DType::BF16;
  auto rep =
      convert_hf_to_gguf(dst.string(), test::tmp_path("hf_qwen3_from_bf16.gguf").string(), opt);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
}

}  // namespace
}  // namespace sf
