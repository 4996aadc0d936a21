// GGUF v3 writer: metadata in insertion order, each tensor's data aligned and
// padded, the file written beside its destination and renamed into place.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "formats/gguf.h"
#include "formats/gguf_internal.h"

namespace sf::gguf {
namespace {

using detail::quoted;
using detail::strf;

template <class T>
void put(std::string& out, T x) {
  out.append(reinterpret_cast<const char*>(&x), sizeof x);
}

void put_string(std::string& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.append(s);
}

// Items must hold the variant alternative their type implies (the Value
// factories guarantee it); anything else is a programming error.
uint64_t as_u(const Value& v) {
  SF_CHECK(std::holds_alternative<uint64_t>(v.v),
           "GgufWriter: unsigned/bool Value without uint64_t");
  return std::get<uint64_t>(v.v);
}
int64_t as_i(const Value& v) {
  SF_CHECK(std::holds_alternative<int64_t>(v.v), "GgufWriter: signed Value without int64_t");
  return std::get<int64_t>(v.v);
}
double as_d(const Value& v) {
  SF_CHECK(std::holds_alternative<double>(v.v), "GgufWriter: float Value without double");
  return std::get<double>(v.v);
}

// The payload of a value (its type id is written by the caller).
void put_value(std::string& out, const Value& v) {
  switch (v.type) {
    case ValueType::UINT8:
      put(out, static_cast<uint8_t>(as_u(v)));
      return;
    case ValueType::INT8:
      put(out, static_cast<int8_t>(as_i(v)));
      return;
    case ValueType::UINT16:
      put(out, static_cast<uint16_t>(as_u(v)));
      return;
    case ValueType::INT16:
      put(out, static_cast<int16_t>(as_i(v)));
      return;
    case ValueType::UINT32:
      put(out, static_cast<uint32_t>(as_u(v)));
      return;
    case ValueType::INT32:
      put(out, static_cast<int32_t>(as_i(v)));
      return;
    case ValueType::UINT64:
      put(out, as_u(v));
      return;
    case ValueType::INT64:
      put(out, as_i(v));
      return;
    case ValueType::FLOAT32:
      put(out, static_cast<float>(as_d(v)));
      return;
    case ValueType::FLOAT64:
      put(out, as_d(v));
      return;
    case ValueType::BOOL:
      put(out, static_cast<uint8_t>(as_u(v) != 0));
      return;
    case ValueType::STRING: {
      const std::string* s = v.as_string();
      SF_CHECK(s != nullptr, "GgufWriter: STRING Value without a string");
      put_string(out, *s);
      return;
    }
    case ValueType::ARRAY: {
      const Array* a = v.as_array();
      SF_CHECK(a != nullptr, "GgufWriter: ARRAY Value without an Array");
      put(out, static_cast<uint32_t>(a->elem_type));
      put<uint64_t>(out, a->items.size());
      for (const Value& item : a->items) {
        SF_CHECK(item.type == a->elem_type, "GgufWriter: array item of the wrong type");
        put_value(out, item);  // a nested array writes its own element type and count
      }
      return;
    }
  }
  SF_CHECK(false, "GgufWriter: Value of an unknown type");
}

size_t padding(size_t n, size_t alignment) {
  return (alignment - n % alignment) % alignment;
}

}  // namespace

void GgufWriter::set(std::string key, Value value) {
  for (auto& [k, v] : kv_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  kv_.emplace_back(std::move(key), std::move(value));
}

Status GgufWriter::add_tensor(std::string name, DType type, std::vector<int64_t> dims,
                              const void* data, size_t n_bytes) {
  std::string tn = "gguf writer: tensor " + quoted(name);
  if (name.empty()) return Status::error("gguf writer: a tensor name is empty");
  for (const Tensor& t : tensors_)
    if (t.name == name) return Status::error(tn + ": a tensor of that name was already added");
  auto tt = type_traits(static_cast<uint32_t>(type));
  if (!tt) return Status::error(strf("%s: unknown type id %u", tn.c_str(), unsigned(type)));
  if (dims.empty() || dims.size() > static_cast<size_t>(detail::kMaxDims))
    return Status::error(strf("%s: has %zu dimensions; GGUF allows 1 to %d", tn.c_str(),
                              dims.size(), detail::kMaxDims));
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d <= 0)
      return Status::error(strf("%s: dimension %lld; every dimension must be at least 1",
                                tn.c_str(), static_cast<long long>(d)));
    if (__builtin_mul_overflow(n, d, &n))
      return Status::error(tn + ": element count overflows 64 bits");
  }
  if (dims[0] % tt->block_size != 0)
    return Status::error(
        strf("%s: rows of %lld elements are not a multiple of %s's block size %lld", tn.c_str(),
             static_cast<long long>(dims[0]), tt->name, static_cast<long long>(tt->block_size)));
  size_t expected = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(n / tt->block_size), tt->block_bytes, &expected))
    return Status::error(tn + ": byte size overflows 64 bits");
  if (n_bytes != expected)
    return Status::error(strf("%s: got %zu bytes, but %s %s takes %zu", tn.c_str(), n_bytes,
                              tt->name, detail::dims_text(dims).c_str(), expected));
  if (data == nullptr) return Status::error(tn + ": data is null");
  tensors_.push_back(Tensor{std::move(name), type, std::move(dims),
                            std::string(static_cast<const char*>(data), n_bytes)});
  return {};
}

