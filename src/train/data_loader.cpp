// DataLoader over memory-mapped shards (train/data.h, train/shard.h).
//
// The shards of a split form one logical token stream. Window w covers tokens
// [w*T, w*T + T + 1): consecutive windows overlap by one token, so every token
// but the first is a target exactly once per epoch. An epoch visits
// floor(n_windows / B) * B windows in a Fisher-Yates permutation drawn from
// (seed, epoch) with our own splitmix64 (std::shuffle and the std
// distributions differ between standard libraries, so they would break
// "a seed reproduces everywhere"). The windows left over by the division are
// skipped in that epoch only; the next epoch's permutation moves them.
#include <algorithm>
#include <cinttypes>

#include "train/data.h"
#include "train/shard.h"

namespace sf::train {
namespace {

uint64_t mix64(uint64_t z) {  // splitmix64's finalizer
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t next() { return mix64(s_ += 0x9E3779B97F4A7C15ull); }
  // Uniform in [0, n), n > 0, without modulo bias (rejects the short tail).
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }

 private:
  uint64_t s_;
};

class ShardLoader final : public DataLoader {
 public:
  ShardLoader(std::vector<Shard> shards, int B, int T, uint64_t seed)
      : shards_(std::move(shards)), B_(B), T_(T), seed_(seed) {
    for (const Shard& s : shards_) {
      starts_.push_back(n_tokens_);
      n_tokens_ += s.n_tokens;
      has_mask_ |= s.has_mask;
    }
    n_windows_ = n_tokens_ > 0 ? (n_tokens_ - 1) / static_cast<uint64_t>(T_) : 0;
    batches_per_epoch_ = n_windows_ / static_cast<uint64_t>(B_);
    win_ids_.resize(static_cast<size_t>(T_) + 1);
    win_mask_.resize(static_cast<size_t>(T_) + 1);
  }

  void next(int32_t* tokens, int32_t* targets, float* mask) override {
    const uint64_t epoch = index_ / batches_per_epoch_;
    const uint64_t first = (index_ % batches_per_epoch_) * static_cast<uint64_t>(B_);
    ensure_permutation(epoch);
    const size_t T = static_cast<size_t>(T_);
    for (int b = 0; b < B_; ++b) {
      const uint64_t w = perm_[first + static_cast<uint64_t>(b)];
      read(w * T, T + 1, win_ids_.data(), mask ? win_mask_.data() : nullptr);
      const size_t row = static_cast<size_t>(b) * T;
      std::copy(win_ids_.begin(), win_ids_.begin() + static_cast<std::ptrdiff_t>(T), tokens + row);
      std::copy(win_ids_.begin() + 1, win_ids_.end(), targets + row);
      if (mask) std::copy(win_mask_.begin() + 1, win_mask_.end(), mask + row);
    }
    ++index_;
  }

  uint64_t index() const override { return index_; }
  void seek(uint64_t batch_index) override { index_ = batch_index; }
  int64_t n_tokens() const override { return static_cast<int64_t>(n_tokens_); }
  int64_t batches_per_epoch() const override { return static_cast<int64_t>(batches_per_epoch_); }
  int32_t vocab_size() const override { return static_cast<int32_t>(shards_[0].vocab_size); }
  bool has_mask() const override { return has_mask_; }

 private:
  // Copies tokens [begin, begin + n) of the logical stream, crossing shards.
  void read(uint64_t begin, uint64_t n, int32_t* ids, float* mask) const {
    size_t k = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), begin) -
                                   starts_.begin()) -
               1;
    while (n > 0) {
      const Shard& s = shards_[k];
      const uint64_t off = begin - starts_[k];
      const uint64_t take = std::min(n, s.n_tokens - off);
      s.copy(off, take, ids, mask);
      ids += take;
      if (mask) mask += take;
      begin += take;
      n -= take;
      ++k;
    }
  }

  void ensure_permutation(uint64_t epoch) {
    if (perm_epoch_ == epoch && !perm_.empty()) return;
    perm_.resize(n_windows_);
    for (uint64_t i = 0; i < n_windows_; ++i) perm_[i] = i;
    // Seed and epoch are mixed separately so (seed, epoch+1) and (seed+1, epoch)
    // give unrelated streams.
    SplitMix64 rng(mix64(seed_ ^ 0x5346544B44415441ull) ^ mix64(epoch + 0x9E3779B97F4A7C15ull));
    for (uint64_t i = n_windows_ - 1; i > 0; --i) std::swap(perm_[i], perm_[rng.below(i + 1)]);
    perm_epoch_ = epoch;
  }

  std::vector<Shard> shards_;
  std::vector<uint64_t> starts_;  // first logical token of each shard
  int B_, T_;
  uint64_t seed_;
  uint64_t n_tokens_ = 0, n_windows_ = 0, batches_per_epoch_ = 0;
  bool has_mask_ = false;
  uint64_t index_ = 0;
  uint64_t perm_epoch_ = 0;
  std::vector<uint64_t> perm_;  // window order of epoch perm_epoch_
  std::vector<int32_t> win_ids_;
  std::vector<float> win_mask_;
};

}  // namespace

Result<std::unique_ptr<DataLoader>> DataLoader::open(const std::string& dir,
                                                     const std::string& split, int B, int T,
                                                     uint64_t seed) {
  if (B < 1 || T < 1)
    return errorf("data loader: batch size %d and sequence length %d must both be at least 1", B,
                  T);
  SF_ASSIGN_OR_RETURN(std::vector<std::string> paths, list_shards(dir, split));
  if (paths.empty())
    return errorf(
        "%s: no %s-*.bin shards in this folder; hint: make them with 'starfire data prepare "
        "--input ... --tokenizer ... -o %s'%s",
        dir.c_str(), split.c_str(), dir.c_str(),
        split == "val" ? " (a val split needs --val-fraction > 0 and enough documents)" : "");
  std::vector<Shard> shards;
  uint64_t total = 0;
  for (const std::string& p : paths) {
    SF_ASSIGN_OR_RETURN(Shard s, open_shard(p));
    if (!shards.empty() && s.vocab_size != shards[0].vocab_size)
      return errorf(
          "%s: vocabulary size %u differs from %u in %s; the shards of one split must come from "
          "one tokenizer",
          p.c_str(), s.vocab_size, shards[0].vocab_size, shards[0].path.c_str());
    total += s.n_tokens;
    if (s.n_tokens > 0) shards.push_back(std::move(s));  // empty shards add nothing
  }
  const uint64_t need = static_cast<uint64_t>(B) * static_cast<uint64_t>(T) + 1;
  if (total < need)
    return errorf("%s: the %s split has %" PRIu64
                  " tokens, too few for one batch of %d x %d (needs at "
                  "least %" PRIu64
                  " tokens); hint: lower the batch size or sequence length, or prepare more data",
                  dir.c_str(), split.c_str(), total, B, T, need);
  return std::unique_ptr<DataLoader>(new ShardLoader(std::move(shards), B, T, seed));
}

}  // namespace sf::train
