// GGUF reader: maps the file and checks every count, length and offset against
// the bytes actually present before using it. Nothing is allocated from a count
// until the remaining bytes prove the count possible.
#include <algorithm>
#include <cstring>

#include "formats/gguf.h"
#include "formats/gguf_internal.h"
#include "formats/mapped_file.h"

namespace sf::gguf {
namespace {

using detail::quoted;
using detail::strf;
using ull = unsigned long long;

// Real files nest arrays one level deep (arrays of scalars or strings); the
// format allows more, but deep nesting only serves to exhaust the stack.
constexpr int kMaxArrayDepth = 8;
// Upper bound on array elements across all metadata. A decoded element costs
// sizeof(Value) (48 bytes) while a UINT8 element costs one byte of file, so
// without a bound a 1 GB file could demand ~48 GB. The largest real vocabularies
// (262k tokens in three arrays, plus merges) use under 2M elements.
constexpr uint64_t kMaxMetadataItems = uint64_t{1} << 24;
// Real files hold tens of metadata entries and at most a few thousand tensors.
// Each entry or tensor costs several times its encoded size once decoded, so
// counts far past any real model are refused rather than trusted.
constexpr uint64_t kMaxEntries = uint64_t{1} << 20;
// Vectors sized from a file's counts reserve at most this many slots up front
// and grow as elements actually parse, so memory follows the bytes really
// present, not the bytes a count claims.
constexpr uint64_t kMaxReserve = uint64_t{1} << 12;
constexpr const char* kTruncatedHint = "the file is truncated or corrupt; re-download it";

size_t capped_reserve(uint64_t count) {
  return static_cast<size_t>(std::min(count, kMaxReserve));
}

// Fewest bytes one array element of type t can take: a count is checked against
// the bytes left (count <= remaining / this) before anything is reserved for it.
size_t min_encoded_size(ValueType t) {
  if (t == ValueType::STRING) return 8;  // u64 length
  if (t == ValueType::ARRAY) return 12;  // u32 element type + u64 count
  return detail::scalar_size(t);
}

// Names the thing being read, built only when an error needs it.
struct Where {
  const std::string& ctx;
  int64_t index = -1;  // array element, or -1
  std::string operator()() const {
    return index < 0 ? ctx : ctx + " element " + std::to_string(index);
  }
};

class Parser {
 public:
  Parser(const std::string& path, const uint8_t* data, size_t size)
      : path_(path), data_(data), size_(size) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  Status error(const std::string& msg) const { return Status::error(path_ + ": " + msg); }

  template <class What>
  Status need(size_t n, const What& what) const {
    if (n <= remaining()) return {};
    return error(strf("truncated: %s needs %zu bytes at offset %zu but the file ends at %zu; %s",
                      what().c_str(), n, pos_, size_, kTruncatedHint));
  }

  template <class T, class What>
  Status read(T* out, const What& what) {
    SF_RETURN_IF_ERROR(need(sizeof(T), what));
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return {};
  }