namespace {

// The alignment general.alignment asks for, or an error if it is unusable.
Result<size_t> alignment_of(const std::vector<std::pair<std::string, Value>>& kv) {
  for (const auto& [k, v] : kv) {
    if (k != detail::kAlignmentKey) continue;
    const uint64_t* a = std::get_if<uint64_t>(&v.v);
    if (v.type != ValueType::UINT32 || a == nullptr || *a == 0 || (*a & (*a - 1)) != 0)
      return Status::error(
          strf("gguf writer: general.alignment must be a UINT32 nonzero power of "
               "two, got %s %s",
               value_type_name(v.type), v.to_display().c_str()));
    return static_cast<size_t>(*a);
  }
  return detail::kDefaultAlignment;
}

// Everything before the data section, padded so the data section is aligned.
std::string header_bytes(const std::vector<std::pair<std::string, Value>>& kv, const auto& tensors,
                         size_t alignment) {
  std::string out;
  out.append(detail::kMagic, 4);
  put<uint32_t>(out, detail::kWriteVersion);
  put<uint64_t>(out, tensors.size());
  put<uint64_t>(out, kv.size());
  for (const auto& [k, v] : kv) {
    put_string(out, k);
    put(out, static_cast<uint32_t>(v.type));
    put_value(out, v);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    put_string(out, t.name);
    put(out, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put(out, static_cast<uint64_t>(d));
    put(out, static_cast<uint32_t>(t.type));
    put(out, offset);
    offset += t.bytes.size() + padding(t.bytes.size(), alignment);
  }
  out.append(padding(out.size(), alignment), '\0');
  return out;
}

}  // namespace

std::string GgufWriter::to_bytes() const {
  // An unusable general.alignment is still written as given (tests build
  // hostile files this way); the data is then aligned to the default.
  auto al = alignment_of(kv_);
  size_t alignment = al.ok() ? *al : detail::kDefaultAlignment;
  std::string out = header_bytes(kv_, tensors_, alignment);
  for (const Tensor& t : tensors_) {
    out += t.bytes;
    out.append(padding(t.bytes.size(), alignment), '\0');
  }
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  SF_ASSIGN_OR_RETURN(size_t alignment, alignment_of(kv_));
  // Written beside the destination and renamed, so a crash or a full disk never
  // leaves a half-written model under the real name.
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return errorf("%s: cannot create: %s", tmp.c_str(), std::strerror(errno));
  static const char kZeros[256] = {};
  auto write_all = [&](const char* p, size_t n) { return std::fwrite(p, 1, n, f) == n; };
  std::string header = header_bytes(kv_, tensors_, alignment);
  bool ok = write_all(header.data(), header.size());
  for (size_t i = 0; ok && i < tensors_.size(); ++i) {
    const std::string& b = tensors_[i].bytes;
    ok = write_all(b.data(), b.size());
    for (size_t pad = padding(b.size(), alignment); ok && pad > 0;) {
      size_t n = std::min(pad, sizeof kZeros);
      ok = write_all(kZeros, n);
      pad -= n;
    }
  }
  ok = ok && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  int err = errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    std::remove(tmp.c_str());
    return errorf("%s: write failed: %s", tmp.c_str(), std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    std::remove(tmp.c_str());
    return errorf("%s: cannot rename %s into place: %s", path.c_str(), tmp.c_str(),
                  std::strerror(err));
  }
  return {};
}

}  // namespace sf::gguf
