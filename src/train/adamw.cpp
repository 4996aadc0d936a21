#include "train/adamw.h"

#include <emmintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/status.h"
#include "core/threadpool.h"

namespace sf::train {
namespace {

// Elements per work item: big enough that scheduling costs nothing next to
// the memory traffic (4 buffers x 128 KiB), small enough to balance 2..64
// threads over a few million parameters. Also the reduction block of
// clip_grad_norm, whose boundaries must never depend on the thread count.
constexpr size_t kBlock = size_t(1) << 15;

struct Segment {
  size_t offset, size;
  bool decay;
};

std::vector<Segment> segments(const ParamLayout& layout) {
  std::vector<Segment> out;
  for (const ParamTensor& t : layout.tensors())
    for (size_t o = 0; o < t.size; o += kBlock)
      out.push_back({t.offset + o, std::min(kBlock, t.size - o), t.decay});
  return out;
}

struct StepScalars {
  float decay_mul;  // 1 - lr*wd, or 1 for tensors without decay
  float w1;         // lerp weight 1 - b1
  bool w1_small;    // torch's lerp picks its formula by weight < 0.5
  float b2, one_minus_b2;
  float bc2_sqrt;  // sqrt(1 - b2^t)
  float eps;
  float neg_step_size;  // -lr / (1 - b1^t)
};

// SSE2 is the x86-64 baseline, so this needs no dispatch; sqrt and division
// are correctly rounded in both the vector and the scalar tail (no FMA, the
// build has -ffp-contract=off), so results do not depend on alignment or on
// where a block ends.
void update_block(float* p, const float* g, float* m, float* v, size_t n, const StepScalars& s,
                  bool decay) {
  const float dm = decay ? s.decay_mul : 1.0f;
  size_t i = 0;
  const __m128 vdm = _mm_set1_ps(dm), vw1 = _mm_set1_ps(s.w1), vw1c = _mm_set1_ps(1.0f - s.w1),
               vb2 = _mm_set1_ps(s.b2), vomb2 = _mm_set1_ps(s.one_minus_b2),
               vbc2 = _mm_set1_ps(s.bc2_sqrt), veps = _mm_set1_ps(s.eps),
               vss = _mm_set1_ps(s.neg_step_size);
  for (; i + 4 <= n; i += 4) {
    __m128 vp = _mm_loadu_ps(p + i), vg = _mm_loadu_ps(g + i), vm = _mm_loadu_ps(m + i),
           vv = _mm_loadu_ps(v + i);
    if (decay) vp = _mm_mul_ps(vp, vdm);
    const __m128 diff = _mm_sub_ps(vg, vm);
    vm =
        s.w1_small ? _mm_add_ps(vm, _mm_mul_ps(vw1, diff)) : _mm_sub_ps(vg, _mm_mul_ps(diff, vw1c));
    vv = _mm_add_ps(_mm_mul_ps(vv, vb2), _mm_mul_ps(_mm_mul_ps(vomb2, vg), vg));
    const __m128 denom = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vv), vbc2), veps);
    vp = _mm_add_ps(vp, _mm_div_ps(_mm_mul_ps(vss, vm), denom));
    _mm_storeu_ps(p + i, vp);
    _mm_storeu_ps(m + i, vm);
    _mm_storeu_ps(v + i, vv);
  }
  for (; i < n; ++i) {
    float pi = p[i];
    if (decay) pi *= dm;
    const float diff = g[i] - m[i];
    const float mi = s.w1_small ? m[i] + s.w1 * diff : g[i] - diff * (1.0f - s.w1);
    const float vi = v[i] * s.b2 + (s.one_minus_b2 * g[i]) * g[i];
    const float denom = std::sqrt(vi) / s.bc2_sqrt + s.eps;
    p[i] = pi + (s.neg_step_size * mi) / denom;
    m[i] = mi;
    v[i] = vi;
  }
}

// Sum of squares of one block in double: eight lanes (four SSE2 double
// pairs) accumulated independently and combined in a fixed order, so the
// result is deterministic and the loop is not one long dependency chain.
double block_sumsq(const float* x, size_t n) {
  __m128d a0 = _mm_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128 lo = _mm_loadu_ps(x + i), hi = _mm_loadu_ps(x + i + 4);
    const __m128d d0 = _mm_cvtps_pd(lo), d1 = _mm_cvtps_pd(_mm_movehl_ps(lo, lo));
    const __m128d d2 = _mm_cvtps_pd(hi), d3 = _mm_cvtps_pd(_mm_movehl_ps(hi, hi));
    a0 = _mm_add_pd(a0, _mm_mul_pd(d0, d0));
    a1 = _mm_add_pd(a1, _mm_mul_pd(d1, d1));
    a2 = _mm_add_pd(a2, _mm_mul_pd(d2, d2));
    a3 = _mm_add_pd(a3, _mm_mul_pd(d3, d3));
  }
  double lanes[8];
  _mm_storeu_pd(lanes, a0);
  _mm_storeu_pd(lanes + 2, a1);
  _mm_storeu_pd(lanes + 4, a2);
  _mm_storeu_pd(lanes + 6, a3);
  double tail = 0;
  for (; i < n; ++i) tail += double(x[i]) * x[i];
  return (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
          ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))) +
         tail;
}

