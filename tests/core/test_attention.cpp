// The attention kernel (core/attention.h): the scalar reference against a
// plain two-pass softmax in double precision, every ISA level against the
// reference bit for bit, and a row's result independent of its companions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/attention.h"
#include "core/cpu.h"
#include "core/kernel_test_inputs.h"
#include "core/kernels/attention_kernels.h"

namespace sf {
namespace {

// Keys/values of `n_pos` positions with `heads` heads of head_dim interleaved
// per position (like the KV cache), and `rows` query rows.
struct Case {
  int head_dim, n_pos, heads, rows;
  float spread;  // score magnitude: large values exercise the running max
  std::vector<float> k, v, q;
  std::vector<int> n_keys;
  Case(int hd, int np, int hs, int rs, float sp, uint32_t seed)
      : head_dim(hd), n_pos(np), heads(hs), rows(rs), spread(sp) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    k.resize(static_cast<size_t>(np) * hs * hd);
    v.resize(k.size());
    q.resize(static_cast<size_t>(rs) * hd);
    for (float& x : k) x = nd(rng);
    for (float& x : v) x = nd(rng);
    for (float& x : q) x = nd(rng) * sp;
    std::uniform_int_distribution<int> nk(1, np);
    for (int r = 0; r < rs; ++r) n_keys.push_back(r == 0 ? np : nk(rng));
  }
  KvRows kv(int head) const {
    return {k.data() + head * head_dim, v.data() + head * head_dim,
            static_cast<int64_t>(heads) * head_dim};
  }
};

// Runs `fn` (an attend-like function) on the rows listed in `which`.
template <class Fn>
std::vector<float> run(const Case& c, int head, const std::vector<int>& which, Fn fn) {
  std::vector<float> out(which.size() * c.head_dim, -7.0f);
  std::vector<const float*> q;
  std::vector<float*> o;
  std::vector<int> nk;
  for (size_t i = 0; i < which.size(); ++i) {
    q.push_back(c.q.data() + which[i] * c.head_dim);
    o.push_back(out.data() + i * c.head_dim);
    nk.push_back(c.n_keys[which[i]]);
  }
  std::vector<float> scratch(attend_scratch_floats(c.head_dim, static_cast<int>(which.size())));
  fn(AttentionRows{static_cast<int>(which.size()), q.data(), o.data(), nk.data()}, c.kv(head),
     c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim)), scratch.data());
  return out;
}

std::vector<int> all_rows(const Case& c) {
  std::vector<int> w(c.rows);
  for (int r = 0; r < c.rows; ++r) w[r] = r;
  return w;
}

// Two-pass softmax over all visible scores, in double.
std::vector<double> naive(const Case& c, int head, int row) {
  const KvRows kv = c.kv(head);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const int n = c.n_keys[row];
  std::vector<double> s(n), out(c.head_dim, 0.0);
  double mx = -INFINITY, sum = 0;
  for (int p = 0; p < n; ++p) {
    double acc = 0;
    for (int d = 0; d < c.head_dim; ++d)
      acc += static_cast<double>(c.q[row * c.head_dim + d]) * kv.k[p * kv.stride + d];
    s[p] = acc * scale;
    mx = std::max(mx, s[p]);
  }
  for (int p = 0; p < n; ++p) sum += (s[p] = std::exp(s[p] - mx));
  for (int p = 0; p < n; ++p)
    for (int d = 0; d < c.head_dim; ++d) out[d] += s[p] / sum * kv.v[p * kv.stride + d];
  return out;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> cs = {
      {64, 1, 1, 3, 1.0f, 1},
      {64, 63, 2, 5, 1.0f, 2},
      {64, 64, 4, 8, 1.0f, 3},
      {64, 65, 4, 9, 3.0f, 4},
      {64, 300, 4, 16, 4.0f, 5},
      {128, 200, 2, 7, 2.0f, 6},
      {128, 1000, 1, 4, 1.0f, 7},
      {48, 130, 3, 6, 1.0f, 8},
      {80, 129, 2, 5, 1.0f, 9},
      {16, 500, 2, 11, 8.0f, 10},
      {96, 257, 2, 3, 1.0f, 11},
      {256, 70, 1, 2, 1.0f, 12},
      // not multiples of 16 (AVX-512 hands them to AVX2) or of 8 (the reference)
      {40, 129, 1, 4, 2.0f, 14},
      {20, 70, 2, 3, 1.0f, 15},
  };
  return cs;
}

