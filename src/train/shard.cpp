#include "train/shard.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace sf::train {

namespace fs = std::filesystem;

namespace {

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

void put_u32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
void put_u64(uint8_t* p, uint64_t v) {
  std::memcpy(p, &v, 8);
}

std::string header_bytes(uint64_t n_tokens, uint32_t vocab, uint32_t flags) {
  std::string h(kShardHeaderBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(h.data());
  std::memcpy(p, kShardMagic, 4);
  put_u32(p + 4, kShardVersion);
  put_u64(p + 8, n_tokens);
  put_u32(p + 16, vocab);
  put_u32(p + 20, flags);
  return h;
}

constexpr const char* kRegenerate = "run 'starfire data prepare' again to rewrite it";

}  // namespace

int32_t Shard::id(uint64_t i) const {
  return static_cast<int32_t>(load_u32(file.data() + kShardHeaderBytes + 4 * i));
}

uint8_t Shard::mask_at(uint64_t i) const {
  return has_mask ? file.data()[kShardHeaderBytes + 4 * n_tokens + i] : 1;
}

void Shard::copy(uint64_t begin, uint64_t n, int32_t* ids, float* mask) const {
  // Ids were validated below 2^31 at open, so the u32 -> i32 copy is exact.
  std::memcpy(ids, file.data() + kShardHeaderBytes + 4 * begin, 4 * n);
  if (!mask) return;
  if (!has_mask) {
    std::fill(mask, mask + n, 1.0f);
    return;
  }
  const uint8_t* m = file.data() + kShardHeaderBytes + 4 * n_tokens + begin;
  for (uint64_t i = 0; i < n; ++i) mask[i] = m[i] ? 1.0f : 0.0f;
}

Result<Shard> open_shard(const std::string& path) {
  SF_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  const uint8_t* p = file.data();
  const size_t size = file.size();
  const char* name = path.c_str();
  if (size < kShardHeaderBytes)
    return errorf("%s: not a token shard: %zu bytes, shorter than the %zu-byte header (%s)", name,
                  size, kShardHeaderBytes, kRegenerate);
  if (std::memcmp(p, kShardMagic, 4) != 0)
    return errorf(
        "%s: not a token shard: bad magic (expected \"SFTK\"); shards are written by "
        "'starfire data prepare'",
        name);
  const uint32_t version = load_u32(p + 4);
  if (version != kShardVersion)
    return errorf("%s: shard version %u is not supported (this build reads version %u); %s", name,
                  version, kShardVersion, kRegenerate);
  Shard s;
  s.path = path;
  s.n_tokens = load_u64(p + 8);
  s.vocab_size = load_u32(p + 16);
  const uint32_t flags = load_u32(p + 20);
  if (flags & ~kShardFlagMask)
    return errorf("%s: unknown shard flags 0x%x (only bit 0, the loss mask, is defined); %s", name,
                  flags, kRegenerate);
  s.has_mask = flags & kShardFlagMask;
  if (s.vocab_size == 0 || s.vocab_size > static_cast<uint32_t>(INT32_MAX))
    return errorf("%s: vocabulary size %u in the header is out of range (1 .. 2^31-1); %s", name,
                  s.vocab_size, kRegenerate);
  // Checked before multiplying so an absurd count cannot overflow the size.
  const uint64_t per_token = s.has_mask ? 5 : 4;
  const uint64_t body = size - kShardHeaderBytes;
  if (s.n_tokens > body / per_token || s.n_tokens * per_token != body) {
    const bool short_file = s.n_tokens > body / per_token;
    return errorf(
        "%s: size mismatch: the header says %llu tokens%s, which needs %s bytes, but the file has "
        "%zu bytes (%s); %s",
        name, static_cast<unsigned long long>(s.n_tokens), s.has_mask ? " with a mask" : "",
        short_file && s.n_tokens > (UINT64_MAX - kShardHeaderBytes) / per_token
            ? "more than 2^64"
            : std::to_string(kShardHeaderBytes + s.n_tokens * per_token).c_str(),
        size, short_file ? "truncated" : "trailing bytes", kRegenerate);
  }
  // One pass over the ids: a bad id would index past the embedding table.
  const uint8_t* ids = p + kShardHeaderBytes;
  for (uint64_t i = 0; i < s.n_tokens;) {
    // Chunked max so the common case is a tight vectorizable loop.
    const uint64_t end = std::min<uint64_t>(s.n_tokens, i + 4096);
    uint32_t mx = 0;
    for (uint64_t j = i; j < end; ++j) mx = std::max(mx, load_u32(ids + 4 * j));
    if (mx >= s.vocab_size) {
      for (uint64_t j = i; j < end; ++j)
        if (load_u32(ids + 4 * j) >= s.vocab_size)
          return errorf(
              "%s: token %llu has id %u, outside the vocabulary of %u; the shard is corrupt or "
              "was made with another tokenizer (%s)",
              name, static_cast<unsigned long long>(j), load_u32(ids + 4 * j), s.vocab_size,
              kRegenerate);
    }
    i = end;
  }
  if (s.has_mask) {
    const uint8_t* m = ids + 4 * s.n_tokens;
    for (uint64_t i = 0; i < s.n_tokens; ++i)
      if (m[i] > 1)
        return errorf("%s: mask value %u at token %llu (must be 0 or 1); %s", name, m[i],
                      static_cast<unsigned long long>(i), kRegenerate);
  }
  s.file = std::move(file);
  return s;
}

std::string shard_file_name(const std::string& split, int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%05d.bin", index);
  return split + buf;
}

Result<std::vector<std::string>> list_shards(const std::string& dir, const std::string& split) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return errorf(
        "%s: not a folder of token shards (give the output folder of 'starfire data "
        "prepare')",
        dir.c_str());
  std::vector<std::string> out;
  const std::string prefix = split + "-";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.size() > prefix.size() + 4 && n.compare(0, prefix.size(), prefix) == 0 &&
        n.compare(n.size() - 4, 4, ".bin") == 0 && it->is_regular_file(ec))
      out.push_back(it->path().string());
  }
  if (ec) return errorf("%s: cannot list the folder: %s", dir.c_str(), ec.message().c_str());
  std::sort(out.begin(), out.end());
  return out;
}

