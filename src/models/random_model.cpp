#include "models/random_model.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "core/quant.h"
#include "formats/gguf.h"

namespace sf {
namespace {

// Normal deviates from a fixed generator (Box-Muller on our own uniform draws:
// std::normal_distribution differs between standard libraries).
class Gauss {
 public:
  explicit Gauss(uint64_t seed) : s_(seed ? seed : 1) {}
  float next() {
    const double u1 = (static_cast<double>(raw() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    const double u2 = (static_cast<double>(raw() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }

 private:
  uint64_t raw() {  // splitmix64
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t s_;
};

std::vector<std::string> byte_vocab(int n_vocab, std::vector<float>& scores,
                                    std::vector<int32_t>& types) {
  // <unk>, <s>, </s>, then the 256 byte tokens, then filler pieces.
  std::vector<std::string> toks = {"<unk>", "<s>", "</s>"};
  types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    toks.push_back(buf);
    types.push_back(6);
  }
  for (int i = static_cast<int>(toks.size()); i < n_vocab; ++i) {
    toks.push_back("\xE2\x96\x81t" + std::to_string(i));  // "▁t<i>"
    types.push_back(1);
  }
  toks.resize(n_vocab);
  types.resize(n_vocab);
  scores.assign(n_vocab, 0.0f);
  for (int i = 0; i < n_vocab; ++i) scores[i] = -static_cast<float>(i);
  return toks;
}

}  // namespace

Status write_random_model(const RandomModelSpec& s, const std::string& path) {
  if (s.arch != "llama" && s.arch != "qwen2" && s.arch != "qwen3")
    return errorf("random model: unknown architecture '%s' (llama, qwen2, qwen3)", s.arch.c_str());
  const int hd = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head;
  const int64_t bs = traits(s.type).block_size;
  for (int64_t cols : {int64_t(s.n_embd), int64_t(s.n_head) * hd, int64_t(s.n_ff)})
    if (cols % bs != 0)
      return errorf("random model: row length %lld is not a multiple of %s's block size %lld",
                    static_cast<long long>(cols), type_name(s.type), static_cast<long long>(bs));
  gguf::GgufWriter w;
  const std::string a = s.arch;
  w.set("general.architecture", gguf::Value::str(a));
  w.set("general.name", gguf::Value::str("random-" + a));
  w.set(a + ".context_length", gguf::Value::u32(s.n_ctx));
  w.set(a + ".embedding_length", gguf::Value::u32(s.n_embd));
  w.set(a + ".block_count", gguf::Value::u32(s.n_layer));
  w.set(a + ".feed_forward_length", gguf::Value::u32(s.n_ff));
  w.set(a + ".attention.head_count", gguf::Value::u32(s.n_head));
  w.set(a + ".attention.head_count_kv", gguf::Value::u32(s.n_head_kv));
  w.set(a + ".rope.freq_base", gguf::Value::f32(s.rope_base));
  w.set(a + ".attention.layer_norm_rms_epsilon", gguf::Value::f32(s.rms_eps));
  if (a == "qwen3") {
    w.set(a + ".attention.key_length", gguf::Value::u32(hd));
    w.set(a + ".attention.value_length", gguf::Value::u32(hd));
  }
  if (s.with_vocab) {
    std::vector<float> scores;
    std::vector<int32_t> types;
    auto toks = byte_vocab(s.n_vocab, scores, types);
    w.set("tokenizer.ggml.model", gguf::Value::str("llama"));
    w.set("tokenizer.ggml.tokens", gguf::Value::str_array(toks));
    w.set("tokenizer.ggml.scores", gguf::Value::f32_array(scores));
    w.set("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
    w.set("tokenizer.ggml.bos_token_id", gguf::Value::u32(1));
    w.set("tokenizer.ggml.eos_token_id", gguf::Value::u32(2));
  }
  if (!s.chat_template.empty()) w.set("tokenizer.chat_template", gguf::Value::str(s.chat_template));

  Gauss g(s.seed);
  Status st;
  auto add = [&](const std::string& name, int64_t cols, int64_t rows, bool norm) {
    if (!st.ok()) return;
    std::vector<float> v(static_cast<size_t>(cols * std::max<int64_t>(rows, 1)));
    for (float& x : v) x = (norm ? 1.0f : 0.0f) + s.weight_std * g.next();
    if (rows == 0) {
      st = w.add_tensor(name, DType::F32, {cols}, v.data(), v.size() * 4);
      return;
    }
    std::vector<uint8_t> q(row_bytes(s.type, cols) * rows);
    for (int64_t r = 0; r < rows; ++r)
      quantize_row_ref(s.type, v.data() + r * cols, q.data() + r * row_bytes(s.type, cols), cols);
    st = w.add_tensor(name, s.type, {cols, rows}, q.data(), q.size());
  };
  const int q = s.n_head * hd, kv = s.n_head_kv * hd;
  add("token_embd.weight", s.n_embd, s.n_vocab, false);
  add("output_norm.weight", s.n_embd, 0, true);
  if (!s.tied_output) add("output.weight", s.n_embd, s.n_vocab, false);
  for (int l = 0; l < s.n_layer; ++l) {
    auto n = [&](const char* x) { return "blk." + std::to_string(l) + "." + x; };
    add(n("attn_norm.weight"), s.n_embd, 0, true);
    add(n("attn_q.weight"), s.n_embd, q, false);
    add(n("attn_k.weight"), s.n_embd, kv, false);
    add(n("attn_v.weight"), s.n_embd, kv, false);
    add(n("attn_output.weight"), q, s.n_embd, false);
    if (a == "qwen2") {
      add(n("attn_q.bias"), q, 0, false);
      add(n("attn_k.bias"), kv, 0, false);
      add(n("attn_v.bias"), kv, 0, false);
    }
    if (a == "qwen3") {
      add(n("attn_q_norm.weight"), hd, 0, true);
      add(n("attn_k_norm.weight"), hd, 0, true);
    }
    add(n("ffn_norm.weight"), s.n_embd, 0, true);
    add(n("ffn_gate.weight"), s.n_embd, s.n_ff, false);
    add(n("ffn_up.weight"), s.n_embd, s.n_ff, false);
    add(n("ffn_down.weight"), s.n_ff, s.n_embd, false);
  }
  SF_RETURN_IF_ERROR(st);
  return w.write(path);
}

}  // namespace sf
