#include "models/weight_packing.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/matmul.h"
#include "core/threadpool.h"

namespace sf {

bool repack_enabled_by_env() {
  const char* s = std::getenv("STARFIRE_REPACK");
  return !(s && std::strcmp(s, "0") == 0);
}

PackReport pack_model_weights(ModelWeights& w, std::vector<AlignedBuffer>& owned,
                              const gguf::GgufFile* file) {
  std::vector<WeightView*> views;
  for (LayerWeights& l : w.layers)
    for (WeightView* v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      views.push_back(v);
  views.push_back(&w.output);

  PackReport rep;
  std::unique_ptr<ThreadPool> pool;  // only when something is packed
  for (WeightView* v : views) {
    if (v->empty() || v->packed || !matmul_packs(v->type, v->cols)) continue;
    if (!pool) pool = std::make_unique<ThreadPool>(0);
    AlignedBuffer buf(packed_bytes(v->type, v->rows, v->cols));
    const WeightView src = *v;
    const auto* rows = static_cast<const uint8_t*>(src.data);
    const size_t rb = row_bytes(src.type, src.cols);
    uint8_t* dst = buf.data();
    // Slices of ~16 MiB of GGUF rows, each released once packed, so a large
    // tensor (a tied 150k-row head) is never resident twice.
    const int64_t groups = packed_groups(src.rows);
    const int64_t slice = std::max<int64_t>(1, (int64_t{16} << 20) / (kPackRows * rb));
    for (int64_t s0 = 0; s0 < groups; s0 += slice) {
      const int64_t s1 = std::min(groups, s0 + slice);
      // Each chunk of groups reads its own rows and writes its own bytes.
      pool->parallel_for(s1 - s0, 16, [&src, dst, s0](int64_t g0, int64_t g1, int) {
        pack_groups(src.type, static_cast<const uint8_t*>(src.data), src.rows, src.cols, s0 + g0,
                    s0 + g1, dst);
      });
      if (file) {
        const int64_t r0 = s0 * kPackRows, r1 = std::min(src.rows, s1 * kPackRows);
        file->release_pages(rows + r0 * rb, (r1 - r0) * rb);
      }
    }
    v->packed = buf.data();
    rep.tensors += 1;
    rep.bytes += buf.size();
    owned.push_back(std::move(buf));
  }
  // A tied head is the embedding table: lookups read its rows back from the
  // packed copy, so the GGUF pages released above are not faulted back in.
  if (w.output.packed && w.tok_embd.data == w.output.data && w.tok_embd.type == w.output.type)
    w.tok_embd.packed = w.output.packed;
  return rep;
}

}  // namespace sf
