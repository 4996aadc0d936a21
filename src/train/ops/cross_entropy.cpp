#include "train/ops/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "train/ops/linear.h"
#include "train/ops/simd.h"

namespace sf::train::ops {
namespace {

// Logits held at once: 32 MiB of f32.
constexpr int64_t kLogitElems = int64_t(8) << 20;

template <typename T>
T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

template <typename T>
double sum_exp(const T* x, int64_t n, T mx) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - mx);
  return s;
}

}  // namespace

template <typename T>
double softmax_xent_row(T* logits, int64_t V, int32_t target, T grad, bool want_grad) {
  if constexpr (std::is_same_v<T, float>)
    if (simd::avx512()) return simd::softmax_xent_row(logits, V, target, grad, want_grad);
  const T mx = row_max(logits, V);
  const double sum = sum_exp(logits, V, mx);
  const double loss = std::log(sum) - static_cast<double>(logits[target] - mx);
  if (want_grad) {
    const T g = static_cast<T>(grad / sum);
    for (int64_t j = 0; j < V; ++j) logits[j] = g * std::exp(logits[j] - mx);
    logits[target] -= grad;
  }
  return loss;
}

template <typename T>
void cross_entropy(T* logits, const int32_t* targets, const float* mask, int64_t n, int64_t V,
                   T grad_scale, bool want_grad, double* losses, const Exec& ex) {
  parallel(ex, n, 1, [&](int64_t r0, int64_t r1, int) {
    for (int64_t i = r0; i < r1; ++i) {
      T* row = logits + i * V;
      const float w = mask ? mask[i] : 1.0f;
      if (w == 0.0f) {
        losses[i] = 0;
        if (want_grad) std::fill(row, row + V, T(0));
        continue;
      }
      losses[i] = softmax_xent_row(row, V, targets[i], grad_scale * static_cast<T>(w), want_grad);
    }
  });
}

template <typename T>
double output_head_loss(const HeadIO<T>& io, const T* w, T* dw, const Exec& ex,
                        std::vector<T>& scratch, std::vector<double>& losses) {
  const int64_t n = io.n, E = io.E, V = io.V;
  const int64_t budget = io.chunk_elems > 0 ? io.chunk_elems : kLogitElems;
  const int64_t step = std::clamp<int64_t>(budget / V, 1, n);
  T* L = grow(scratch, static_cast<size_t>(step * V));
  grow(losses, static_cast<size_t>(n));
  const bool grad = io.dxn != nullptr;
  double total = 0;
  for (int64_t i0 = 0; i0 < n; i0 += step) {
    const int64_t rows = std::min(n, i0 + step) - i0;
    const T* x = io.xn + i0 * E;
    bool any = !io.mask;
    for (int64_t i = 0; i < rows && !any; ++i) any = io.mask[i0 + i] != 0.0f;
    if (!any) {  // prompt-only chunk (SFT): no loss, no gradient
      if (grad) std::fill(io.dxn + i0 * E, io.dxn + (i0 + rows) * E, T(0));
      continue;
    }
    gemm<T>(Trans::No, Trans::Yes, rows, V, E, T(1), x, E, w, E, T(0), L, V, ex);
    cross_entropy(L, io.targets + i0, io.mask ? io.mask + i0 : nullptr, rows, V, io.grad_scale,
                  grad, losses.data() + i0, ex);
    for (int64_t i = 0; i < rows; ++i)
      total += losses[i0 + i] * (io.mask ? static_cast<double>(io.mask[i0 + i]) : 1.0);
    if (!grad) continue;
    if (dw) gemm<T>(Trans::Yes, Trans::No, V, E, rows, T(1), L, V, x, E, T(1), dw, E, ex);
    gemm<T>(Trans::No, Trans::No, rows, E, V, T(1), L, V, w, E, T(0), io.dxn + i0 * E, E, ex);
  }
  return total;
}

