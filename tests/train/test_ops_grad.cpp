// Every training op's backward against central finite differences of its
// forward, in double precision: the probe loss is L = sum(w . y) with fixed
// random w (so dL/dy = w is the upstream gradient), and each input's
// analytic gradient must match (L(x + h) - L(x - h)) / 2h elementwise.
// Bound: max |fd - analytic| <= 1e-6 * max |analytic| per input (the
// truncation error at h = 1e-5 is ~1e-10 relative; a wrong term is O(1)).
// Sizes are odd on purpose; GQA ratio 2, masks with zeros, both RoPE modes.
// Forwards are also checked against direct formulas where one is short, and
// the f32 instantiation against the f64 one.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "core/quant.h"
#include "core/threadpool.h"
#include "train/ops/attention.h"
#include "train/ops/cross_entropy.h"
#include "train/ops/embedding.h"
#include "train/ops/linear.h"
#include "train/ops/residual.h"
#include "train/ops/rmsnorm.h"
#include "train/ops/rope.h"
#include "train/ops/swiglu.h"

namespace sf::train::ops {
namespace {

using Vec = std::vector<double>;
constexpr double kTol = 1e-6;

Vec randv(size_t n, uint32_t seed, double lo = -1, double hi = 1) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Vec v(n);
  for (double& x : v) x = u(g);
  return v;
}

double probe(const Vec& y, const Vec& w) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += y[i] * w[i];
  return s;
}

// max |fd - g| / max |g| over all elements of x; also asserts g is not all zero.
double fd_error(const std::function<double()>& loss, Vec& x, const Vec& g, const char* what) {
  EXPECT_EQ(x.size(), g.size()) << what;
  const double h = 1e-5;
  double err = 0, scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double lp = loss();
    x[i] = keep - h;
    const double lm = loss();
    x[i] = keep;
    const double fd = (lp - lm) / (2 * h);
    err = std::max(err, std::fabs(fd - g[i]));
    scale = std::max(scale, std::fabs(g[i]));
  }
  EXPECT_GT(scale, 1e-8) << what << ": gradient is zero, the check would be vacuous";
  return err / std::max(scale, 1e-300);
}

std::vector<float> to_f(const Vec& v) {
  return std::vector<float>(v.begin(), v.end());
}

double max_rel(const std::vector<float>& a, const Vec& b) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    err = std::max(err, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return err / std::max(scale, 1e-300);
}

class OpsGrad : public ::testing::Test {
 protected:
  ThreadPool pool{3};
  Exec ex{&pool, GemmPrecision::F32};
};

TEST_F(OpsGrad, RmsNorm) {
  const int64_t rows = 5, dim = 13;
  Vec x = randv(rows * dim, 1), w = randv(dim, 2, 0.5, 1.5), up = randv(rows * dim, 3);
  std::vector<double> scratch;
  auto loss = [&] {
    Vec y(rows * dim), r(rows);
    rmsnorm_forward(x.data(), w.data(), y.data(), r.data(), rows, dim, 1e-5f, ex);
    return probe(y, up);
  };
  Vec y(rows * dim), r(rows), dx(rows * dim), dw(dim, 0.0);
  rmsnorm_forward(x.data(), w.data(), y.data(), r.data(), rows, dim, 1e-5f, ex);
  // Direct formula for one row.
  double ss = 0;
  for (int i = 0; i < dim; ++i) ss += x[dim + i] * x[dim + i];
  EXPECT_NEAR(y[dim + 4], x[dim + 4] / std::sqrt(ss / dim + 1e-5) * w[4], 1e-12);
  rmsnorm_backward(up.data(), x.data(), w.data(), r.data(), dx.data(), false, dw.data(), rows, dim,
                   ex, scratch);
  EXPECT_LT(fd_error(loss, x, dx, "rmsnorm dx"), kTol);
  EXPECT_LT(fd_error(loss, w, dw, "rmsnorm dw"), kTol);

  // Accumulate mode adds; in-place mode (dx aliases dy) equals the out-of-place result.
  Vec acc(rows * dim, 0.25);
  rmsnorm_backward<double>(up.data(), x.data(), w.data(), r.data(), acc.data(), true, nullptr, rows,
                           dim, ex, scratch);
  for (size_t i = 0; i < acc.size(); ++i) EXPECT_NEAR(acc[i], 0.25 + dx[i], 1e-12);
  Vec inplace = up;
  rmsnorm_backward<double>(inplace.data(), x.data(), w.data(), r.data(), inplace.data(), false,
                           nullptr, rows, dim, ex, scratch);
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(inplace[i], dx[i], 1e-12);
}

