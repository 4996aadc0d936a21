#include "core/matmul.h"

#include <algorithm>
#include <vector>

#include "core/ops.h"
#include "core/quant.h"
#include "core/threadpool.h"

namespace sf {

void weight_row_f32(const WeightView& w, int64_t r, float* out) {
  dequantize_row_ref(w.type, w.row(r), out, w.cols);
}

void matmul(const WeightView& w, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t m,
            ThreadPool& pool) {
  // Rows of W are split across threads; each row is dequantized once into a
  // per-thread buffer and reused for all M activation rows, so prompt
  // processing pays the dequantization cost once per weight row.
  const int64_t grain = std::max<int64_t>(1, std::min<int64_t>(64, w.rows / (8 * pool.size()) + 1));
  pool.parallel_for(w.rows, grain, [&](int64_t r0, int64_t r1, int t) {
    const float* row;
    // Per-thread row buffer, grown once: no allocation per token.
    thread_local std::vector<float> buf;
    for (int64_t r = r0; r < r1; ++r) {
      if (w.type == DType::F32) {
        row = reinterpret_cast<const float*>(w.row(r));
      } else {
        if (buf.size() < static_cast<size_t>(w.cols)) buf.resize(w.cols);
        dequantize_row_ref(w.type, w.row(r), buf.data(), w.cols);
        row = buf.data();
      }
      for (int64_t i = 0; i < m; ++i) y[i * ldy + r] = dot_f32(row, x + i * ldx, w.cols);
    }
  });
}

}  // namespace sf
