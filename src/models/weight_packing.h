// Load-time repacking of a model's matrix weights into the row-interleaved
// layout of core/packed_weights.h, for the active ISA level's packed kernels.
//
// Packed are the matmul weights (wq wk wv wo w_gate w_up w_down and the
// output head) whose type and shape have a packed kernel at the active level
// (matmul_packs). Each view keeps `data` (embedding lookups, LoRA and the
// trainer read GGUF rows) and gains `packed`; the buffers go to `owned`, which
// the Model keeps. A tied output head gets a packed copy of the embedding,
// which tok_embd then shares (`packed`), so its lookups unpack rows from it
// (weight_row_f32) instead of touching the GGUF bytes. When the file is
// memory-mapped, the pages a packed tensor fully covers are released as each
// ~16 MiB slice is packed (they stay readable, re-read from the file on
// touch), so the resident size does not double.
//
// STARFIRE_REPACK=0 in the environment turns packing off (bug reports, A/B
// comparisons); so does LoadOptions::pack_weights = false.
#pragma once

#include <vector>

#include "core/packed_weights.h"
#include "formats/gguf.h"
#include "models/model.h"

namespace sf {

// False when STARFIRE_REPACK is set to "0" (read on every call).
bool repack_enabled_by_env();

struct PackReport {
  int tensors = 0;   // matrices packed
  size_t bytes = 0;  // bytes of packed copies
};

// `file` (may be null) is what the views point into, for releasing pages.
PackReport pack_model_weights(ModelWeights& w, std::vector<AlignedBuffer>& owned,
                              const gguf::GgufFile* file);

}  // namespace sf
