// Training data as token shards, and the loader that turns them into batches.
//
// A shard (`<split>-NNN.bin`) is: magic "SFTK", u32 version (1), u64 n_tokens,
// u32 vocab size, u32 flags (bit 0: a loss mask follows), then n_tokens u32
// ids, then (if masked) n_tokens u8 mask values (1: the token is a target the
// loss counts, e.g. assistant replies in chat data; 0: prompt/system text).
// Documents are concatenated, each ended by the tokenizer's EOS (packing).
// A folder of shards has meta.json: tokenizer path and kind, token counts per
// split and source, the options used.
//
// The loader cuts a split's token stream into windows of T+1 tokens, visits
// them in a permutation drawn from (seed, epoch), and fills B windows per
// batch: tokens = window[0..T), targets = window[1..T], mask = mask of the
// targets (all 1 for unmasked shards). Batch i depends only on (seed, i), so
// a checkpoint stores i and resumes exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace sf::train {

class DataLoader {
 public:
  // Opens every `<split>-*.bin` in `dir` (split: "train" or "val").
  static Result<std::unique_ptr<DataLoader>> open(const std::string& dir, const std::string& split,
                                                  int B, int T, uint64_t seed);
  virtual ~DataLoader() = default;

  // Fills B x T tokens, targets and mask for batch `index()`, then advances.
  virtual void next(int32_t* tokens, int32_t* targets, float* mask) = 0;
  virtual uint64_t index() const = 0;  // batches handed out so far
  virtual void seek(uint64_t batch_index) = 0;
  virtual int64_t n_tokens() const = 0;
  virtual int64_t batches_per_epoch() const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual bool has_mask() const = 0;
};

}  // namespace sf::train
