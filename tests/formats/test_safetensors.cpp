// safetensors reader and writer: round trips (single file and sharded folder),
// the layout rules, and hostile files built here byte by byte. Also config.json
// parsing (formats/hf_config.h): defaults and refusals that name the field.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/fp16.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "test_util.h"

namespace sf::st {
namespace {

std::string with_header(const std::string& header, const std::string& data,
                        uint64_t claimed = UINT64_MAX) {
  const uint64_t n = claimed == UINT64_MAX ? header.size() : claimed;
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

::testing::AssertionResult fails_with(const std::string& bytes, const std::string& needle) {
  auto r = SafetensorsFile::from_bytes(bytes, "bad.safetensors");
  if (r.ok()) return ::testing::AssertionFailure() << "accepted";
  const std::string& m = r.status().message();
  if (m.rfind("bad.safetensors: ", 0) != 0)
    return ::testing::AssertionFailure() << "message does not name the file: " << m;
  if (m.find(needle) == std::string::npos)
    return ::testing::AssertionFailure() << "message lacks '" << needle << "': " << m;
  return ::testing::AssertionSuccess();
}

TEST(Safetensors, RoundTripTypesAndMetadata) {
  SafetensorsWriter w;
  std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -1e-3f};
  std::vector<uint16_t> h = {f32_to_fp16(1.0f), f32_to_fp16(-0.5f), f32_to_fp16(2.0f)};
  std::vector<uint16_t> b = {f32_to_bf16(3.0f), f32_to_bf16(-4.0f)};
  ASSERT_TRUE(w.add_tensor("h", DType::F16, {3}, h.data(), 6).ok());
  ASSERT_TRUE(w.add_tensor("a", DType::F32, {2, 3}, a.data(), 24).ok());
  ASSERT_TRUE(w.add_tensor("b", DType::BF16, {1, 2}, b.data(), 4).ok());
  w.set_metadata("format", "pt");
  const std::string bytes = w.to_bytes();
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "header padded to 8 bytes";
  auto r = SafetensorsFile::from_bytes(bytes, "x");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const SafetensorsFile& f = **r;
  EXPECT_EQ(f.metadata().at("format"), "pt");
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "a") << "4-byte elements come first";
  const TensorInfo* t = f.find("a");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->type, DType::F32);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(t->data, a.data(), 24), 0);
  EXPECT_EQ(std::memcmp(f.find("h")->data, h.data(), 6), 0);
  EXPECT_EQ(f.find("b")->type, DType::BF16);
  EXPECT_EQ(f.find("missing"), nullptr);
  // Every tensor aligned to its element size (relative to an 8-aligned data start).
  for (const TensorInfo& ti : f.tensors()) EXPECT_EQ(ti.begin % ti.elem_bytes, 0u) << ti.name;
}

TEST(Safetensors, WriterRefusesBadInput) {
  SafetensorsWriter w;
  float x[2] = {};
  EXPECT_FALSE(w.add_tensor("x", DType::F32, {3}, x, 8).ok());
  EXPECT_FALSE(w.add_tensor("q", DType::Q8_0, {32}, x, 34).ok());
  EXPECT_TRUE(w.add_tensor("x", DType::F32, {2}, x, 8).ok());
  EXPECT_FALSE(w.add_tensor("x", DType::F32, {2}, x, 8).ok()) << "duplicate";
}

