#include "core/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "core/cpu.h"
#include "core/kernels/kernels.h"
#include "core/ops.h"
#include "core/packed_weights.h"
#include "core/quant.h"
#include "core/status.h"
#include "core/threadpool.h"

namespace sf {
namespace {

// Target working sets of one M > 1 task: a block of weight rows and a block
// of converted activation rows that both stay in L2 while they meet.
constexpr size_t kWeightBlockBytes = 256 * 1024;
constexpr size_t kActBlockBytes = 512 * 1024;

// A 64-byte aligned byte buffer that only grows.
class ScratchBuffer {
 public:
  ~ScratchBuffer() { std::free(data_); }
  uint8_t* get(size_t bytes) {
    if (bytes > size_) {
      std::free(data_);
      size_ = (bytes + 63) / 64 * 64;
      data_ = static_cast<uint8_t*>(std::aligned_alloc(64, size_));
      SF_CHECK(data_ != nullptr, "matmul: out of memory for activation scratch");
    }
    return data_;
  }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// The Scalar path: each weight row dequantized once into a per-thread buffer
// and reused for all M activation rows.
struct DequantJob {
  const WeightView* w;
  const float* x;
  int64_t ldx;
  float* y;
  int64_t ldy;
  int64_t m;
};

void matmul_dequant(const WeightView& w, const float* x, int64_t ldx, float* y, int64_t ldy,
                    int64_t m, ThreadPool& pool) {
  const int64_t grain = std::max<int64_t>(1, std::min<int64_t>(64, w.rows / (8 * pool.size()) + 1));
  const DequantJob job{&w, x, ldx, y, ldy, m};
  const DequantJob* jp = &job;
  pool.parallel_for(w.rows, grain, [jp](int64_t r0, int64_t r1, int) {
    const WeightView& w = *jp->w;
    thread_local std::vector<float> buf;  // grown once: no allocation per token
    for (int64_t r = r0; r < r1; ++r) {
      const float* row;
      if (w.type == DType::F32) {
        row = reinterpret_cast<const float*>(w.row(r));
      } else {
        if (buf.size() < static_cast<size_t>(w.cols)) buf.resize(w.cols);
        dequantize_row_ref(w.type, w.row(r), buf.data(), w.cols);
        row = buf.data();
      }
      for (int64_t i = 0; i < jp->m; ++i)
        jp->y[i * jp->ldy + r] = dot_f32(row, jp->x + i * jp->ldx, w.cols);
    }
  });
}

struct NativeJob {
  kernels::GemmFn gemm;
  const uint8_t* w;
  size_t w_stride;  // bytes per unit: a row, or a 16-row group when packed
  int64_t unit;     // rows per unit (1, or kPackRows when packed)
  int64_t rows;
  const uint8_t* a;
  size_t a_stride;
  int64_t m;
  int64_t n;
  float* y;
  int64_t ldy;
  int64_t row_block;  // M > 1: weight rows per task
  int64_t col_block;  // M > 1: activation rows per kernel call
  // activation conversion
  kernels::QuantizeFn quantize;
  const float* x;
  int64_t ldx;
  uint8_t* a_out;
};

const kernels::TypeKernels* native_kernels(DType type, int64_t cols) {
  const Isa isa = active_isa();
  if (isa == Isa::Scalar) return nullptr;
  const kernels::TypeKernels& k = kernels::type_kernels(isa, type);
  if (!k.gemm || cols % traits(type).block_size != 0) return nullptr;
  return &k;
}

}  // namespace

void weight_row_f32(const WeightView& w, int64_t r, float* out) {
  if (w.packed) {
    // Back to GGUF bytes first (exact), then the same dequantization.
    thread_local std::vector<uint8_t> row;
    row.resize(row_bytes(w.type, w.cols));
    unpack_row(w.type, static_cast<const uint8_t*>(w.packed), w.cols, r, row.data());
    dequantize_row_ref(w.type, row.data(), out, w.cols);
    return;
  }
  dequantize_row_ref(w.type, w.row(r), out, w.cols);
}

bool matmul_is_native(DType type) {
  const Isa isa = active_isa();
  return isa != Isa::Scalar && kernels::type_kernels(isa, type).gemm != nullptr;
}

bool matmul_packs(DType type, int64_t cols) {
  const kernels::TypeKernels* k = native_kernels(type, cols);
  return k && k->packed_gemm && packable(type, cols);
}

void matmul(const WeightView& w, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t m,
            ThreadPool& pool) {
  if (m <= 0 || w.rows <= 0) return;
  const kernels::TypeKernels* k = native_kernels(w.type, w.cols);
  if (!k) {
    matmul_dequant(w, x, ldx, y, ldy, m, pool);
    return;
  }

  NativeJob job{};
  if (w.packed && k->packed_gemm) {
    job.gemm = k->packed_gemm;
    job.w = static_cast<const uint8_t*>(w.packed);
    job.w_stride = packed_group_bytes(w.type, w.cols);
    job.unit = kPackRows;
  } else {
    job.gemm = k->gemm;
    job.w = static_cast<const uint8_t*>(w.data);
    job.w_stride = row_bytes(w.type, w.cols);
    job.unit = 1;
  }
  job.rows = w.rows;
  job.m = m;
  job.n = w.cols;
  job.y = y;
  job.ldy = ldy;
  const NativeJob* jp = &job;
  const int threads = pool.size();

  // Convert the activations once (F32 weights use them in place).
  if (!k->quantize) {
    job.a = reinterpret_cast<const uint8_t*>(x);
    job.a_stride = static_cast<size_t>(ldx) * sizeof(float);
  } else {
    thread_local ScratchBuffer scratch;
    job.a_stride = kernels::act_row_bytes(k->format, w.cols);
    job.a_out = scratch.get(job.a_stride * static_cast<size_t>(m));
    job.a = job.a_out;
    job.quantize = k->quantize;
    job.x = x;
    job.ldx = ldx;
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, w.cols));
    pool.parallel_for(m, grain, [jp](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i)
        jp->quantize(jp->x + i * jp->ldx, jp->a_out + i * jp->a_stride, jp->n);
    });
  }

  // Work is split in units (rows, or 16-row groups of packed weights); a
  // kernel call gets whole units, so packed calls start on a group.
  const int64_t units = (w.rows + job.unit - 1) / job.unit;
  if (m == 1) {
    // Token generation: memory-bound; stream the rows in chunks small enough
    // to balance threads and large enough to keep the prefetchers busy.
    const int64_t grain = job.unit == 1 ? std::clamp<int64_t>(w.rows / (8 * threads), 8, 64) / 4 * 4
                                        : std::clamp<int64_t>(units / (8 * threads), 1, 4);
    pool.parallel_for(units, grain, [jp](int64_t u0, int64_t u1, int) {
      const int64_t r0 = u0 * jp->unit, r1 = std::min(jp->rows, u1 * jp->unit);
      jp->gemm(jp->w + u0 * jp->w_stride, jp->w_stride, r1 - r0, jp->a, jp->a_stride, 1, jp->n,
               jp->y + r0, jp->ldy);
    });
    return;
  }

  // Prompt processing: compute-bound. Tasks are blocks of weight rows; each
  // runs its rows against blocks of activation rows sized to stay in cache.
  int64_t rb = static_cast<int64_t>(kWeightBlockBytes / std::max<size_t>(1, job.w_stride));
  rb = std::min(rb, (units + 4 * threads - 1) / (4 * threads));
  // In units; a multiple of the kernels' row tiles (4 rows, 2 groups).
  const int64_t tile = job.unit == 1 ? 4 : 2;
  job.row_block = std::max<int64_t>(tile, (rb + tile - 1) / tile * tile);
  job.col_block = std::clamp<int64_t>(
      static_cast<int64_t>(kActBlockBytes / std::max<size_t>(1, job.a_stride)), 4, m);
  const int64_t tasks = (units + job.row_block - 1) / job.row_block;
  pool.parallel_for(tasks, 1, [jp](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t u0 = t * jp->row_block;
      const int64_t r0 = u0 * jp->unit;
      const int64_t r1 = std::min(jp->rows, (u0 + jp->row_block) * jp->unit);
      for (int64_t c0 = 0; c0 < jp->m; c0 += jp->col_block) {
        const int64_t c1 = std::min(jp->m, c0 + jp->col_block);
        jp->gemm(jp->w + u0 * jp->w_stride, jp->w_stride, r1 - r0, jp->a + c0 * jp->a_stride,
                 jp->a_stride, c1 - c0, jp->n, jp->y + c0 * jp->ldy + r0, jp->ldy);
      }
    }
  });
}

}  // namespace sf