  template <class What>
  Status read_string(std::string* out, const What& what) {
    uint64_t len = 0;
    SF_RETURN_IF_ERROR(read(&len, [&] { return "the length of " + what(); }));
    if (len > remaining())
      return error(
          strf("truncated: %s is a string of %llu bytes at offset %zu, which runs past "
               "the end of the file (%zu bytes); %s",
               what().c_str(), static_cast<ull>(len), pos_, size_, kTruncatedHint));
    out->assign(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return {};
  }

  // Reads one value of type t (already known to be a valid type id) nested
  // inside `depth` arrays.
  Status read_value(ValueType t, int depth, const Where& where, Value* out) {
    switch (t) {
      case ValueType::UINT8:
        return scalar<uint8_t>(Value::u8, where, out);
      case ValueType::INT8:
        return scalar<int8_t>(Value::i8, where, out);
      case ValueType::UINT16:
        return scalar<uint16_t>(Value::u16, where, out);
      case ValueType::INT16:
        return scalar<int16_t>(Value::i16, where, out);
      case ValueType::UINT32:
        return scalar<uint32_t>(Value::u32, where, out);
      case ValueType::INT32:
        return scalar<int32_t>(Value::i32, where, out);
      case ValueType::UINT64:
        return scalar<uint64_t>(Value::u64, where, out);
      case ValueType::INT64:
        return scalar<int64_t>(Value::i64, where, out);
      case ValueType::FLOAT32:
        return scalar<float>(Value::f32, where, out);
      case ValueType::FLOAT64:
        return scalar<double>(Value::f64, where, out);
      case ValueType::BOOL: {
        uint8_t b = 0;
        SF_RETURN_IF_ERROR(read(&b, where));
        // The spec calls any other byte invalid; accepting it would not round-trip.
        if (b > 1)
          return error(strf("%s is a BOOL with byte value %u (must be 0 or 1); the file is corrupt",
                            where().c_str(), b));
        *out = Value::boolean(b != 0);
        return {};
      }
      case ValueType::STRING: {
        std::string s;
        SF_RETURN_IF_ERROR(read_string(&s, where));
        *out = Value::str(std::move(s));
        return {};
      }
      case ValueType::ARRAY:
        return read_array(depth + 1, where, out);
    }
    return error(where() + " has an unknown value type");  // unreachable: checked by callers
  }

 private:
  template <class T, class Make>
  Status scalar(Make make, const Where& where, Value* out) {
    T x{};
    SF_RETURN_IF_ERROR(read(&x, where));
    *out = make(x);
    return {};
  }

  // `depth` is this array's nesting level (1 for an array at the top level).
  Status read_array(int depth, const Where& where, Value* out) {
    if (depth > kMaxArrayDepth)
      return error(strf("%s: arrays nested more than %d levels deep; the file is corrupt",
                        where().c_str(), kMaxArrayDepth));
    uint32_t raw = 0;
    SF_RETURN_IF_ERROR(read(&raw, [&] { return "the element type of " + where(); }));
    if (!detail::is_value_type(raw))
      return error(
          strf("%s is an array of unknown value type %u (known types are 0 to 12); the "
               "file is corrupt or from a newer GGUF version",
               where().c_str(), raw));
    auto elem = static_cast<ValueType>(raw);
    uint64_t count = 0;
    SF_RETURN_IF_ERROR(read(&count, [&] { return "the element count of " + where(); }));
    if (count > remaining() / min_encoded_size(elem))
      return error(
          strf("truncated: %s claims %llu %s elements but only %zu bytes remain after "
               "offset %zu; %s",
               where().c_str(), static_cast<ull>(count), value_type_name(elem), remaining(), pos_,
               kTruncatedHint));
    items_ += count;  // no overflow: count <= file size
    if (items_ > kMaxMetadataItems)
      return error(
          strf("%s: metadata arrays hold more than %llu elements in all; no real model "
               "needs that many, so the file is likely corrupt",
               where().c_str(), static_cast<ull>(kMaxMetadataItems)));
    Array arr;
    arr.elem_type = elem;
    arr.items.reserve(capped_reserve(count));
    for (uint64_t i = 0; i < count; ++i)
      SF_RETURN_IF_ERROR(read_value(elem, depth, Where{where.ctx, static_cast<int64_t>(i)},
                                    &arr.items.emplace_back()));
    out->type = ValueType::ARRAY;
    out->v = std::move(arr);
    return {};
  }

  const std::string& path_;
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  uint64_t items_ = 0;
};

// Explains a wrong magic, recognising the formats people most often mix up.
Status bad_magic(const Parser& p, const uint8_t* data, size_t n) {
  std::string_view got(reinterpret_cast<const char*>(data), n);
  const char* hint = "not a GGUF file";
  // Legacy llama.cpp formats store a u32 magic, so their bytes read reversed.
  if (got == "lmgg" || got == "fmgg" || got == "tjgg" || got == "algg")
    hint =
        "this is a legacy GGML/GGMF/GGJT file; convert it to GGUF with llama.cpp's "
        "convert_llama_ggml_to_gguf.py";
  else if (n == 4 && data[0] == '{')
    hint = "this looks like JSON, not a GGUF file";
  return p.error(
      strf("bad magic '%s' (expected 'GGUF'); %s", detail::escape(got, 4).c_str(), hint));
}

}  // namespace

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

GgufFile::~GgufFile() = default;

Result<std::shared_ptr<const GgufFile>> GgufFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped.ok()) return mapped.status();
  auto mapping = std::make_shared<MappedFile>(std::move(mapped).value());
  std::shared_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  f->base_ = mapping->data();
  f->size_ = mapping->size();
  f->mapped_ = mapping.get();
  f->mapping_ = std::move(mapping);
  SF_RETURN_IF_ERROR(f->parse());
  return std::shared_ptr<const GgufFile>(std::move(f));
}

void GgufFile::release_pages(const void* p, size_t n) const {
  if (mapped_) mapped_->release(p, n);
}

Result<std::shared_ptr<const GgufFile>> GgufFile::from_bytes(std::string bytes, std::string name) {
  std::shared_ptr<GgufFile> f(new GgufFile());
  f->path_ = std::move(name);
  f->owned_ = std::move(bytes);
  f->base_ = reinterpret_cast<const uint8_t*>(f->owned_.data());
  f->size_ = f->owned_.size();
  SF_RETURN_IF_ERROR(f->parse());
  return std::shared_ptr<const GgufFile>(std::move(f));
}

