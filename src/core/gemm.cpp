// sf::gemm: packed, cache-blocked GEMM (BLIS/GotoBLAS structure).
//
// Per thread, for a chunk of C (rows [m0, m1) x columns [n0, n1)):
//   for ic (mc rows)                  A block mc x kc, packed once per (ic, pc)
//     for pc (kc of K)
//       pack A block
//       for jc (nc columns)           B block kc x nc packed, stays in L2
//         pack B block
//         for ir (MR rows)            A micro-panel MR x kc stays in L1
//           for jr (NR columns)       B micro-panels stream from L2
//             microkernel: MR x NR tile of C, registers hold the sums
// The first k block applies the caller's beta, the next ones accumulate
// (beta = 1). Packers (per ISA, core/kernels/gemm_kernels.h) turn whatever the
// Trans flags say into one layout, so one microkernel serves all four cases.
//
// Threads: C is cut along N (when n >= m, so each thread packs only its own
// columns of B and the duplicated work is packing A) or along M, into chunks
// claimed dynamically. Chunks come in rounds of `threads` equal chunks, each
// round about half the size of the one before, down to a minimum size: with
// threads running at the same speed every round ends together, and a thread
// slowed down (a busy machine) costs at most one small chunk at the end.
// Packing buffers are thread_local, grow-only, so a warm thread allocates
// nothing.
#include "core/gemm.h"

#include <cpuid.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/cpu.h"
#include "core/kernels/gemm_kernels.h"
#include "core/threadpool.h"

namespace sf {
namespace {

float round_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return x;  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

template <typename T, typename Acc>
void gemm_rows(Trans ta, Trans tb, int64_t r0, int64_t r1, int64_t n, int64_t k, Acc alpha,
               const T* a, int64_t lda, const T* b, int64_t ldb, Acc beta, T* c, int64_t ldc,
               T (*round_in)(T)) {
  for (int64_t i = r0; i < r1; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      Acc s = 0;
      for (int64_t p = 0; p < k; ++p) {
        T av = ta == Trans::No ? a[i * lda + p] : a[p * lda + i];
        T bv = tb == Trans::No ? b[p * ldb + j] : b[j * ldb + p];
        if (round_in) av = round_in(av), bv = round_in(bv);
        s += static_cast<Acc>(av) * static_cast<Acc>(bv);
      }
      T& out = c[i * ldc + j];
      out = static_cast<T>(beta == 0 ? alpha * s : alpha * s + beta * static_cast<Acc>(out));
    }
  }
}

}  // namespace

