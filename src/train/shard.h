// Token shards on disk (the format is described in train/data.h):
//
//   offset 0   "SFTK"            magic
//          4   u32 version (1)
//          8   u64 n_tokens
//         16   u32 vocab size
//         20   u32 flags          bit 0: a u8 loss mask follows the ids
//         24   u32 ids[n_tokens]
//              u8  mask[n_tokens] (only with flag bit 0)
//
// Little-endian. The file size must be exactly what the header says, so a
// truncated or padded shard is caught before training reads garbage.
// Thread-safety: a Shard is immutable after open; a ShardWriter is used by one
// thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/mapped_file.h"

namespace sf::train {

inline constexpr char kShardMagic[4] = {'S', 'F', 'T', 'K'};
inline constexpr uint32_t kShardVersion = 1;
inline constexpr size_t kShardHeaderBytes = 24;
inline constexpr uint32_t kShardFlagMask = 1u;

// A memory-mapped, validated shard.
struct Shard {
  std::string path;
  MappedFile file;
  uint64_t n_tokens = 0;
  uint32_t vocab_size = 0;
  bool has_mask = false;

  // Token i (i < n_tokens); the ids were checked against vocab_size at open.
  int32_t id(uint64_t i) const;
  // Copies ids [begin, begin + n) as int32 and, when `mask` is given, the mask
  // values as 1.0f/0.0f (all 1 for an unmasked shard).
  void copy(uint64_t begin, uint64_t n, int32_t* ids, float* mask) const;
  uint8_t mask_at(uint64_t i) const;  // 1 for an unmasked shard
};

// Opens and validates `path`: magic, version, flags, the size implied by the
// header against the file's size, vocab_size in (0, 2^31), every id below
// vocab_size and every mask byte 0 or 1 (one sequential pass over the file).
// Errors name the file and what is wrong.
Result<Shard> open_shard(const std::string& path);

// `<dir>/<split>-*.bin`, sorted by name. Errors when `dir` is not a folder.
Result<std::vector<std::string>> list_shards(const std::string& dir, const std::string& split);

// The file name prepare gives shard `index` of `split`: "train-00003.bin".
std::string shard_file_name(const std::string& split, int index);

// Streams one shard to disk: ids go straight to `<path>.tmp`, the mask is
// kept in memory (1 byte per token) and appended by finish() only if some
// token is masked out. finish() patches the header and renames the file into
// place, so a crash never leaves a shard that looks complete.
class ShardWriter {
 public:
  static Result<ShardWriter> create(const std::string& path, uint32_t vocab_size);
  ShardWriter() = default;
  ShardWriter(ShardWriter&& o) noexcept;
  ShardWriter& operator=(ShardWriter&& o) noexcept;
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;
  ~ShardWriter();  // an unfinished shard's temporary file is removed

  // `mask` is empty (all 1) or the same length as `ids`.
  Status append(std::span<const int32_t> ids, std::span<const uint8_t> mask = {});
  Status finish();
  uint64_t n_tokens() const { return n_tokens_; }
  const std::string& path() const { return path_; }

 private:
  void abandon();
  std::string path_, tmp_path_;
  std::FILE* f_ = nullptr;
  uint32_t vocab_size_ = 0;
  uint64_t n_tokens_ = 0;
  bool any_masked_ = false;
  std::vector<uint8_t> mask_;
};

// Writes a whole shard at once (tests and small tools).
Status write_shard(const std::string& path, uint32_t vocab_size, std::span<const int32_t> ids,
                   std::span<const uint8_t> mask = {});

}  // namespace sf::train