TEST_F(OpsGrad, RmsNormManyRowsBlocksSumInOrder) {
  // More rows than one partial block (32) and a thread count that does not
  // divide them: dw must still be the plain sum.
  const int64_t rows = 77, dim = 9;
  Vec x = randv(rows * dim, 4), w = randv(dim, 5, 0.5, 1.5), up = randv(rows * dim, 6);
  Vec y(rows * dim), r(rows), dx(rows * dim), dw(dim, 0.0);
  std::vector<double> scratch;
  rmsnorm_forward(x.data(), w.data(), y.data(), r.data(), rows, dim, 1e-6f, ex);
  rmsnorm_backward(up.data(), x.data(), w.data(), r.data(), dx.data(), false, dw.data(), rows, dim,
                   ex, scratch);
  auto loss = [&] {
    Vec yy(rows * dim), rr(rows);
    rmsnorm_forward(x.data(), w.data(), yy.data(), rr.data(), rows, dim, 1e-6f, ex);
    return probe(yy, up);
  };
  EXPECT_LT(fd_error(loss, w, dw, "rmsnorm dw (many rows)"), kTol);
}

TEST_F(OpsGrad, LinearWithBias) {
  const int64_t n = 5, in = 11, out = 7;
  Vec x = randv(n * in, 7), w = randv(out * in, 8), b = randv(out, 9), up = randv(n * out, 10);
  auto loss = [&] {
    Vec y(n * out);
    linear_forward(x.data(), w.data(), b.data(), y.data(), n, in, out, ex);
    return probe(y, up);
  };
  Vec y(n * out);
  linear_forward(x.data(), w.data(), b.data(), y.data(), n, in, out, ex);
  double direct = b[3];
  for (int k = 0; k < in; ++k) direct += x[2 * in + k] * w[3 * in + k];
  EXPECT_NEAR(y[2 * out + 3], direct, 1e-12);
  Vec dx(n * in), dw(out * in, 0.0), db(out, 0.0);
  linear_backward(up.data(), x.data(), w.data(), dx.data(), false, dw.data(), db.data(), n, in, out,
                  ex);
  EXPECT_LT(fd_error(loss, x, dx, "linear dx"), kTol);
  EXPECT_LT(fd_error(loss, w, dw, "linear dw"), kTol);
  EXPECT_LT(fd_error(loss, b, db, "linear db"), kTol);
  // Parameter gradients accumulate; dx accumulates only when asked.
  Vec dx2(n * in, 1.0);
  linear_backward<double>(up.data(), x.data(), w.data(), dx2.data(), true, dw.data(), nullptr, n,
                          in, out, ex);
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dx2[i], 1.0 + dx[i], 1e-12);
  Vec dw1(out * in, 0.0);
  linear_backward<double>(up.data(), x.data(), w.data(), nullptr, false, dw1.data(), nullptr, n, in,
                          out, ex);
  for (size_t i = 0; i < dw.size(); ++i) EXPECT_NEAR(dw[i], 2 * dw1[i], 1e-12);
}