TEST(Attention, ExpPolynomialIsAccurate) {
  double worst = 0;
  for (float x = -87.0f; x <= 0.0f; x += 0.00731f) {
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(kernels::attn_exp(x) - want) / want);
  }
  EXPECT_LT(worst, 3e-7);
  EXPECT_EQ(kernels::attn_exp(0.0f), 1.0f);
  EXPECT_EQ(kernels::attn_exp(-INFINITY), kernels::attn_exp(-104.0f));
  EXPECT_LT(kernels::attn_exp(-104.0f), 1e-44f);
}

TEST(Attention, ReferenceMatchesTwoPassSoftmax) {
  for (const Case& c : cases()) {
    for (int head = 0; head < c.heads; ++head) {
      const std::vector<float> got = run(c, head, all_rows(c), kernels::attend_ref);
      for (int r = 0; r < c.rows; ++r) {
        const std::vector<double> want = naive(c, head, r);
        for (int d = 0; d < c.head_dim; ++d)
          ASSERT_NEAR(got[r * c.head_dim + d], want[d], 2e-5 * (1 + std::abs(want[d])))
              << "head_dim " << c.head_dim << " n_keys " << c.n_keys[r] << " row " << r << " d "
              << d;
      }
    }
  }
}

TEST(Attention, EveryLevelMatchesTheReferenceBitForBit) {
  test::IsaGuard guard;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!set_isa(isa)) continue;
    for (const Case& c : cases()) {
      const std::vector<float> want = run(c, c.heads - 1, all_rows(c), kernels::attend_ref);
      const std::vector<float> got = run(c, c.heads - 1, all_rows(c), attend);
      EXPECT_TRUE(test::bits_equal(got, want))
          << isa_name(isa) << " head_dim " << c.head_dim << " n_pos " << c.n_pos;
    }
  }
}

TEST(Attention, ARowDoesNotDependOnItsCompanions) {
  test::IsaGuard guard;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!set_isa(isa)) continue;
    for (const Case& c : cases()) {
      const std::vector<float> together = run(c, 0, all_rows(c), attend);
      for (int r = 0; r < c.rows; ++r) {
        const std::vector<float> alone = run(c, 0, {r}, attend);
        const std::vector<float> slice(together.begin() + r * c.head_dim,
                                       together.begin() + (r + 1) * c.head_dim);
        EXPECT_TRUE(test::bits_equal(alone, slice)) << isa_name(isa) << " row " << r;
      }
      // Reversed order: the same rows, the same bits.
      std::vector<int> rev = all_rows(c);
      std::reverse(rev.begin(), rev.end());
      const std::vector<float> backwards = run(c, 0, rev, attend);
      for (int r = 0; r < c.rows; ++r)
        for (int d = 0; d < c.head_dim; ++d)
          ASSERT_EQ(backwards[(c.rows - 1 - r) * c.head_dim + d], together[r * c.head_dim + d]);
    }
  }
}

TEST(Attention, ARowWithoutKeysGetsZerosAndLargeScoresStayFinite) {
  test::IsaGuard guard;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!set_isa(isa)) continue;
    Case c(64, 150, 1, 2, 1000.0f, 13);  // scores in the thousands: exp overflows without a max
    c.n_keys = {0, 150};
    const std::vector<float> out = run(c, 0, all_rows(c), attend);
    for (int d = 0; d < 64; ++d) {
      EXPECT_EQ(out[d], 0.0f);
      EXPECT_TRUE(std::isfinite(out[64 + d]));
    }
    const std::vector<double> want = naive(c, 0, 1);
    for (int d = 0; d < 64; ++d) EXPECT_NEAR(out[64 + d], want[d], 1e-4 * (1 + std::abs(want[d])));
  }
}

}  // namespace
}  // namespace sf