TEST(Safetensors, FileAndShardedFolder) {
  namespace fs = std::filesystem;
  SafetensorsWriter w;
  std::vector<float> big(1000, 1.0f), small(10, 2.0f);
  for (const char* name : {"t0", "t1", "t2", "t3", "t4"})
    ASSERT_TRUE(w.add_tensor(name, DType::F32, {10, 100}, big.data(), 4000).ok());
  ASSERT_TRUE(w.add_tensor("s", DType::F32, {10}, small.data(), 40).ok());
  const fs::path dir = test::tmp_path("st_sharded");
  fs::remove_all(dir);
  ASSERT_TRUE(w.write_sharded(dir.string(), 8000).ok());
  EXPECT_TRUE(fs::exists(dir / "model-00001-of-00003.safetensors"));
  auto set = SafetensorsSet::open(dir.string());
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->files().size(), 3u);
  EXPECT_EQ(set->tensors().size(), 6u);
  ASSERT_TRUE(set->find("t4"));
  EXPECT_EQ(reinterpret_cast<const float*>(set->find("s")->data)[9], 2.0f);

  const fs::path single = test::tmp_path("st_single.safetensors");
  ASSERT_TRUE(w.write(single.string()).ok());
  auto one = SafetensorsSet::open(single.string());
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->tensors().size(), 6u);

  // An index naming a shard outside the folder, or a tensor its shard lacks.
  const std::string idx = (dir / "model.safetensors.index.json").string();
  test::write_file(idx, R"({"weight_map": {"t0": "../evil.safetensors"}})");
  auto evil = SafetensorsSet::open(dir.string());
  ASSERT_FALSE(evil.ok());
  EXPECT_NE(evil.status().message().find("not a plain file name"), std::string::npos);
  test::write_file(idx, R"({"weight_map": {"nope": "model-00001-of-00003.safetensors"}})");
  auto missing = SafetensorsSet::open(dir.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  auto empty = SafetensorsSet::open(test::tmp_path("st_no_such_dir_x").string());
  EXPECT_FALSE(empty.ok());
}

TEST(Safetensors, HostileFiles) {
  const std::string f32x2(8, '\0');
  const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_TRUE(SafetensorsFile::from_bytes(with_header(good, f32x2)).ok());
  EXPECT_TRUE(fails_with("abc", "too short"));
  EXPECT_TRUE(fails_with(with_header(good, f32x2, 1000), "past the end"));
  EXPECT_TRUE(fails_with(with_header(good, f32x2, uint64_t{1} << 40), "absurd"));
  EXPECT_TRUE(fails_with(with_header(good, f32x2, UINT64_MAX - 1), "absurd"));
  EXPECT_TRUE(fails_with(with_header("[1,2]   ", ""), "not a JSON object"));
  EXPECT_TRUE(fails_with(with_header(R"({"a": {"dtype": )", ""), "not valid JSON"));
  EXPECT_TRUE(fails_with(
      with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", f32x2), "outside"));
  EXPECT_TRUE(
      fails_with(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", f32x2),
                 "span 8 bytes"));
  EXPECT_TRUE(fails_with(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                                     f32x2),
                         "overlap"));
  EXPECT_TRUE(fails_with(
      with_header(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", f32x2), "F33"));
  EXPECT_TRUE(
      fails_with(with_header(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2),
                 "invalid dimension"));
  EXPECT_TRUE(
      fails_with(with_header(R"({"a":{"dtype":"F32","shape":[2]}})", f32x2), "data_offsets"));
  EXPECT_TRUE(fails_with(
      with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", f32x2), "outside"));
  // A shape whose byte count wraps around 2^64 to match the range.
  EXPECT_TRUE(fails_with(
      with_header(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776,1073741824],)"
                  R"("data_offsets":[0,0]}})",
                  ""),
      "overflow"));
  EXPECT_TRUE(fails_with(with_header(R"({"__metadata__":{"k":1}})", ""), "not a string"));
  // Truncation at every length never crashes and always names the file.
  SafetensorsWriter w;
  float x[4] = {1, 2, 3, 4};
  ASSERT_TRUE(w.add_tensor("x", DType::F32, {4}, x, 16).ok());
  const std::string full = w.to_bytes();
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = SafetensorsFile::from_bytes(full.substr(0, n), "cut");
    EXPECT_FALSE(r.ok()) << n;
  }
}

}  // namespace
}  // namespace sf::st

namespace sf::hf {
namespace {

const char* kLlama = R"({
  "architectures": ["LlamaForCausalLM"], "vocab_size": 320, "hidden_size": 64,
  "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
  "hidden_act": "silu", "tie_word_embeddings": false,
  "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                   "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}})";

std::string patch(const char* base, const nlohmann::json& change) {
  nlohmann::json j = nlohmann::json::parse(base);
  j.merge_patch(change);
  return j.dump();
}