template <typename T>
double frozen_output_head_loss(const HeadIO<T>& io, const WeightView& w, const Exec& ex,
                               std::vector<T>& scratch, std::vector<double>& stats) {
  const int64_t n = io.n, E = io.E, V = io.V;
  const int64_t budget = io.chunk_elems > 0 ? io.chunk_elems : kLogitElems;
  const int64_t vstep = std::clamp<int64_t>(budget / std::max(n, E), 1, V);
  grow(scratch, static_cast<size_t>(vstep * (n + E)));
  T* L = scratch.data();               // n x vstep logits
  T* wc = scratch.data() + vstep * n;  // vstep x E weight slice
  // Per row: running max, sum of exp relative to it, target logit.
  grow(stats, static_cast<size_t>(3 * n));
  double* mx = stats.data();
  double* sum = mx + n;
  double* tl = sum + n;
  std::fill(mx, mx + n, -std::numeric_limits<double>::infinity());
  std::fill(sum, sum + n, 0.0);
  auto weight = [&](int64_t i) { return io.mask ? static_cast<double>(io.mask[i]) : 1.0; };

  for (int64_t v0 = 0; v0 < V; v0 += vstep) {
    const int64_t vc = std::min(V, v0 + vstep) - v0;
    dequantize_rows(w, v0, v0 + vc, wc, ex);
    gemm<T>(Trans::No, Trans::Yes, n, vc, E, T(1), io.xn, E, wc, E, T(0), L, vc, ex);
    parallel(ex, n, 1, [&](int64_t r0, int64_t r1, int) {
      for (int64_t i = r0; i < r1; ++i) {
        if (weight(i) == 0.0) continue;
        const T* row = L + i * vc;
        const double cm = static_cast<double>(row_max(row, vc));
        const double m = std::max(mx[i], cm);
        double s = 0;
        for (int64_t j = 0; j < vc; ++j) s += std::exp(static_cast<double>(row[j]) - m);
        sum[i] = sum[i] * std::exp(mx[i] - m) + s;
        mx[i] = m;
        const int32_t t = io.targets[i];
        if (t >= v0 && t < v0 + vc) tl[i] = static_cast<double>(row[t - v0]);
      }
    });
  }
  double total = 0;
  for (int64_t i = 0; i < n; ++i)
    if (weight(i) != 0.0) total += weight(i) * (std::log(sum[i]) + mx[i] - tl[i]);
  if (!io.dxn) return total;

  for (int64_t i = 0; i < n; ++i) mx[i] += std::log(sum[i]);  // mx now holds the log-sum-exp
  for (int64_t v0 = 0; v0 < V; v0 += vstep) {
    const int64_t vc = std::min(V, v0 + vstep) - v0;
    dequantize_rows(w, v0, v0 + vc, wc, ex);
    gemm<T>(Trans::No, Trans::Yes, n, vc, E, T(1), io.xn, E, wc, E, T(0), L, vc, ex);
    parallel(ex, n, 1, [&](int64_t r0, int64_t r1, int) {
      for (int64_t i = r0; i < r1; ++i) {
        T* row = L + i * vc;
        const double wi = weight(i);
        if (wi == 0.0) {
          std::fill(row, row + vc, T(0));
          continue;
        }
        const T g = io.grad_scale * static_cast<T>(wi);
        for (int64_t j = 0; j < vc; ++j)
          row[j] = g * static_cast<T>(std::exp(static_cast<double>(row[j]) - mx[i]));
        const int32_t t = io.targets[i];
        if (t >= v0 && t < v0 + vc) row[t - v0] -= g;
      }
    });
    gemm<T>(Trans::No, Trans::No, n, E, vc, T(1), L, vc, wc, E, v0 == 0 ? T(0) : T(1), io.dxn, E,
            ex);
  }
  return total;
}

#define SF_INSTANTIATE(T)                                                                      \
  template double softmax_xent_row<T>(T*, int64_t, int32_t, T, bool);                          \
  template void cross_entropy<T>(T*, const int32_t*, const float*, int64_t, int64_t, T, bool,  \
                                 double*, const Exec&);                                        \
  template double output_head_loss<T>(const HeadIO<T>&, const T*, T*, const Exec&,             \
                                      std::vector<T>&, std::vector<double>&);                  \
  template double frozen_output_head_loss<T>(const HeadIO<T>&, const WeightView&, const Exec&, \
                                             std::vector<T>&, std::vector<double>&);
SF_INSTANTIATE(float)
SF_INSTANTIATE(double)
#undef SF_INSTANTIATE

}  // namespace sf::train::ops
