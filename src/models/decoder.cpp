#include "models/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/attention.h"
#include "core/matmul.h"
#include "core/ops.h"
#include "core/threadpool.h"
#include "models/lora_apply.h"

namespace sf {
namespace {

void add_bias(float* y, const WeightView& b, int64_t m, int64_t n) {
  if (b.empty()) return;
  const float* bias = static_cast<const float*>(b.data);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) y[i * n + j] += bias[j];
}

// Per-head RMSNorm (Qwen3's q/k norm) over each head_dim slice.
void head_norm(float* x, const WeightView& w, int64_t m, int n_heads, int head_dim, float eps) {
  const float* wt = static_cast<const float*>(w.data);
  for (int64_t i = 0; i < m * n_heads; ++i)
    rmsnorm(x + i * head_dim, wt, x + i * head_dim, head_dim, eps);
}

// Rotates each head's dimension pairs by pos * inv_freq[i].
void rope(float* x, int n_heads, int head_dim, int pos, const double* inv_freq, RopeMode mode,
          float linear_scale) {
  const int half = head_dim / 2;
  const double p = static_cast<double>(pos) / linear_scale;
  for (int i = 0; i < half; ++i) {
    const double theta = p * inv_freq[i];
    const float c = static_cast<float>(std::cos(theta));
    const float sn = static_cast<float>(std::sin(theta));
    for (int h = 0; h < n_heads; ++h) {
      float* hx = x + static_cast<size_t>(h) * head_dim;
      float* a = mode == RopeMode::Norm ? hx + 2 * i : hx + i;
      float* b = mode == RopeMode::Norm ? hx + 2 * i + 1 : hx + i + half;
      const float x0 = *a, x1 = *b;
      *a = x0 * c - x1 * sn;
      *b = x0 * sn + x1 * c;
    }
  }
}

Status validate(const Model& model, const Batch& batch, const KvCache& cache,
                const DecoderScratch& s) {
  const ModelConfig& c = model.config();
  if (batch.size() == 0) return Status::error("forward: empty batch");
  if (batch.size() > s.max_tokens)
    return errorf("forward: batch of %lld tokens exceeds the scratch capacity of %d",
                  static_cast<long long>(batch.size()), s.max_tokens);
  if (s.lora) SF_RETURN_IF_ERROR(s.lora->compatible(model));
  for (int64_t i = 0; i < batch.size(); ++i) {
    if (batch.token[i] < 0 || batch.token[i] >= c.n_vocab)
      return errorf("token id %d is out of range: the model's vocabulary has %d tokens",
                    batch.token[i], c.n_vocab);
    if (batch.pos[i] < 0 || batch.pos[i] >= cache.n_ctx())
      return errorf("position %d is outside the context of %d tokens (raise -c / --ctx-size)",
                    batch.pos[i], cache.n_ctx());
    if (batch.seq[i] < 0 || batch.seq[i] >= cache.n_seq())
      return errorf("sequence %d is outside the cache's %d sequences", batch.seq[i], cache.n_seq());
  }
  return {};
}

}  // namespace

DecoderScratch::DecoderScratch(const Model& model, int max_tokens_, int n_threads)
    : max_tokens(max_tokens_) {
  const ModelConfig& c = model.config();
  const size_t m = static_cast<size_t>(max_tokens);
  x.resize(m * c.n_embd);
  xn.resize(m * c.n_embd);
  q.resize(m * c.q_dim());
  k.resize(m * c.kv_dim());
  v.resize(m * c.kv_dim());
  att.resize(m * c.q_dim());
  ffn_gate.resize(m * c.n_ff);
  ffn_up.resize(m * c.n_ff);
  out_rows.resize(m * c.n_embd);
  // About 128 query rows per attention job: enough rows to amortize bringing a
  // chunk of keys into cache, small enough to spread a prompt over threads.
  const int group = c.n_head / c.n_head_kv;
  attn_block_entries = std::max(1, 128 / group);
  const int rows = std::min(max_tokens, attn_block_entries) * group;
  attn.resize(n_threads > 0 ? n_threads : 1);
  for (AttnThread& a : attn) {
    a.scratch.resize(attend_scratch_floats(c.head_dim, rows));
    a.q.resize(rows);
    a.out.resize(rows);
    a.n_keys.resize(rows);
  }
  attn_blocks.reserve(max_tokens);
  inv_freq.resize(c.head_dim / 2);
  for (int i = 0; i < c.head_dim / 2; ++i)
    inv_freq[i] = std::pow(static_cast<double>(c.rope_base), -2.0 * i / c.head_dim);
  // Llama 3's long-context factors divide each pair's frequency.
  if (const WeightView& f = model.weights().rope_freqs; !f.empty()) {
    for (int i = 0; i < c.head_dim / 2; ++i) inv_freq[i] /= static_cast<const float*>(f.data)[i];
  } else if (static_cast<int>(c.rope_freq_factors.size()) == c.head_dim / 2) {
    // Same factors computed from a Hugging Face config.json's rope_scaling.
    for (int i = 0; i < c.head_dim / 2; ++i) inv_freq[i] /= c.rope_freq_factors[i];
  }
}