namespace gemm_detail {
namespace {

// ---- Scalar level: portable packers and microkernel (no intrinsics). ----

constexpr int kScalarMr = 4;
constexpr int kScalarNr = 16;

template <bool Round>
inline float rnd(float x) {
  if constexpr (Round) return round_bf16(x);
  return x;
}

template <int MR, bool Round>
void pack_a_scalar(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc, void* dst) {
  float* d = static_cast<float*>(dst);
  for (int64_t i0 = 0; i0 < mc; i0 += MR, d += MR * kc) {
    const int r = static_cast<int>(std::min<int64_t>(MR, mc - i0));
    for (int64_t p = 0; p < kc; ++p) {
      float* dp = d + p * MR;
      for (int i = 0; i < r; ++i)
        dp[i] = rnd<Round>(trans ? a[p * lda + i0 + i] : a[(i0 + i) * lda + p]);
      for (int i = r; i < MR; ++i) dp[i] = 0.0f;
    }
  }
}

template <int NR, bool Round>
void pack_b_scalar(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc, void* dst) {
  float* d = static_cast<float*>(dst);
  for (int64_t j0 = 0; j0 < nc; j0 += NR, d += NR * kc) {
    const int w = static_cast<int>(std::min<int64_t>(NR, nc - j0));
    for (int64_t p = 0; p < kc; ++p) {
      float* dp = d + p * NR;
      for (int j = 0; j < w; ++j)
        dp[j] = rnd<Round>(trans ? b[(j0 + j) * ldb + p] : b[p * ldb + j0 + j]);
      for (int j = w; j < NR; ++j) dp[j] = 0.0f;
    }
  }
}

template <int R>
void micro_scalar(int64_t kp, const void* av, const void* bv, float* c, int64_t ldc, float alpha,
                  float beta, int ncols) {
  const float* a = static_cast<const float*>(av);
  const float* b = static_cast<const float*>(bv);
  float acc[R][kScalarNr] = {};
  for (int64_t s = 0; s < kp; ++s, a += kScalarMr, b += kScalarNr) {
    for (int i = 0; i < R; ++i) {
      const float ai = a[i];
      for (int j = 0; j < kScalarNr; ++j) acc[i][j] += ai * b[j];
    }
  }
  for (int i = 0; i < R; ++i) {
    float* cr = c + i * ldc;
    if (beta == 0) {
      for (int j = 0; j < ncols; ++j) cr[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < ncols; ++j) cr[j] = alpha * acc[i][j] + beta * cr[j];
    }
  }
}

template <bool Round>
const Kernel* scalar_kernel() {
  static const Kernel k = [] {
    Kernel k{};
    k.name = Round ? "scalar-f32(bf16 inputs)" : "scalar-f32";
    k.mr = kScalarMr;
    k.nr = kScalarNr;
    k.kpack = 1;
    k.mc = 256;
    k.kc = 256;
    k.nc = 1024;
    k.micro[1] = micro_scalar<1>;
    k.micro[2] = micro_scalar<2>;
    k.micro[3] = micro_scalar<3>;
    k.micro[4] = micro_scalar<4>;
    k.pack_a = pack_a_scalar<kScalarMr, Round>;
    k.pack_b = pack_b_scalar<kScalarNr, Round>;
    return k;
  }();
  return &k;
}

struct TestHooks {
  int64_t mc = 0, kc = 0, nc = 0;
  Bf16Path bf16_path = Bf16Path::Auto;
};
TestHooks& hooks() {
  static TestHooks h;
  return h;
}

int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}
int64_t ceil_div(int64_t x, int64_t d) {
  return (x + d - 1) / d;
}

// Block size for an extent: the fewest blocks of at most `max`, made equal,
// rounded up to `mult`.
int64_t even_block(int64_t extent, int64_t max, int64_t mult) {
  const int64_t blocks = ceil_div(extent, max);
  return round_up(ceil_div(extent, blocks), mult);
}

// Grow-only packing buffers, one set per thread.
struct PackBuffers {
  void* a = nullptr;
  void* b = nullptr;
  size_t a_bytes = 0, b_bytes = 0;
  ~PackBuffers() {
    std::free(a);
    std::free(b);
  }
  static void* grow(void*& p, size_t& have, size_t need) {
    if (need > have) {
      std::free(p);
      have = round_up(static_cast<int64_t>(need), 4096);
      p = std::aligned_alloc(4096, have);
      if (!p) std::abort();
    }
    return p;
  }
};
thread_local PackBuffers t_buffers;

struct Problem {
  bool ta, tb;
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  const Kernel* kr = nullptr;
  int64_t mc = 0, kc = 0, nc = 0;  // block sizes
};

// C[m0 .. m1) x [n0 .. n1) on the calling thread.
void run_chunk(const Problem& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  const Kernel& kr = *p.kr;
  const int64_t mr = kr.mr, nr = kr.nr;
  const int64_t kp_max = ceil_div(std::min(p.kc, p.k), kr.kpack);
  const int64_t mc = std::min(p.mc, round_up(m1 - m0, mr));
  const int64_t nc = std::min(p.nc, round_up(n1 - n0, nr));
  char* abuf = static_cast<char*>(
      PackBuffers::grow(t_buffers.a, t_buffers.a_bytes, static_cast<size_t>(mc * kp_max * 4)));
  char* bbuf = static_cast<char*>(
      PackBuffers::grow(t_buffers.b, t_buffers.b_bytes, static_cast<size_t>(nc * kp_max * 4)));
  for (int64_t ic = m0; ic < m1; ic += mc) {
    const int64_t mcur = std::min(mc, m1 - ic);
    for (int64_t pc = 0; pc < p.k; pc += p.kc) {
      const int64_t kcur = std::min(p.kc, p.k - pc);
      const int64_t kp = ceil_div(kcur, kr.kpack);
      const float* ablk = p.ta ? p.a + pc * p.lda + ic : p.a + ic * p.lda + pc;
      kr.pack_a(ablk, p.lda, p.ta, mcur, kcur, abuf);
      const float beta = pc == 0 ? p.beta : 1.0f;
      for (int64_t jc = n0; jc < n1; jc += nc) {
        const int64_t ncur = std::min(nc, n1 - jc);
        const float* bblk = p.tb ? p.b + jc * p.ldb + pc : p.b + pc * p.ldb + jc;
        kr.pack_b(bblk, p.ldb, p.tb, kcur, ncur, bbuf);
        for (int64_t ir = 0; ir < mcur; ir += mr) {
          const int rows = static_cast<int>(std::min(mr, mcur - ir));
          const MicroFn micro = kr.micro[rows];
          const char* ap = abuf + ir * kp * 4;
          float* crow = p.c + (ic + ir) * p.ldc + jc;
          for (int64_t jr = 0; jr < ncur; jr += nr) {
            micro(kp, ap, bbuf + jr * kp * 4, crow + jr, p.ldc, p.alpha, beta,
                  static_cast<int>(std::min(nr, ncur - jr)));
          }
        }
      }
    }
  }
}

void scale_c(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < m; ++i) {
    float* cr = c + i * ldc;
    if (beta == 0.0f) {
      std::fill(cr, cr + n, 0.0f);
    } else {
      for (int64_t j = 0; j < n; ++j) cr[j] *= beta;
    }
  }
}

