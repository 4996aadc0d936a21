#include "models/gguf_stream.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sf {
namespace {

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);  // GGUF is little-endian, like us
}

size_t pad(size_t n, size_t a) {
  return (a - n % a) % a;
}

// The encoded metadata section: GgufWriter's own encoding, recovered exactly
// by writing the same keys with general.alignment = 1 appended last (so there
// is no padding) and no tensors, then dropping that entry. A real
// general.alignment is moved to the end, keeping its value.
std::string kv_bytes(const std::vector<std::pair<std::string, gguf::Value>>& kv) {
  gguf::GgufWriter w;
  const gguf::Value* alignment = nullptr;
  for (const auto& [k, v] : kv) {
    if (k == "general.alignment")
      alignment = &v;
    else
      w.set(k, v);
  }
  w.set("general.alignment", gguf::Value::u32(1));
  const std::string all = w.to_bytes();
  const size_t header = 4 + 4 + 8 + 8;
  const size_t entry = 8 + 17 + 4 + 4;  // u64 key length, key, u32 type, u32 value
  std::string out = all.substr(header, all.size() - header - entry);
  if (alignment) {
    put<uint64_t>(out, 17);
    out += "general.alignment";
    put<uint32_t>(out, static_cast<uint32_t>(gguf::ValueType::UINT32));
    put<uint32_t>(out, static_cast<uint32_t>(alignment->as_int().value_or(32)));
  }
  return out;
}

}  // namespace

GgufStreamWriter::~GgufStreamWriter() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void GgufStreamWriter::set(std::string key, gguf::Value value) {
  for (auto& [k, v] : kv_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  kv_.emplace_back(std::move(key), std::move(value));
}

Status GgufStreamWriter::declare(std::string name, DType type, std::vector<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  if (dims.empty() || n <= 0 || dims[0] % traits(type).block_size != 0)
    return errorf("gguf: tensor '%s' cannot be stored as %s with this shape", name.c_str(),
                  type_name(type));
  const size_t bytes = row_bytes(type, dims[0]) * static_cast<size_t>(n / dims[0]);
  tensors_.push_back({std::move(name), type, std::move(dims), bytes});
  return {};
}

Status GgufStreamWriter::open(const std::string& path) {
  for (const auto& [k, v] : kv_)
    if (k == "general.alignment") {
      const auto a = v.as_int();
      if (v.type != gguf::ValueType::UINT32 || !a || *a <= 0 || (*a & (*a - 1)) != 0)
        return errorf("%s: general.alignment must be a power of two", path.c_str());
      alignment_ = static_cast<size_t>(*a);
    }
  std::string h;
  h.append("GGUF", 4);
  put<uint32_t>(h, 3);
  put<uint64_t>(h, tensors_.size());
  put<uint64_t>(h, kv_.size());
  h += kv_bytes(kv_);
  uint64_t off = 0;
  for (const Decl& t : tensors_) {
    put<uint64_t>(h, t.name.size());
    h += t.name;
    put<uint32_t>(h, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put<uint64_t>(h, static_cast<uint64_t>(d));
    put<uint32_t>(h, static_cast<uint32_t>(t.type));
    put<uint64_t>(h, off);
    off += t.bytes + pad(t.bytes, alignment_);
  }
  h.append(pad(h.size(), alignment_), '\0');
  path_ = path;
  tmp_ = path + ".tmp";
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) return errorf("%s: cannot create: %s", tmp_.c_str(), std::strerror(errno));
  if (std::fwrite(h.data(), 1, h.size(), f_) != h.size())
    return errorf("%s: write failed: %s", tmp_.c_str(), std::strerror(errno));
  return {};
}

Status GgufStreamWriter::write_next(const void* data, size_t n) {
  if (!f_ || next_ >= tensors_.size()) return Status::error("gguf stream: no tensor left to write");
  const Decl& t = tensors_[next_++];
  if (n != t.bytes)
    return errorf("gguf stream: tensor '%s' needs %zu bytes, got %zu", t.name.c_str(), t.bytes, n);
  static const char kZeros[256] = {};
  bool ok = std::fwrite(data, 1, n, f_) == n;
  for (size_t p = pad(n, alignment_); ok && p > 0;) {
    const size_t k = std::min(p, sizeof kZeros);
    ok = std::fwrite(kZeros, 1, k, f_) == k;
    p -= k;
  }
  if (!ok) return errorf("%s: write failed: %s", tmp_.c_str(), std::strerror(errno));
  return {};
}

Status GgufStreamWriter::finish() {
  if (!f_) return Status::error("gguf stream: not open");
  if (next_ != tensors_.size())
    return errorf("gguf stream: %zu of %zu tensors written", next_, tensors_.size());
  bool ok = std::fflush(f_) == 0 && ::fsync(fileno(f_)) == 0;
  ok = std::fclose(f_) == 0 && ok;
  f_ = nullptr;
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp_.c_str());
    return errorf("%s: cannot write: %s", path_.c_str(), std::strerror(err));
  }
  return {};
}

}  // namespace sf
