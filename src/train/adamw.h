// AdamW and global gradient-norm clipping over flat parameter buffers
// (train/params.h): one elementwise loop over the whole layout, split into
// fixed blocks the thread pool shares.
//
// Determinism: adamw_step is elementwise, so its result does not depend on
// the thread count. clip_grad_norm sums squares per fixed block of the flat
// buffer (block boundaries never depend on threads) and adds the block sums
// in index order, so the norm is bit-identical for any pool size — the
// trainer's exact-resume guarantee relies on both.
#pragma once

#include "train/params.h"

namespace sf {
class ThreadPool;
}

namespace sf::train {

struct AdamWConfig {
  float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.1f;
};

// One step, 1-based `step` for bias correction, torch.optim.AdamW semantics
// (single-tensor path), with torch's operation order so results agree to
// float rounding:
//   p *= 1 - lr*wd                      (only tensors with decay = true)
//   m  = lerp(m, g, 1 - b1)             (= b1 m + (1-b1) g)
//   v  = b2 v + (1-b2) g g
//   p += -(lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Bias-correction scalars are computed in double, as torch does in Python.
// Padding between tensors is not touched. params, grads, m and v must all be
// allocated for `layout` (checked).
void adamw_step(const ParamLayout& layout, ParamBuffer<float>& params,
                const ParamBuffer<float>& grads, ParamBuffer<float>& m, ParamBuffer<float>& v,
                int step, float lr, const AdamWConfig& cfg, ThreadPool& pool);

// Global L2 norm over all grads (double accumulation); if it exceeds max_norm
// the grads are scaled by max_norm / (norm + 1e-6) — torch's
// clip_grad_norm_, which scales whenever that coefficient is below 1. Returns
// the norm before clipping (NaN/inf propagate: the caller decides). max_norm
// <= 0: no clipping, the norm is still returned.
float clip_grad_norm(ParamBuffer<float>& grads, float max_norm);
// Same result bit for bit, the sum and the scaling spread over the pool.
float clip_grad_norm(ParamBuffer<float>& grads, float max_norm, ThreadPool& pool);

}  // namespace sf::train