TEST_F(OpsGrad, FrozenLinearMatchesDequantizedWeights) {
  // A Q8_0 weight: the frozen path must equal the trainable path on its
  // dequantized values, forward and input gradient, in f64 and in f32, also
  // when the weight is split into several chunks.
  const int64_t n = 3, in = 64, out = 9;
  Vec wf = randv(out * in, 11);
  std::vector<float> wf32 = to_f(wf);
  std::vector<uint8_t> q(row_bytes(DType::Q8_0, in) * out);
  for (int64_t r = 0; r < out; ++r)
    quantize_row_ref(DType::Q8_0, wf32.data() + r * in, q.data() + r * row_bytes(DType::Q8_0, in),
                     in);
  WeightView view{DType::Q8_0, q.data(), out, in};
  Vec wd(out * in);
  dequantize_rows<double>(view, 0, out, wd.data(), ex);
  double moved = 0;
  for (size_t i = 0; i < wd.size(); ++i) moved = std::max(moved, std::fabs(wd[i] - wf[i]));
  EXPECT_GT(moved, 0.0) << "Q8_0 should round the weights";
  Vec x = randv(n * in, 12), up = randv(n * out, 13);
  Vec y_ref(n * out), y(n * out), dx_ref(n * in), dx(n * in);
  std::vector<double> scratch;
  linear_forward(x.data(), wd.data(), static_cast<const double*>(nullptr), y_ref.data(), n, in, out,
                 ex);
  frozen_linear_forward(view, x.data(), y.data(), n, ex, scratch);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], y_ref[i], 1e-12);
  linear_backward(up.data(), x.data(), wd.data(), dx_ref.data(), false,
                  static_cast<double*>(nullptr), static_cast<double*>(nullptr), n, in, out, ex);
  frozen_linear_backward(view, up.data(), dx.data(), false, n, ex, scratch);
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dx[i], dx_ref[i], 1e-12);

  std::vector<float> xf = to_f(x), upf = to_f(up), yf(n * out), dxf(n * in, 0.5f);
  std::vector<float> sf;
  frozen_linear_forward(view, xf.data(), yf.data(), n, ex, sf);
  frozen_linear_backward(view, upf.data(), dxf.data(), true, n, ex, sf);
  EXPECT_LT(max_rel(yf, y_ref), 1e-5);
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dxf[i], 0.5 + dx_ref[i], 1e-4);
}

TEST_F(OpsGrad, LoraWithAndWithoutDropout) {
  const int64_t n = 4, in = 9, out = 7, rank = 3;
  const double scale = 0.7;
  Vec x = randv(n * in, 14), a = randv(rank * in, 15), b = randv(out * rank, 16),
      up = randv(n * out, 17), base = randv(n * out, 18);
  Vec mask(n * in);
  dropout_mask(mask.data(), n * in, 0.3f, 42, ex);
  int zeros = 0;
  for (double m : mask) {
    EXPECT_TRUE(m == 0.0 || std::fabs(m - 1 / (1 - double(0.3f))) < 1e-12) << m;
    zeros += m == 0.0;
  }
  EXPECT_GT(zeros, 0);
  EXPECT_LT(zeros, n * in);
  for (const double* mk :
       {static_cast<const double*>(nullptr), static_cast<const double*>(mask.data())}) {
    std::vector<double> scratch;
    auto loss = [&] {
      Vec y = base, h(n * rank);
      lora_forward(x.data(), mk, a.data(), b.data(), scale, h.data(), y.data(), n, in, out, rank,
                   ex, scratch);
      return probe(y, up);
    };
    Vec y = base, h(n * rank);
    lora_forward(x.data(), mk, a.data(), b.data(), scale, h.data(), y.data(), n, in, out, rank, ex,
                 scratch);
    // Direct: y[1][2] = base + s * sum_r B[2][r] sum_k A[r][k] x[1][k] m[1][k]
    double direct = base[1 * out + 2];
    for (int r = 0; r < rank; ++r) {
      double hr = 0;
      for (int k = 0; k < in; ++k) hr += a[r * in + k] * x[in + k] * (mk ? mk[in + k] : 1.0);
      direct += scale * b[2 * rank + r] * hr;
    }
    EXPECT_NEAR(y[out + 2], direct, 1e-12);
    Vec dx(n * in, 0.0), da(rank * in, 0.0), db(out * rank, 0.0);
    lora_backward(up.data(), x.data(), mk, a.data(), b.data(), scale, h.data(), dx.data(),
                  da.data(), db.data(), n, in, out, rank, ex, scratch);
    const char* tag = mk ? "lora (dropout)" : "lora";
    EXPECT_LT(fd_error(loss, x, dx, tag), kTol) << tag << " dx";
    EXPECT_LT(fd_error(loss, a, da, tag), kTol) << tag << " da";
    EXPECT_LT(fd_error(loss, b, db, tag), kTol) << tag << " db";
  }
}