Result<ShardWriter> ShardWriter::create(const std::string& path, uint32_t vocab_size) {
  ShardWriter w;
  w.path_ = path;
  w.tmp_path_ = path + ".tmp";
  w.vocab_size_ = vocab_size;
  w.f_ = std::fopen(w.tmp_path_.c_str(), "wb");
  if (!w.f_) return errorf("%s: cannot create: %s", w.tmp_path_.c_str(), std::strerror(errno));
  // Placeholder header; finish() writes the real counts.
  const std::string h = header_bytes(0, vocab_size, 0);
  if (std::fwrite(h.data(), 1, h.size(), w.f_) != h.size())
    return errorf("%s: write failed: %s", w.tmp_path_.c_str(), std::strerror(errno));
  return w;
}

ShardWriter::ShardWriter(ShardWriter&& o) noexcept {
  *this = std::move(o);
}

ShardWriter& ShardWriter::operator=(ShardWriter&& o) noexcept {
  if (this != &o) {
    abandon();
    path_ = std::move(o.path_);
    tmp_path_ = std::move(o.tmp_path_);
    f_ = o.f_;
    o.f_ = nullptr;
    vocab_size_ = o.vocab_size_;
    n_tokens_ = o.n_tokens_;
    any_masked_ = o.any_masked_;
    mask_ = std::move(o.mask_);
  }
  return *this;
}

ShardWriter::~ShardWriter() {
  abandon();
}

void ShardWriter::abandon() {
  if (!f_) return;
  std::fclose(f_);
  f_ = nullptr;
  std::error_code ec;
  fs::remove(tmp_path_, ec);
}

Status ShardWriter::append(std::span<const int32_t> ids, std::span<const uint8_t> mask) {
  if (!f_) return errorf("%s: shard is not open for writing", path_.c_str());
  if (!mask.empty() && mask.size() != ids.size())
    return errorf("%s: %zu mask values for %zu tokens", path_.c_str(), mask.size(), ids.size());
  for (int32_t id : ids)
    if (id < 0 || static_cast<uint32_t>(id) >= vocab_size_)
      return errorf("%s: token id %d is outside the vocabulary of %u", path_.c_str(), id,
                    vocab_size_);
  static_assert(sizeof(int32_t) == 4);
  if (!ids.empty() && std::fwrite(ids.data(), 4, ids.size(), f_) != ids.size())
    return errorf("%s: write failed: %s", tmp_path_.c_str(), std::strerror(errno));
  if (mask.empty()) {
    mask_.insert(mask_.end(), ids.size(), 1);
  } else {
    for (uint8_t m : mask) {
      mask_.push_back(m ? 1 : 0);
      any_masked_ |= !m;
    }
  }
  n_tokens_ += ids.size();
  return {};
}

Status ShardWriter::finish() {
  if (!f_) return errorf("%s: shard is not open for writing", path_.c_str());
  const uint32_t flags = any_masked_ ? kShardFlagMask : 0;
  bool ok = true;
  if (any_masked_) ok = std::fwrite(mask_.data(), 1, mask_.size(), f_) == mask_.size();
  const std::string h = header_bytes(n_tokens_, vocab_size_, flags);
  ok = ok && std::fseek(f_, 0, SEEK_SET) == 0 && std::fwrite(h.data(), 1, h.size(), f_) == h.size();
  ok = ok && std::fflush(f_) == 0;
  if (!ok) {
    const std::string why = std::strerror(errno);
    abandon();
    return errorf("%s: write failed: %s", tmp_path_.c_str(), why.c_str());
  }
  std::fclose(f_);
  f_ = nullptr;
  std::error_code ec;
  fs::rename(tmp_path_, path_, ec);
  if (ec) {
    fs::remove(tmp_path_, ec);
    return errorf("%s: cannot move the finished shard into place: %s", path_.c_str(),
                  ec.message().c_str());
  }
  mask_.clear();
  mask_.shrink_to_fit();
  return {};
}

Status write_shard(const std::string& path, uint32_t vocab_size, std::span<const int32_t> ids,
                   std::span<const uint8_t> mask) {
  SF_ASSIGN_OR_RETURN(ShardWriter w, ShardWriter::create(path, vocab_size));
  SF_RETURN_IF_ERROR(w.append(ids, mask));
  return w.finish();
}

}  // namespace sf::train