// vdpbf16ps at full rate: AMD (Zen 4 and later); see Bf16Path.
bool dot_bf16_is_fast() {
  static const bool fast = [] {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return false;
    return ebx == 0x68747541u && edx == 0x69746e65u && ecx == 0x444d4163u;  // "AuthenticAMD"
  }();
  return fast;
}

}  // namespace

const Kernel* select_kernel(bool bf16) {
  switch (active_isa()) {
    case Isa::Avx512:
      if (bf16 && cpu_features().avx512bf16) {
        const Bf16Path path = hooks().bf16_path;
        if (path == Bf16Path::Dot || (path == Bf16Path::Auto && dot_bf16_is_fast()))
          return avx512::bf16_kernel();
      }
      return avx512::f32_kernel(bf16);
    case Isa::Avx2:
      return avx2::f32_kernel(bf16);
    case Isa::Scalar:
      break;
  }
  return bf16 ? scalar_kernel<true>() : scalar_kernel<false>();
}

void set_test_blocking(int64_t mc, int64_t kc, int64_t nc) {
  hooks().mc = mc;
  hooks().kc = kc;
  hooks().nc = nc;
}

void set_bf16_path(Bf16Path path) {
  hooks().bf16_path = path;
}

}  // namespace gemm_detail

void gemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
          ThreadPool& pool, GemmPrecision precision) {
  using namespace gemm_detail;
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {  // BLAS convention: A and B are not read
    scale_c(m, n, beta, c, ldc);
    return;
  }
  Problem p{ta == Trans::Yes, tb == Trans::Yes, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc};
  p.kr = select_kernel(precision == GemmPrecision::Bf16);
  const Kernel& kr = *p.kr;
  const TestHooks& h = hooks();
  const int64_t mc_max = h.mc > 0 ? round_up(h.mc, kr.mr) : kr.mc;
  const int64_t kc_max = h.kc > 0 ? round_up(h.kc, kr.kpack) : kr.kc;
  const int64_t nc_max = h.nc > 0 ? round_up(h.nc, kr.nr) : kr.nc;
  p.kc = even_block(k, kc_max, kr.kpack);

  // Work split: chunks along the larger of M and N (see the file comment).
  const int nt = pool.size();
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * k;
  const bool split_n = n >= m;
  const int64_t unit = split_n ? kr.nr : kr.mr;
  const int64_t units = ceil_div(split_n ? n : m, unit);
  // A chunk should be big enough that packing the shared operand again is cheap.
  const int64_t min_units = std::max<int64_t>(1, ceil_div(split_n ? 256 : 192, unit));
  // Chunk boundaries in units, reused (no allocation once warm). The workers
  // must see the caller's vector, hence the plain reference to it.
  thread_local std::vector<int64_t> t_bounds;
  std::vector<int64_t>& bounds = t_bounds;
  bounds.assign(1, 0);
  auto add_round = [&](int64_t count, int64_t total) {  // `count` near-equal chunks
    for (int64_t i = 0; i < count; ++i) bounds.push_back(bounds.back() + (total + i) / count);
  };
  if (nt > 1 && flops >= 4e6 && units >= 2) {
    int64_t left = units;
    while (left > 0) {
      if (left <= 2 * nt * min_units) {  // the last round: what is left, split evenly
        add_round(std::min<int64_t>(nt, left), left);
        break;
      }
      const int64_t size = std::max(min_units, left / (2 * nt));
      add_round(nt, size * nt);
      left -= size * nt;
    }
  } else {
    bounds.push_back(units);
  }
  const int64_t chunks = static_cast<int64_t>(bounds.size()) - 1;
  // Block sizes from the typical chunk extent, so the blocks of a chunk are even.
  const int64_t chunk_rows = split_n ? m : std::min(m, bounds[1] * unit);
  const int64_t chunk_cols = split_n ? std::min(n, bounds[1] * unit) : n;
  p.mc = even_block(chunk_rows, mc_max, kr.mr);
  p.nc = even_block(chunk_cols, nc_max, kr.nr);

  auto run = [&](int64_t c0, int64_t c1) {
    for (int64_t ci = c0; ci < c1; ++ci) {
      const int64_t lo = bounds[ci] * unit;
      const int64_t hi = std::min(bounds[ci + 1] * unit, split_n ? n : m);
      if (split_n)
        run_chunk(p, 0, m, lo, hi);
      else
        run_chunk(p, lo, hi, 0, n);
    }
  };
  if (chunks == 1) {
    run(0, 1);
  } else {
    pool.parallel_for(chunks, 1, [&](int64_t c0, int64_t c1, int) { run(c0, c1); });
  }
}

void gemm_ref(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
              int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
              GemmPrecision precision) {
  float (*rnd)(float) = precision == GemmPrecision::Bf16 ? round_bf16 : nullptr;
  gemm_rows<float, double>(ta, tb, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, rnd);
}

void gemm_f64(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
              int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_rows<double, double>(ta, tb, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nullptr);
}

}  // namespace sf