TEST_F(OpsGrad, DropoutMaskIsSeededAndHasTheRightRate) {
  std::vector<float> m1(100000), m2(100000), m3(100000);
  dropout_mask(m1.data(), 100000, 0.25f, 7, ex);
  dropout_mask(m2.data(), 100000, 0.25f, 7, ex);
  dropout_mask(m3.data(), 100000, 0.25f, 8, ex);
  EXPECT_EQ(m1, m2);
  EXPECT_NE(m1, m3);
  int zeros = 0;
  for (float v : m1) zeros += v == 0.0f;
  EXPECT_NEAR(zeros / 100000.0, 0.25, 0.01);
}

class RopeGrad : public OpsGrad, public ::testing::WithParamInterface<RopeMode> {};

TEST_P(RopeGrad, BackwardIsTheInverseRotation) {
  const RopeMode mode = GetParam();
  const int seq = 5, B = 2, heads = 3, hd = 6;
  const int64_t n = B * seq, row = heads * hd;
  std::vector<double> inv = {1.0, 0.3, 0.05};
  Vec cs(seq * hd / 2), sn(seq * hd / 2);
  rope_tables(seq, hd, inv, 1.5f, cs.data(), sn.data());
  Vec x = randv(n * row, 19), up = randv(n * row, 20);
  auto loss = [&] {
    Vec y = x;
    rope_forward(y.data(), n, seq, heads, hd, mode, cs.data(), sn.data(), ex);
    return probe(y, up);
  };
  Vec y = x;
  rope_forward(y.data(), n, seq, heads, hd, mode, cs.data(), sn.data(), ex);
  // Direct: sequence 1, position 3, head 2, pair 1.
  const int64_t r = 1 * seq + 3;
  const double th = 3 / 1.5 * inv[1];
  const int i0 = mode == RopeMode::Norm ? 2 : 1, i1 = mode == RopeMode::Norm ? 3 : 1 + hd / 2;
  const double* hx = x.data() + r * row + 2 * hd;
  EXPECT_NEAR(y[r * row + 2 * hd + i0], hx[i0] * std::cos(th) - hx[i1] * std::sin(th), 1e-12);
  EXPECT_NEAR(y[r * row + 2 * hd + i1], hx[i0] * std::sin(th) + hx[i1] * std::cos(th), 1e-12);
  Vec dx = up;
  rope_backward(dx.data(), n, seq, heads, hd, mode, cs.data(), sn.data(), ex);
  EXPECT_LT(fd_error(loss, x, dx, "rope dx"), kTol);
}

INSTANTIATE_TEST_SUITE_P(Modes, RopeGrad, ::testing::Values(RopeMode::Norm, RopeMode::Neox));

// Plain reference attention, straight from the definition.
Vec attention_ref(const Vec& q, const Vec& k, const Vec& v, const AttnShape& s) {
  const int64_t QD = s.q_dim(), KVD = s.kv_dim();
  Vec out(static_cast<size_t>(s.B) * s.T * QD, 0.0);
  for (int b = 0; b < s.B; ++b)
    for (int h = 0; h < s.n_head; ++h) {
      const int kvh = h / (s.n_head / s.n_head_kv);
      for (int t = 0; t < s.T; ++t) {
        std::vector<double> p(t + 1);
        double mx = -1e300, sum = 0;
        for (int u = 0; u <= t; ++u) {
          double d = 0;
          for (int e = 0; e < s.head_dim; ++e)
            d += q[(b * s.T + t) * QD + h * s.head_dim + e] *
                 k[(b * s.T + u) * KVD + kvh * s.head_dim + e];
          p[u] = d / std::sqrt(static_cast<double>(s.head_dim));
          mx = std::max(mx, p[u]);
        }
        for (double& z : p) sum += (z = std::exp(z - mx));
        for (int u = 0; u <= t; ++u)
          for (int e = 0; e < s.head_dim; ++e)
            out[(b * s.T + t) * QD + h * s.head_dim + e] +=
                p[u] / sum * v[(b * s.T + u) * KVD + kvh * s.head_dim + e];
      }
    }
  return out;
}

