#include "train/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "train/ops/simd.h"

namespace sf::train::ops {

template <typename T>
void attention_forward(const T* q, const T* k, const T* v, T* out, T* lse, const AttnShape& s,
                       const Exec& ex, std::vector<T>& scratch) {
  const int T_ = s.T, HD = s.head_dim, H = s.n_head, group = s.n_head / s.n_head_kv;
  const int64_t QD = s.q_dim(), KVD = s.kv_dim();
  const T scale = T(1) / std::sqrt(static_cast<T>(HD));
  if constexpr (std::is_same_v<T, float>) {
    if (simd::avx512() && HD <= simd::kMaxHeadDim) {
      const size_t per = simd::attn_scratch(T_, HD);
      float* sc = grow(scratch, per * ex.pool->size());
      parallel(ex, static_cast<int64_t>(s.B) * H, 1, [&](int64_t j0, int64_t j1, int th) {
        for (int64_t job = j0; job < j1; ++job) {
          const int64_t b = job / H;
          const int h = static_cast<int>(job % H), kvh = h / group;
          const int64_t base = b * T_;
          simd::attn_forward_head(q + base * QD + h * HD, k + base * KVD + kvh * HD,
                                  v + base * KVD + kvh * HD, out + base * QD + h * HD,
                                  lse + job * T_, T_, HD, QD, KVD, scale, sc + th * per);
        }
      });
      return;
    }
  }
  T* rows = grow(scratch, static_cast<size_t>(ex.pool->size()) * T_);
  parallel(ex, static_cast<int64_t>(s.B) * H, 1, [&](int64_t j0, int64_t j1, int th) {
    T* sc = rows + static_cast<int64_t>(th) * T_;
    for (int64_t job = j0; job < j1; ++job) {
      const int64_t b = job / H;
      const int h = static_cast<int>(job % H), kvh = h / group;
      const int64_t base = b * T_;
      for (int t = 0; t < T_; ++t) {
        const T* qt = q + (base + t) * QD + h * HD;
        T mx = -std::numeric_limits<T>::infinity();
        for (int t2 = 0; t2 <= t; ++t2) {
          sc[t2] = dot(qt, k + (base + t2) * KVD + kvh * HD, HD) * scale;
          mx = std::max(mx, sc[t2]);
        }
        double sum = 0;  // as the engine's softmax: T exponentials, double sum
        for (int t2 = 0; t2 <= t; ++t2) {
          sc[t2] = std::exp(sc[t2] - mx);
          sum += sc[t2];
        }
        const T inv = static_cast<T>(1.0 / sum);
        T* o = out + (base + t) * QD + h * HD;
        std::fill(o, o + HD, T(0));
        for (int t2 = 0; t2 <= t; ++t2) axpy(sc[t2] * inv, v + (base + t2) * KVD + kvh * HD, o, HD);
        lse[job * T_ + t] = mx + static_cast<T>(std::log(sum));
      }
    }
  });
}

template <typename T>
void attention_backward(const T* dout, const T* q, const T* k, const T* v, const T* out,
                        const T* lse, T* dq, T* dk, T* dv, const AttnShape& s, const Exec& ex,
                        std::vector<T>& scratch) {
  const int T_ = s.T, HD = s.head_dim, H = s.n_head, group = s.n_head / s.n_head_kv;
  const int64_t QD = s.q_dim(), KVD = s.kv_dim(), n = static_cast<int64_t>(s.B) * T_;
  const T scale = T(1) / std::sqrt(static_cast<T>(HD));
  // With groups, each query head accumulates its own dK/dV (rows x q_dim),
  // summed over the group afterwards.
  T* dkh = dk;
  T* dvh = dv;
  int64_t ld = KVD;
  const size_t gqa = group > 1 ? static_cast<size_t>(2 * n * QD) : 0;
  const bool fast = std::is_same_v<T, float> && simd::avx512() && HD <= simd::kMaxHeadDim;
  const size_t per = fast ? simd::attn_scratch(T_, HD) : 0;
  grow(scratch, gqa + per * ex.pool->size());
  if (group > 1) {
    dkh = scratch.data();
    dvh = scratch.data() + n * QD;
    ld = QD;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (fast) {
      float* sc = scratch.data() + gqa;
      parallel(ex, static_cast<int64_t>(s.B) * H, 1, [&](int64_t j0, int64_t j1, int th) {
        for (int64_t job = j0; job < j1; ++job) {
          const int64_t b = job / H;
          const int h = static_cast<int>(job % H), kvh = h / group;
          const int64_t base = b * T_;
          const int64_t col = group > 1 ? h * HD : kvh * HD;
          simd::attn_backward_head(
              dout + base * QD + h * HD, q + base * QD + h * HD, k + base * KVD + kvh * HD,
              v + base * KVD + kvh * HD, out + base * QD + h * HD, lse + job * T_,
              dq + base * QD + h * HD, dkh + base * ld + col, dvh + base * ld + col, T_, HD, QD,
              KVD, ld, scale, sc + th * per);
        }
      });
    }
  }
  if (!fast)
    parallel(ex, static_cast<int64_t>(s.B) * H, 1, [&](int64_t j0, int64_t j1, int) {
      for (int64_t job = j0; job < j1; ++job) {
        const int64_t b = job / H;
        const int h = static_cast<int>(job % H), kvh = h / group;
        const int64_t base = b * T_;
        const int64_t col = group > 1 ? h * HD : kvh * HD;  // this head's dK/dV slice
        for (int t = 0; t < T_; ++t) {
          std::fill(dkh + (base + t) * ld + col, dkh + (base + t) * ld + col + HD, T(0));
          std::fill(dvh + (base + t) * ld + col, dvh + (base + t) * ld + col + HD, T(0));
        }
        for (int t = 0; t < T_; ++t) {
          const T* qt = q + (base + t) * QD + h * HD;
          const T* dot_ = dout + (base + t) * QD + h * HD;
          T* dqt = dq + (base + t) * QD + h * HD;
          std::fill(dqt, dqt + HD, T(0));
          const T L = lse[job * T_ + t];
          // softmax backward: ds = p (dp - sum_j p_j dp_j), and sum_j p_j dp_j = dout . out.
          const T D = dot(dot_, out + (base + t) * QD + h * HD, HD);
          for (int t2 = 0; t2 <= t; ++t2) {
            const T* kt = k + (base + t2) * KVD + kvh * HD;
            const T* vt = v + (base + t2) * KVD + kvh * HD;
            const T p = std::exp(dot(qt, kt, HD) * scale - L);
            const T ds = p * (dot(dot_, vt, HD) - D) * scale;
            axpy(p, dot_, dvh + (base + t2) * ld + col, HD);
            axpy(ds, kt, dqt, HD);
            axpy(ds, qt, dkh + (base + t2) * ld + col, HD);
          }
        }
      }
    });
  if (group == 1) return;
  parallel(ex, n, std::max<int64_t>(1, 2048 / QD), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int kvh = 0; kvh < s.n_head_kv; ++kvh) {
        T* __restrict dkr = dk + r * KVD + kvh * HD;
        T* __restrict dvr = dv + r * KVD + kvh * HD;
        const T* sk = dkh + r * QD + static_cast<int64_t>(kvh) * group * HD;
        const T* sv = dvh + r * QD + static_cast<int64_t>(kvh) * group * HD;
        for (int d = 0; d < HD; ++d) {
          dkr[d] = sk[d];
          dvr[d] = sv[d];
        }
        for (int g = 1; g < group; ++g)
          for (int d = 0; d < HD; ++d) {
            dkr[d] += sk[g * HD + d];
            dvr[d] += sv[g * HD + d];
          }
      }
    }
  });
}

#define SF_INSTANTIATE(T)                                                                         \
  template void attention_forward<T>(const T*, const T*, const T*, T*, T*, const AttnShape&,      \
                                     const Exec&, std::vector<T>&);                               \
  template void attention_backward<T>(const T*, const T*, const T*, const T*, const T*, const T*, \
                                      T*, T*, T*, const AttnShape&, const Exec&, std::vector<T>&);
SF_INSTANTIATE(float)
SF_INSTANTIATE(double)
#undef SF_INSTANTIATE

}  // namespace sf::train::ops
