// Training checkpoints: everything needed to continue a run bit-exactly.
//
// A checkpoint is a folder `<dir>/step-NNNNNNNN/` holding
//   state.json   format/version, step, the run's config (train_config.h),
//                data loader positions, RNG states, counters, the parameter
//                layout (names, shapes, offsets, decay) and for each binary
//                file its size and a 64-bit checksum;
//   params.bin   the flat parameter buffer (f32, little-endian, padding
//                included: layout.total() floats);
//   adam_m.bin, adam_v.bin   the AdamW moments, same layout.
// It is written into `<dir>/.tmp-step-NNNNNNNN-<pid>/`, every file fsynced,
// then renamed into place and the parent folder fsynced: a folder named
// step-* is always complete, whatever kills the process when. After a
// successful save all but the newest `keep` checkpoints are removed (oldest
// first, after the new one is in place), and leftover .tmp-* folders of
// killed runs are cleaned up.
// Thread-safety: one writer per folder; CheckpointLock enforces it across
// processes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "train/params.h"

namespace sf::train {

struct CheckpointState {
  int step = 0;                                      // optimizer steps completed
  nlohmann::json config = nlohmann::json::object();  // the resolved TrainConfig
  uint64_t train_index = 0;                          // train DataLoader::index() after `step`
  uint64_t val_index = 0;    // val loader position (evaluation restarts at 0 each time)
  uint64_t model_rng = 0;    // TrainModel::rng_state()
  uint64_t sampler_rng = 0;  // sample generation (derived from seed and step; kept for checks)
  uint64_t tokens_seen = 0;  // training tokens processed
  double elapsed_s = 0;      // training wall time so far, over all resumed segments
  // Anything else the trainer wants back (data fingerprint, last losses ...).
  nlohmann::json extra = nlohmann::json::object();
};

// Writes checkpoint `state.step` into `dir` (created if missing), atomically.
Status save_checkpoint(const std::string& dir, const CheckpointState& state,
                       const ParamLayout& layout, const ParamBuffer<float>& params,
                       const ParamBuffer<float>& m, const ParamBuffer<float>& v, int keep);

// Complete checkpoints in `dir`, oldest first (empty when none or no folder).
std::vector<int> list_checkpoints(const std::string& dir);
std::string checkpoint_path(const std::string& dir, int step);

// Reads state.json of the newest checkpoint in `dir` and checks that its
// binary files exist with the recorded sizes. `path` receives its folder.
Result<CheckpointState> read_checkpoint_state(const std::string& dir, std::string* path);

// Loads params and moments from checkpoint folder `path` into buffers laid
// out by `layout`; errors when the stored layout differs (names each
// differing tensor) or a file's checksum does not match.
Status load_checkpoint_tensors(const std::string& path, const ParamLayout& layout,
                               ParamBuffer<float>& params, ParamBuffer<float>& m,
                               ParamBuffer<float>& v);

// Exclusive use of a checkpoint folder by one process (flock on
// `<dir>/.lock`, released when the process ends however it ends).
class CheckpointLock {
 public:
  static Result<std::unique_ptr<CheckpointLock>> acquire(const std::string& dir);
  ~CheckpointLock();
  CheckpointLock(const CheckpointLock&) = delete;
  CheckpointLock& operator=(const CheckpointLock&) = delete;

 private:
  explicit CheckpointLock(int fd) : fd_(fd) {}
  int fd_;
};

// 64-bit checksum of bytes (fast, not cryptographic; detects corruption).
uint64_t checksum64(const void* data, size_t n);

// Atomically replaces `path` with `bytes` (tmp file in the same folder,
// fsync, rename, fsync of the folder).
Status write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace sf::train