TEST(HfConfig, ReadsLlamaWithDefaults) {
  auto c = parse_hf_config(kLlama, "config.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->gguf_arch, "llama");
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->num_key_value_heads, 2);
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c->rope_theta, 500000.0);
  EXPECT_EQ(c->rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 8.0);
  auto q3 = parse_hf_config(patch(kLlama, {{"architectures", {"Qwen3ForCausalLM"}},
                                           {"rope_scaling", nullptr},
                                           {"sliding_window", 4096},
                                           {"use_sliding_window", false}}),
                            "q3");
  ASSERT_TRUE(q3.ok()) << q3.status().message();
  EXPECT_EQ(q3->head_dim, 128) << "Qwen3's default head_dim";
  EXPECT_EQ(q3->sliding_window, 0);
  auto m = parse_hf_config(patch(kLlama, {{"architectures", {"MistralForCausalLM"}},
                                          {"rope_scaling", nullptr},
                                          {"sliding_window", 4096}}),
                           "m");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->sliding_window, 4096);
  auto q2 = parse_hf_config(patch(kLlama, {{"architectures", {"Qwen2ForCausalLM"}}}), "q2");
  ASSERT_TRUE(q2.ok());
  EXPECT_TRUE(q2->qkv_bias);
}

TEST(HfConfig, RefusalsNameTheField) {
  struct Case {
    nlohmann::json change;
    const char* field;
  } cases[] = {
      {{{"architectures", {"GPT2LMHeadModel"}}}, "'architectures'"},
      {{{"hidden_act", "gelu"}}, "'hidden_act'"},
      {{{"mlp_bias", true}}, "'mlp_bias'"},
      {{{"attention_bias", true}}, "'attention_bias'"},
      {{{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}}}, "'rope_scaling.rope_type'"},
      {{{"rope_scaling", {{"rope_type", nullptr}, {"type", "dynamic"}, {"factor", 2.0}}}},
       "'rope_scaling.rope_type'"},
      {{{"partial_rotary_factor", 0.5}}, "'partial_rotary_factor'"},
      {{{"hidden_size", nullptr}}, "'hidden_size'"},
      {{{"num_key_value_heads", 3}}, "'num_key_value_heads'"},
      {{{"vocab_size", -1}}, "'vocab_size'"},
      {{{"quantization_config", {{"quant_method", "gptq"}}}}, "'quantization_config'"},
      {{{"architectures", {"Qwen2ForCausalLM"}}, {"use_sliding_window", true}},
       "'use_sliding_window'"},
  };
  for (const Case& k : cases) {
    auto c = parse_hf_config(patch(kLlama, k.change), "config.json");
    ASSERT_FALSE(c.ok()) << k.change.dump();
    EXPECT_NE(c.status().message().find(k.field), std::string::npos) << c.status().message();
  }
  EXPECT_FALSE(parse_hf_config("not json", "x").ok());
}

}  // namespace
}  // namespace sf::hf

#include "formats/hf_hash.h"

namespace sf::hf {
namespace {

TEST(HubHashes, KnownVectors) {
  auto sha256 = [](const std::string& s) {
    Sha256 h;
    h.update(s.data(), s.size());
    return h.hex();
  };
  EXPECT_EQ(sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  Sha256 split;  // incremental updates of odd sizes give the same digest
  const std::string msg(200, 'x');
  for (size_t i = 0; i < msg.size(); i += 7)
    split.update(msg.data() + i, std::min<size_t>(7, msg.size() - i));
  EXPECT_EQ(split.hex(), sha256(msg));
  Sha1 s1;
  s1.update("abc", 3);
  EXPECT_EQ(s1.hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
  // `git hash-object` of "hello\n".
  Sha1 blob;
  const std::string hdr = git_blob_header(6);
  blob.update(hdr.data(), hdr.size());
  blob.update("hello\n", 6);
  EXPECT_EQ(blob.hex(), "ce013625030ba8dba906f756967f9e9ca394464a");
}

}  // namespace
}  // namespace sf::hf