Status GgufFile::parse() {
  Parser p(path_, base_, size_);

  // Header: magic, version, tensor count, metadata count.
  size_t magic_n = std::min<size_t>(size_, 4);
  if (magic_n > 0 && std::memcmp(base_, detail::kMagic, magic_n) != 0)
    return bad_magic(p, base_, magic_n);
  if (size_ == 0) return p.error("the file is empty; not a GGUF file (or it was truncated)");
  char magic[4];
  SF_RETURN_IF_ERROR(p.read(&magic, [] { return std::string("the GGUF magic"); }));
  auto header = [] { return std::string("the header"); };
  SF_RETURN_IF_ERROR(p.read(&version_, header));
  if (version_ == 1)
    return p.error(
        "GGUF version 1 is not supported (it used 32-bit counts and lengths); re-convert the "
        "model with a current llama.cpp");
  if (uint32_t swapped = __builtin_bswap32(version_); swapped >= 1 && swapped <= 3)
    return p.error(
        strf("this is a big-endian GGUF file (version %u byte-swapped); Starfire reads "
             "little-endian GGUF only",
             swapped));
  if (version_ != 2 && version_ != 3)
    return p.error(strf("unsupported GGUF version %u (Starfire reads versions 2 and 3)", version_));
  uint64_t n_tensors = 0, n_kv = 0;
  SF_RETURN_IF_ERROR(p.read(&n_tensors, header));
  SF_RETURN_IF_ERROR(p.read(&n_kv, header));

  // Metadata. An entry takes at least 13 bytes (key length, type, one-byte value).
  if (n_kv > p.remaining() / 13)
    return p.error(
        strf("truncated: the header claims %llu metadata entries but only %zu bytes "
             "follow; %s",
             static_cast<ull>(n_kv), p.remaining(), kTruncatedHint));
  if (n_kv > kMaxEntries)
    return p.error(
        strf("the header claims %llu metadata entries; more than %llu is not plausible, "
             "so the file is corrupt",
             static_cast<ull>(n_kv), static_cast<ull>(kMaxEntries)));
  kv_.reserve(capped_reserve(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    SF_RETURN_IF_ERROR(p.read_string(
        &key, [&] { return strf("the key of metadata entry %llu", static_cast<ull>(i)); }));
    std::string ctx = "metadata " + quoted(key);
    uint32_t raw = 0;
    SF_RETURN_IF_ERROR(p.read(&raw, [&] { return "the value type of " + ctx; }));
    if (!detail::is_value_type(raw))
      return p.error(
          strf("%s has unknown value type %u (known types are 0 to 12); the file is "
               "corrupt or from a newer GGUF version",
               ctx.c_str(), raw));
    Value v;
    SF_RETURN_IF_ERROR(p.read_value(static_cast<ValueType>(raw), 0, Where{ctx}, &v));
    auto [it, inserted] = kv_index_.emplace(key, kv_.size());
    if (!inserted)
      return p.error(strf("duplicate metadata key %s (entries %zu and %llu); the file is corrupt",
                          quoted(key).c_str(), it->second, static_cast<ull>(i)));
    kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const Value* a = find(detail::kAlignmentKey)) {
    if (a->type != ValueType::UINT32)
      return p.error(strf("general.alignment must be a UINT32, but it is a %s; the file is corrupt",
                          value_type_name(a->type)));
    uint64_t al = std::get<uint64_t>(a->v);
    if (al == 0 || (al & (al - 1)) != 0)
      return p.error(strf("general.alignment is %llu; it must be a nonzero power of two",
                          static_cast<ull>(al)));
    alignment_ = static_cast<size_t>(al);
  }

  // Tensor infos. One takes at least 32 bytes (name length, n_dims, one dim,
  // type, offset).
  if (n_tensors > p.remaining() / 32)
    return p.error(
        strf("truncated: the header claims %llu tensors but only %zu bytes of tensor "
             "info follow; %s",
             static_cast<ull>(n_tensors), p.remaining(), kTruncatedHint));
  if (n_tensors > kMaxEntries)
    return p.error(
        strf("the header claims %llu tensors; more than %llu is not plausible, so the "
             "file is corrupt",
             static_cast<ull>(n_tensors), static_cast<ull>(kMaxEntries)));
  tensors_.reserve(capped_reserve(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    SF_RETURN_IF_ERROR(p.read_string(
        &t.name, [&] { return strf("the name of tensor %llu", static_cast<ull>(i)); }));
    std::string tn = "tensor " + quoted(t.name);
    auto info = [&] { return "the info of " + tn; };
    uint32_t n_dims = 0;
    SF_RETURN_IF_ERROR(p.read(&n_dims, info));
    if (n_dims == 0 || n_dims > detail::kMaxDims)
      return p.error(strf("%s has %u dimensions; GGUF allows 1 to %d; the file is corrupt",
                          tn.c_str(), n_dims, detail::kMaxDims));
    t.dims.resize(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t x = 0;
      SF_RETURN_IF_ERROR(p.read(&x, info));
      // Sizes are int64 in ggml, so a value past INT64_MAX reads as negative.
      if (x == 0 || x > static_cast<uint64_t>(INT64_MAX))
        return p.error(
            strf("%s dimension %u is %lld; every dimension must be at least 1; the file "
                 "is corrupt",
                 tn.c_str(), d, static_cast<long long>(x)));
      t.dims[d] = static_cast<int64_t>(x);
    }
    uint32_t raw_type = 0;
    SF_RETURN_IF_ERROR(p.read(&raw_type, info));
    SF_RETURN_IF_ERROR(p.read(&t.offset, info));

    auto tt = type_traits(raw_type);
    if (!tt)
      return p.error(
          strf("%s has unknown tensor type id %u; the file is corrupt or needs a newer "
               "Starfire",
               tn.c_str(), raw_type));
    t.type = tt->type;
    int64_t n = 1;
    for (int64_t d : t.dims)
      if (__builtin_mul_overflow(n, d, &n))
        return p.error(
            strf("%s has dims %s whose element count overflows 64 bits; the file is "
                 "corrupt",
                 tn.c_str(), detail::dims_text(t.dims).c_str()));
    if (t.dims[0] % tt->block_size != 0)
      return p.error(
          strf("%s of type %s has rows of %lld elements, not a multiple of the type's "
               "block size %lld; the file is corrupt",
               tn.c_str(), tt->name, static_cast<long long>(t.dims[0]),
               static_cast<long long>(tt->block_size)));
    size_t blocks = static_cast<size_t>(n / tt->block_size);
    if (__builtin_mul_overflow(blocks, tt->block_bytes, &t.n_bytes))
      return p.error(strf("%s has dims %s whose byte size overflows 64 bits; the file is corrupt",
                          tn.c_str(), detail::dims_text(t.dims).c_str()));
    if (t.offset % alignment_ != 0)
      return p.error(
          strf("%s data offset %llu is not a multiple of the alignment %zu; the file is "
               "corrupt",
               tn.c_str(), static_cast<ull>(t.offset), alignment_));
    auto [it, inserted] = tensor_index_.emplace(t.name, tensors_.size());
    if (!inserted)
      return p.error(strf("duplicate tensor name %s (tensors %zu and %llu); the file is corrupt",
                          quoted(t.name).c_str(), it->second, static_cast<ull>(i)));
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment. A file with
  // no tensors may end before it (llama.cpp's vocab-only files are not padded).
  data_offset_ = (p.pos() + alignment_ - 1) / alignment_ * alignment_;
  size_t avail = data_offset_ < size_ ? size_ - data_offset_ : 0;
  for (const TensorInfo& t : tensors_) {
    if (t.offset <= avail && t.n_bytes <= avail - t.offset) continue;
    std::string where = t.offset <= UINT64_MAX - data_offset_
                            ? strf("offset %llu", static_cast<ull>(data_offset_ + t.offset))
                            : strf("data-section offset %llu", static_cast<ull>(t.offset));
    return p.error(
        strf("tensor %s data [%s, %zu bytes] extends past the end of the file (%zu "
             "bytes); %s",
             quoted(t.name).c_str(), where.c_str(), t.n_bytes, size_, kTruncatedHint));
  }

  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const TensorInfo& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const TensorInfo& a = *by_offset[k - 1];
    const TensorInfo& b = *by_offset[k];
    if (a.offset + a.n_bytes > b.offset)  // no overflow: both lie inside the file
      return p.error(
          strf("tensors %s [offset %llu, %zu bytes] and %s [offset %llu, %zu bytes] "
               "overlap; the file is corrupt",
               quoted(a.name).c_str(), static_cast<ull>(data_offset_ + a.offset), a.n_bytes,
               quoted(b.name).c_str(), static_cast<ull>(data_offset_ + b.offset), b.n_bytes));
  }
  for (TensorInfo& t : tensors_) t.data = base_ + data_offset_ + t.offset;
  return {};
}

const Value* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_int() : std::nullopt;
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_float() : std::nullopt;
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_bool() : std::nullopt;
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const Value* v = find(key);
  const std::string* s = v ? v->as_string() : nullptr;
  return s ? std::optional<std::string>(*s) : std::nullopt;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace sf::gguf