// torch: clip_coef = max_norm / (total_norm + 1e-6), applied when < 1.
float clip_coef(double norm, float max_norm) {
  if (max_norm <= 0 || !std::isfinite(norm)) return 1.0f;
  const double c = double(max_norm) / (norm + 1e-6);
  return c < 1.0 ? static_cast<float>(c) : 1.0f;
}

void scale(float* x, size_t n, float c) {
  for (size_t i = 0; i < n; ++i) x[i] *= c;
}

}  // namespace

void adamw_step(const ParamLayout& layout, ParamBuffer<float>& params,
                const ParamBuffer<float>& grads, ParamBuffer<float>& m, ParamBuffer<float>& v,
                int step, float lr, const AdamWConfig& cfg, ThreadPool& pool) {
  SF_CHECK(params.data.size() == layout.total() && grads.data.size() == layout.total() &&
               m.data.size() == layout.total() && v.data.size() == layout.total(),
           "adamw_step: buffers not allocated for the layout");
  SF_CHECK(step >= 1, "adamw_step: step is 1-based");
  StepScalars s;
  s.decay_mul = static_cast<float>(1.0 - double(lr) * double(cfg.weight_decay));
  s.w1 = static_cast<float>(1.0 - double(cfg.beta1));
  s.w1_small = s.w1 < 0.5f;
  s.b2 = cfg.beta2;
  s.one_minus_b2 = static_cast<float>(1.0 - double(cfg.beta2));
  const double bc1 = 1.0 - std::pow(double(cfg.beta1), step);
  const double bc2 = 1.0 - std::pow(double(cfg.beta2), step);
  s.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  s.eps = cfg.eps;
  s.neg_step_size = static_cast<float>(-(double(lr) / bc1));
  const bool decay_on = cfg.weight_decay != 0.0f;

  const std::vector<Segment> segs = segments(layout);
  float* p = params.data.data();
  const float* g = grads.data.data();
  float* mm = m.data.data();
  float* vv = v.data.data();
  pool.parallel_for(static_cast<int64_t>(segs.size()), 1, [&](int64_t b, int64_t e, int) {
    for (int64_t k = b; k < e; ++k) {
      const Segment& sg = segs[k];
      update_block(p + sg.offset, g + sg.offset, mm + sg.offset, vv + sg.offset, sg.size, s,
                   decay_on && sg.decay);
    }
  });
}

float clip_grad_norm(ParamBuffer<float>& grads, float max_norm) {
  const size_t n = grads.data.size();
  double total = 0;
  for (size_t o = 0; o < n; o += kBlock)
    total += block_sumsq(grads.data.data() + o, std::min(kBlock, n - o));
  const double norm = std::sqrt(total);
  const float c = clip_coef(norm, max_norm);
  if (c != 1.0f) scale(grads.data.data(), n, c);
  return static_cast<float>(norm);
}

float clip_grad_norm(ParamBuffer<float>& grads, float max_norm, ThreadPool& pool) {
  const size_t n = grads.data.size();
  const int64_t n_blocks = static_cast<int64_t>((n + kBlock - 1) / kBlock);
  std::vector<double> sums(n_blocks, 0.0);
  float* x = grads.data.data();
  pool.parallel_for(n_blocks, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t k = b; k < e; ++k) {
      const size_t o = size_t(k) * kBlock;
      sums[k] = block_sumsq(x + o, std::min(kBlock, n - o));
    }
  });
  double total = 0;
  for (double s : sums) total += s;  // block order, as the serial version
  const double norm = std::sqrt(total);
  const float c = clip_coef(norm, max_norm);
  if (c != 1.0f)
    pool.parallel_for(n_blocks, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t k = b; k < e; ++k) {
        const size_t o = size_t(k) * kBlock;
        scale(x + o, std::min(kBlock, n - o), c);
      }
    });
  return static_cast<float>(norm);
}

}  // namespace sf::train