class AttentionGrad : public OpsGrad, public ::testing::WithParamInterface<int> {};

TEST_P(AttentionGrad, CausalGqa) {
  const int kv_heads = GetParam();  // 2: GQA ratio 2; 4: one KV head per query head
  const AttnShape s{2, 5, 4, kv_heads, 6};
  const int64_t n = s.B * s.T;
  Vec q = randv(n * s.q_dim(), 21), k = randv(n * s.kv_dim(), 22), v = randv(n * s.kv_dim(), 23),
      up = randv(n * s.q_dim(), 24);
  std::vector<double> scratch;
  auto loss = [&] {
    Vec out(n * s.q_dim()), lse(n * s.n_head);
    attention_forward(q.data(), k.data(), v.data(), out.data(), lse.data(), s, ex, scratch);
    return probe(out, up);
  };
  Vec out(n * s.q_dim()), lse(n * s.n_head);
  attention_forward(q.data(), k.data(), v.data(), out.data(), lse.data(), s, ex, scratch);
  Vec ref = attention_ref(q, k, v, s);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], ref[i], 1e-12) << i;
  Vec dq(n * s.q_dim()), dk(n * s.kv_dim()), dv(n * s.kv_dim());
  attention_backward(up.data(), q.data(), k.data(), v.data(), out.data(), lse.data(), dq.data(),
                     dk.data(), dv.data(), s, ex, scratch);
  EXPECT_LT(fd_error(loss, q, dq, "attention dq"), kTol);
  EXPECT_LT(fd_error(loss, k, dk, "attention dk"), kTol);
  EXPECT_LT(fd_error(loss, v, dv, "attention dv"), kTol);

  // f32 equals f64 within f32 rounding.
  std::vector<float> qf = to_f(q), kf = to_f(k), vf = to_f(v), upf = to_f(up);
  std::vector<float> of(out.size()), lf(lse.size()), dqf(dq.size()), dkf(dk.size()), dvf(dv.size()),
      sf;
  attention_forward(qf.data(), kf.data(), vf.data(), of.data(), lf.data(), s, ex, sf);
  attention_backward(upf.data(), qf.data(), kf.data(), vf.data(), of.data(), lf.data(), dqf.data(),
                     dkf.data(), dvf.data(), s, ex, sf);
  EXPECT_LT(max_rel(of, out), 1e-5);
  EXPECT_LT(max_rel(dqf, dq), 1e-4);
  EXPECT_LT(max_rel(dkf, dk), 1e-4);
  EXPECT_LT(max_rel(dvf, dv), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(KvHeads, AttentionGrad, ::testing::Values(2, 4));

// Longer sequences and head sizes that are not a multiple of 16: the f32
// path (AVX-512 kernels where the CPU has them: several key blocks, masked
// tails) against f64.
TEST_F(OpsGrad, AttentionFloatMatchesDoubleOnLongerSequences) {
  for (auto [T, hd] : {std::pair{2, 16}, std::pair{17, 40}, std::pair{37, 64}}) {
    const AttnShape s{2, T, 4, 2, hd};
    const int64_t n = s.B * s.T;
    Vec q = randv(n * s.q_dim(), 40, -2, 2), k = randv(n * s.kv_dim(), 41, -2, 2),
        v = randv(n * s.kv_dim(), 42), up = randv(n * s.q_dim(), 43);
    Vec out(n * s.q_dim()), lse(n * s.n_head), dq(q.size()), dk(k.size()), dv(v.size());
    std::vector<double> sd;
    attention_forward(q.data(), k.data(), v.data(), out.data(), lse.data(), s, ex, sd);
    attention_backward(up.data(), q.data(), k.data(), v.data(), out.data(), lse.data(), dq.data(),
                       dk.data(), dv.data(), s, ex, sd);
    std::vector<float> qf = to_f(q), kf = to_f(k), vf = to_f(v), upf = to_f(up);
    std::vector<float> of(out.size()), lf(lse.size()), dqf(dq.size()), dkf(dk.size()),
        dvf(dv.size()), sf;
    attention_forward(qf.data(), kf.data(), vf.data(), of.data(), lf.data(), s, ex, sf);
    attention_backward(upf.data(), qf.data(), kf.data(), vf.data(), of.data(), lf.data(),
                       dqf.data(), dkf.data(), dvf.data(), s, ex, sf);
    EXPECT_LT(max_rel(of, out), 1e-5) << hd;
    EXPECT_LT(max_rel(lf, lse), 1e-5) << hd;
    EXPECT_LT(max_rel(dqf, dq), 1e-4) << hd;
    EXPECT_LT(max_rel(dkf, dk), 1e-4) << hd;
    EXPECT_LT(max_rel(dvf, dv), 1e-4) << hd;
  }
}

TEST_F(OpsGrad, SwiGlu) {
  const int64_t n = 23;
  Vec g = randv(n, 25, -4, 4), u = randv(n, 26), up = randv(n, 27);
  auto loss = [&] {
    Vec h(n);
    swiglu_forward(g.data(), u.data(), h.data(), n, ex);
    return probe(h, up);
  };
  Vec h(n);
  swiglu_forward(g.data(), u.data(), h.data(), n, ex);
  EXPECT_NEAR(h[5], g[5] / (1 + std::exp(-g[5])) * u[5], 1e-14);
  Vec dg(n), du(n);
  swiglu_backward(up.data(), g.data(), u.data(), dg.data(), du.data(), n, ex);
  EXPECT_LT(fd_error(loss, g, dg, "swiglu dgate"), kTol);
  EXPECT_LT(fd_error(loss, u, du, "swiglu dup"), kTol);
  Vec inplace = up, du2(n);  // dgate may alias dh
  swiglu_backward(inplace.data(), g.data(), u.data(), inplace.data(), du2.data(), n, ex);
  for (int i = 0; i < n; ++i) EXPECT_DOUBLE_EQ(inplace[i], dg[i]);
}

TEST_F(OpsGrad, Residual) {
  const int64_t n = 17;
  Vec a = randv(n, 28), b = randv(n, 29), up = randv(n, 30);
  auto loss = [&] {
    Vec y(n);
    residual_forward(a.data(), b.data(), y.data(), n, ex);
    return probe(y, up);
  };
  Vec da(n, 0.0), db(n, 0.0);
  residual_backward(up.data(), da.data(), db.data(), n, ex);
  EXPECT_LT(fd_error(loss, a, da, "residual da"), kTol);
  EXPECT_LT(fd_error(loss, b, db, "residual db"), kTol);
}

TEST_F(OpsGrad, EmbeddingWithRepeatedTokens) {
  const int64_t vocab = 7, dim = 37, n = 9;  // dim > one 32-column block
  const std::vector<int32_t> tok = {3, 0, 3, 6, 1, 3, 0, 5, 6};
  Vec w = randv(vocab * dim, 31), up = randv(n * dim, 32);
  auto loss = [&] {
    Vec y(n * dim);
    embedding_forward(tok.data(), n, w.data(), dim, y.data(), ex);
    return probe(y, up);
  };
  Vec dw(vocab * dim, 0.0);
  embedding_backward(tok.data(), n, up.data(), dim, dw.data(), ex);
  EXPECT_LT(fd_error(loss, w, dw, "embedding dw"), kTol);
  for (int c = 0; c < dim; ++c) EXPECT_EQ(dw[2 * dim + c], 0.0);  // token 2 never appears
}

TEST_F(OpsGrad, CrossEntropyWithMask) {
  const int64_t n = 6, V = 11;
  const std::vector<int32_t> tgt = {3, 0, 10, 5, 5, 7};
  const std::vector<float> mask = {1.0f, 0.0f, 0.5f, 2.0f, 0.0f, 1.0f};
  Vec logits = randv(n * V, 33, -3, 3);
  auto loss = [&] {
    Vec l = logits, per(n);
    std::vector<double> losses(n);
    cross_entropy(l.data(), tgt.data(), mask.data(), n, V, 1.0, false, losses.data(), ex);
    double s = 0;
    for (int i = 0; i < n; ++i) s += mask[i] * losses[i];
    return s;
  };
  Vec d = logits;
  std::vector<double> losses(n);
  cross_entropy(d.data(), tgt.data(), mask.data(), n, V, 1.0, true, losses.data(), ex);
  // Direct CE for row 2.
  double se = 0;
  for (int j = 0; j < V; ++j) se += std::exp(logits[2 * V + j]);
  EXPECT_NEAR(losses[2], std::log(se) - logits[2 * V + 10], 1e-12);
  EXPECT_EQ(losses[1], 0.0);
  for (int j = 0; j < V; ++j) EXPECT_EQ(d[4 * V + j], 0.0);  // masked row: no gradient
  EXPECT_LT(fd_error(loss, logits, d, "cross-entropy dlogits"), kTol);
}

// Output head + loss, trainable and frozen, with chunks smaller than the
// problem so every chunking path runs.
TEST_F(OpsGrad, OutputHeadTrainableAndFrozen) {
  const int64_t n = 7, E = 5, V = 13;
  const std::vector<int32_t> tgt = {1, 12, 0, 7, 7, 3, 9};
  const std::vector<float> mask = {1, 0, 1, 1, 0.5f, 1, 0};
  Vec xn = randv(n * E, 34), w = randv(V * E, 35);
  const double gscale = 0.37;
  std::vector<double> scratch, losses;
  auto loss = [&] {
    HeadIO<double> io{xn.data(), tgt.data(), mask.data(), n, E, V, gscale, nullptr, 2 * V};
    return gscale * output_head_loss<double>(io, w.data(), nullptr, ex, scratch, losses);
  };
  Vec dxn(n * E), dw(V * E, 0.0);
  HeadIO<double> io{xn.data(), tgt.data(), mask.data(), n, E, V, gscale, dxn.data(), 2 * V};
  const double total = output_head_loss<double>(io, w.data(), dw.data(), ex, scratch, losses);
  EXPECT_LT(fd_error(loss, xn, dxn, "head dxn"), kTol);
  EXPECT_LT(fd_error(loss, w, dw, "head dw"), kTol);
  // One big chunk gives the same.
  Vec dxn1(n * E), dw1(V * E, 0.0);
  HeadIO<double> io1{xn.data(), tgt.data(), mask.data(), n, E, V, gscale, dxn1.data(), 0};
  EXPECT_NEAR(output_head_loss<double>(io1, w.data(), dw1.data(), ex, scratch, losses), total,
              1e-12);
  for (size_t i = 0; i < dxn.size(); ++i) EXPECT_NEAR(dxn1[i], dxn[i], 1e-12);

  // Frozen head over an F32 view of the same weights, vocabulary in slices of
  // 2 (chunk 2 * max(n, E) elements): the same loss and dxn.
  std::vector<float> wf = to_f(w);
  Vec wr(wf.begin(), wf.end());  // the weights as the view holds them
  WeightView view{DType::F32, wf.data(), V, E};
  Vec dxr(n * E), dwr(V * E, 0.0), dxf(n * E);
  HeadIO<double> ior{xn.data(), tgt.data(), mask.data(), n, E, V, gscale, dxr.data(), 0};
  const double tr = output_head_loss<double>(ior, wr.data(), dwr.data(), ex, scratch, losses);
  std::vector<double> fscratch, stats;
  HeadIO<double> iof{xn.data(), tgt.data(), mask.data(), n, E, V, gscale, dxf.data(), 2 * n};
  EXPECT_NEAR(frozen_output_head_loss<double>(iof, view, ex, fscratch, stats), tr, 1e-12);
  for (size_t i = 0; i < dxf.size(); ++i) EXPECT_NEAR(dxf[i], dxr[i], 1e-12);
}

TEST_F(OpsGrad, CrossEntropyAndSwiGluFloatMatchDouble) {
  const int64_t n = 5, V = 1037;  // not a multiple of 16
  const std::vector<int32_t> tgt = {1036, 0, 500, 17, 3};
  const std::vector<float> mask = {1, 1, 0, 0.5f, 1};
  Vec logits = randv(n * V, 44, -8, 8);
  Vec d = logits;
  std::vector<double> ld(n), lf(n);
  cross_entropy(d.data(), tgt.data(), mask.data(), n, V, 0.3, true, ld.data(), ex);
  std::vector<float> df = to_f(logits);
  cross_entropy(df.data(), tgt.data(), mask.data(), n, V, 0.3f, true, lf.data(), ex);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(lf[i], ld[i], 1e-5 * std::fabs(ld[i]) + 1e-6);
  EXPECT_LT(max_rel(df, d), 1e-5);

  const int64_t m = 1037;
  Vec g = randv(m, 45, -30, 30), u = randv(m, 46), dh = randv(m, 47);
  Vec h(m), dg(m), du(m);
  swiglu_forward(g.data(), u.data(), h.data(), m, ex);
  swiglu_backward(dh.data(), g.data(), u.data(), dg.data(), du.data(), m, ex);
  std::vector<float> gf = to_f(g), uf = to_f(u), dhf = to_f(dh), hf(m), dgf(m), duf(m);
  swiglu_forward(gf.data(), uf.data(), hf.data(), m, ex);
  swiglu_backward(dhf.data(), gf.data(), uf.data(), dgf.data(), duf.data(), m, ex);
  EXPECT_LT(max_rel(hf, h), 1e-6);
  EXPECT_LT(max_rel(dgf, dg), 1e-6);
  EXPECT_LT(max_rel(duf, du), 1e-6);
}

TEST_F(OpsGrad, RmsNormAndLinearFloatMatchDouble) {
  const int64_t rows = 6, dim = 29, out = 10;
  Vec x = randv(rows * dim, 36), w = randv(dim, 37, 0.5, 1.5), wl = randv(out * dim, 38),
      up = randv(rows * out, 39);
  Vec y(rows * dim), r(rows), z(rows * out), dy(rows * dim), dwl(out * dim, 0.0), dx(rows * dim),
      dw(dim, 0.0);
  std::vector<double> sd;
  rmsnorm_forward(x.data(), w.data(), y.data(), r.data(), rows, dim, 1e-5f, ex);
  linear_forward(y.data(), wl.data(), static_cast<const double*>(nullptr), z.data(), rows, dim, out,
                 ex);
  linear_backward(up.data(), y.data(), wl.data(), dy.data(), false, dwl.data(),
                  static_cast<double*>(nullptr), rows, dim, out, ex);
  rmsnorm_backward(dy.data(), x.data(), w.data(), r.data(), dx.data(), false, dw.data(), rows, dim,
                   ex, sd);
  std::vector<float> xf = to_f(x), wf = to_f(w), wlf = to_f(wl), upf = to_f(up);
  std::vector<float> yf(y.size()), rf(rows), zf(z.size()), dyf(dy.size()), dwlf(dwl.size(), 0),
      dxf(dx.size()), dwf(dim, 0), sf;
  rmsnorm_forward(xf.data(), wf.data(), yf.data(), rf.data(), rows, dim, 1e-5f, ex);
  linear_forward(yf.data(), wlf.data(), static_cast<const float*>(nullptr), zf.data(), rows, dim,
                 out, ex);
  linear_backward(upf.data(), yf.data(), wlf.data(), dyf.data(), false, dwlf.data(),
                  static_cast<float*>(nullptr), rows, dim, out, ex);
  rmsnorm_backward(dyf.data(), xf.data(), wf.data(), rf.data(), dxf.data(), false, dwf.data(), rows,
                   dim, ex, sf);
  EXPECT_LT(max_rel(zf, z), 1e-5);
  EXPECT_LT(max_rel(dwlf, dwl), 1e-5);
  EXPECT_LT(max_rel(dxf, dx), 1e-4);
  EXPECT_LT(max_rel(dwf, dw), 1e-4);
}

}  // namespace
}  // namespace sf::train::ops