Status forward(const Model& model, const Batch& batch, KvCache& cache, DecoderScratch& s,
               ThreadPool& pool, float* logits, float* hidden) {
  SF_RETURN_IF_ERROR(validate(model, batch, cache, s));
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  const int64_t m = batch.size();
  const int E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), HD = c.head_dim;
  const int group = c.n_head / c.n_head_kv;
  const float att_scale = 1.0f / std::sqrt(static_cast<float>(HD));

  const std::vector<double>& inv_freq = s.inv_freq;
  // y (m x out) += the adapters' B (A x) for projection p of layer l.
  auto lora = [&](int l, LoraProj p, const float* x, int64_t in, float* y, int64_t out) {
    if (s.lora) s.lora->apply(l, p, x, in, y, out, m, s.lora_tmp, pool);
  };

  for (int64_t i = 0; i < m; ++i) weight_row_f32(w.tok_embd, batch.token[i], s.x.data() + i * E);
  // Blocks of consecutive entries of one sequence, for attention jobs.
  s.attn_blocks.clear();
  for (int i = 0; i < m;) {
    int j = i + 1;
    while (j < m && j - i < s.attn_block_entries && batch.seq[j] == batch.seq[i]) ++j;
    s.attn_blocks.emplace_back(i, j);
    i = j;
  }
  if (s.trace) s.trace("inp_embd", -1, s.x.data(), m, E);

  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = w.layers[l];
    for (int64_t i = 0; i < m; ++i)
      rmsnorm(s.x.data() + i * E, static_cast<const float*>(L.attn_norm.data), s.xn.data() + i * E,
              E, c.rms_eps);
    matmul(L.wq, s.xn.data(), E, s.q.data(), Q, m, pool);
    matmul(L.wk, s.xn.data(), E, s.k.data(), KV, m, pool);
    matmul(L.wv, s.xn.data(), E, s.v.data(), KV, m, pool);
    lora(l, LoraProj::Q, s.xn.data(), E, s.q.data(), Q);
    lora(l, LoraProj::K, s.xn.data(), E, s.k.data(), KV);
    lora(l, LoraProj::V, s.xn.data(), E, s.v.data(), KV);
    add_bias(s.q.data(), L.bq, m, Q);
    add_bias(s.k.data(), L.bk, m, KV);
    add_bias(s.v.data(), L.bv, m, KV);
    if (c.qk_norm) {
      head_norm(s.q.data(), L.q_norm, m, c.n_head, HD, c.rms_eps);
      head_norm(s.k.data(), L.k_norm, m, c.n_head_kv, HD, c.rms_eps);
    }
    for (int64_t i = 0; i < m; ++i) {
      rope(s.q.data() + i * Q, c.n_head, HD, batch.pos[i], inv_freq.data(), c.rope_mode,
           c.rope_linear_scale);
      rope(s.k.data() + i * KV, c.n_head_kv, HD, batch.pos[i], inv_freq.data(), c.rope_mode,
           c.rope_linear_scale);
      std::memcpy(cache.k(l, batch.seq[i], batch.pos[i]), s.k.data() + i * KV, KV * sizeof(float));
      std::memcpy(cache.v(l, batch.seq[i], batch.pos[i]), s.v.data() + i * KV, KV * sizeof(float));
    }
    if (s.trace) {
      s.trace("Qcur", l, s.q.data(), m, Q);
      s.trace("Kcur", l, s.k.data(), m, KV);
    }

    // Causal attention: entry i sees positions 0..pos[i] of its own sequence.
    // A job is one block of same-sequence entries and one KV head: the rows
    // are those entries' query heads of that head's group. Heavier blocks
    // (later positions) go first so both threads finish together.
    const int n_jobs = static_cast<int>(s.attn_blocks.size()) * c.n_head_kv;
    pool.parallel_for(n_jobs, 1, [&](int64_t b, int64_t e, int t) {
      DecoderScratch::AttnThread& at = s.attn[t];
      for (int64_t job = b; job < e; ++job) {
        const int64_t rev = n_jobs - 1 - job;
        const auto [i0, i1] = s.attn_blocks[rev / c.n_head_kv];
        const int kvh = static_cast<int>(rev % c.n_head_kv);
        int n = 0;
        for (int i = i0; i < i1; ++i)
          for (int h = kvh * group; h < (kvh + 1) * group; ++h, ++n) {
            at.q[n] = s.q.data() + i * Q + h * HD;
            at.out[n] = s.att.data() + i * Q + h * HD;
            at.n_keys[n] = batch.pos[i] + 1;
          }
        const int seq = batch.seq[i0];
        const KvRows kv{cache.k(l, seq, 0) + kvh * HD, cache.v(l, seq, 0) + kvh * HD, KV};
        attend(AttentionRows{n, at.q.data(), at.out.data(), at.n_keys.data()}, kv, HD, att_scale,
               at.scratch.data());
      }
    });
    if (s.trace) s.trace("kqv_out", l, s.att.data(), m, Q);

    matmul(L.wo, s.att.data(), Q, s.out_rows.data(), E, m, pool);
    lora(l, LoraProj::O, s.att.data(), Q, s.out_rows.data(), E);
    for (int64_t j = 0; j < m * E; ++j) s.x[j] += s.out_rows[j];

    for (int64_t i = 0; i < m; ++i)
      rmsnorm(s.x.data() + i * E, static_cast<const float*>(L.ffn_norm.data), s.xn.data() + i * E,
              E, c.rms_eps);
    matmul(L.w_gate, s.xn.data(), E, s.ffn_gate.data(), c.n_ff, m, pool);
    matmul(L.w_up, s.xn.data(), E, s.ffn_up.data(), c.n_ff, m, pool);
    lora(l, LoraProj::Gate, s.xn.data(), E, s.ffn_gate.data(), c.n_ff);
    lora(l, LoraProj::Up, s.xn.data(), E, s.ffn_up.data(), c.n_ff);
    pool.parallel_for(m, std::max<int64_t>(1, 16384 / c.n_ff), [&](int64_t i0, int64_t i1, int) {
      swiglu(s.ffn_gate.data() + i0 * c.n_ff, s.ffn_up.data() + i0 * c.n_ff, (i1 - i0) * c.n_ff);
    });
    matmul(L.w_down, s.ffn_gate.data(), c.n_ff, s.out_rows.data(), E, m, pool);
    lora(l, LoraProj::Down, s.ffn_gate.data(), c.n_ff, s.out_rows.data(), E);
    for (int64_t j = 0; j < m * E; ++j) s.x[j] += s.out_rows[j];
    if (s.trace) s.trace("l_out", l, s.x.data(), m, E);
  }

  // Final norm and output head, only for the rows whose logits are wanted.
  int64_t n_out = 0;
  for (int64_t i = 0; i < m; ++i) {
    if (!batch.want_logits[i]) continue;
    rmsnorm(s.x.data() + i * E, static_cast<const float*>(w.output_norm.data),
            s.xn.data() + n_out * E, E, c.rms_eps);
    ++n_out;
  }
  if (hidden && n_out > 0) std::memcpy(hidden, s.xn.data(), n_out * E * sizeof(float));
  if (logits && n_out > 0) matmul(w.output, s.xn.data(), E, logits, c.n_vocab, n_out, pool);
  if (s.trace && logits && n_out > 0) s.trace("result_output", -1, logits, n_out, c.n_vocab);
  return {};
}

}  // namespace sf
