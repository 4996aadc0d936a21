// safetensors reading: header validation and the sharded-folder index.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/fp16.h"
#include "formats/mapped_file.h"
#include "formats/safetensors.h"

namespace sf::st {
namespace {

using nlohmann::json;

struct DtypeInfo {
  const char* name;
  size_t bytes;
  std::optional<DType> type;
};

// Every dtype the format defines; only the float ones map to a DType we compute with.
const DtypeInfo* find_dtype(const std::string& s) {
  static const DtypeInfo kTypes[] = {
      {"F32", 4, DType::F32},    {"F16", 2, DType::F16},       {"BF16", 2, DType::BF16},
      {"F64", 8, std::nullopt},  {"I64", 8, std::nullopt},     {"U64", 8, std::nullopt},
      {"I32", 4, std::nullopt},  {"U32", 4, std::nullopt},     {"I16", 2, std::nullopt},
      {"U16", 2, std::nullopt},  {"I8", 1, std::nullopt},      {"U8", 1, std::nullopt},
      {"BOOL", 1, std::nullopt}, {"F8_E4M3", 1, std::nullopt}, {"F8_E5M2", 1, std::nullopt},
  };
  for (const auto& t : kTypes)
    if (s == t.name) return &t;
  return nullptr;
}

// Reads a non-negative integer that fits in int64 (JSON may hold floats, negatives, huge values).
bool get_u64(const json& j, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

}  // namespace

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

float TensorInfo::element_f32(int64_t i) const {
  if (*type == DType::F32) {
    float x;
    std::memcpy(&x, data + 4 * i, 4);
    return x;
  }
  uint16_t h;
  std::memcpy(&h, data + 2 * i, 2);
  return *type == DType::F16 ? fp16_to_f32(h) : bf16_to_f32(h);
}

std::vector<float> TensorInfo::to_f32() const {
  const int64_t n = n_elements();
  std::vector<float> v(static_cast<size_t>(n));
  if (*type == DType::F32) {
    std::memcpy(v.data(), data, n * sizeof(float));
    return v;
  }
  for (int64_t i = 0; i < n; ++i) v[i] = element_f32(i);
  return v;
}

SafetensorsFile::~SafetensorsFile() = default;

Result<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped.ok()) return mapped.status();
  auto mapping = std::make_shared<MappedFile>(std::move(mapped).value());
  auto f = std::shared_ptr<SafetensorsFile>(new SafetensorsFile());
  f->path_ = path;
  f->base_ = mapping->data();
  f->size_ = mapping->size();
  f->mapping_ = std::move(mapping);
  SF_RETURN_IF_ERROR(f->parse());
  return std::shared_ptr<const SafetensorsFile>(std::move(f));
}

Result<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::from_bytes(std::string bytes,
                                                                           std::string name) {
  auto f = std::shared_ptr<SafetensorsFile>(new SafetensorsFile());
  f->path_ = std::move(name);
  f->owned_ = std::move(bytes);
  f->base_ = reinterpret_cast<const uint8_t*>(f->owned_.data());
  f->size_ = f->owned_.size();
  SF_RETURN_IF_ERROR(f->parse());
  return std::shared_ptr<const SafetensorsFile>(std::move(f));
}

Status SafetensorsFile::parse() {
  const char* p = path_.c_str();
  if (size_ < 8)
    return errorf(
        "%s: %zu bytes is too short for a safetensors file (needs an 8-byte header "
        "length)",
        p, size_);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | base_[i];
  if (n > kMaxHeaderBytes)
    return errorf("%s: header length %llu is absurd (limit %llu); not a safetensors file?", p,
                  static_cast<unsigned long long>(n),
                  static_cast<unsigned long long>(kMaxHeaderBytes));
  if (n > size_ - 8)
    return errorf("%s: header length %llu runs past the end of the %zu-byte file (truncated?)", p,
                  static_cast<unsigned long long>(n), size_);
  if (n < 2 || base_[8] != '{')
    return errorf("%s: the header is not a JSON object (it must start with '{')", p);
  const char* hdr = reinterpret_cast<const char*>(base_ + 8);
  json j = json::parse(hdr, hdr + n, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return errorf("%s: the header is not valid JSON", p);
  if (!j.is_object()) return errorf("%s: the header is not a JSON object", p);

  const uint8_t* data = base_ + 8 + n;
  const uint64_t data_size = size_ - 8 - n;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return errorf("%s: __metadata__ must be an object of strings", p);
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          return errorf("%s: __metadata__ key '%s' is not a string", p, m.key().c_str());
        meta_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const char* t = name.c_str();
    if (!v.is_object()) return errorf("%s: entry for tensor '%s' is not an object", p, t);
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string())
      return errorf("%s: tensor '%s' has no string 'dtype'", p, t);
    const DtypeInfo* info = find_dtype(dt->get<std::string>());
    if (!info)
      return errorf("%s: tensor '%s' has unknown dtype '%s'", p, t, dt->get<std::string>().c_str());
    TensorInfo ti;
    ti.name = name;
    ti.dtype = info->name;
    ti.type = info->type;
    ti.elem_bytes = info->bytes;
    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array())
      return errorf("%s: tensor '%s' has no 'shape' array", p, t);
    if (sh->size() > 8)
      return errorf("%s: tensor '%s' has %zu dimensions (limit 8)", p, t, sh->size());
    // Element count with overflow checks: a hostile shape must not wrap around
    // to match a small byte range.
    uint64_t count = 1;
    for (const json& d : *sh) {
      uint64_t x = 0;
      if (!get_u64(d, x) || x > (uint64_t{1} << 40))
        return errorf("%s: tensor '%s' has an invalid dimension %s", p, t, d.dump().c_str());
      if (x != 0 && count > std::numeric_limits<uint64_t>::max() / x / info->bytes)
        return errorf("%s: tensor '%s' has a shape whose size overflows", p, t);
      count *= x;
      ti.shape.push_back(static_cast<int64_t>(x));
    }
    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !get_u64((*off)[0], ti.begin) ||
        !get_u64((*off)[1], ti.end))
      return errorf("%s: tensor '%s' needs 'data_offsets': [begin, end] (non-negative integers)", p,
                    t);
    if (ti.begin > ti.end || ti.end > data_size)
      return errorf(
          "%s: tensor '%s' has data_offsets [%llu, %llu] outside the %llu-byte data "
          "section",
          p, t, static_cast<unsigned long long>(ti.begin), static_cast<unsigned long long>(ti.end),
          static_cast<unsigned long long>(data_size));
    if (ti.end - ti.begin != count * info->bytes)
      return errorf(
          "%s: tensor '%s' is %s with %llu elements (%llu bytes) but data_offsets span "
          "%llu bytes",
          p, t, info->name, static_cast<unsigned long long>(count),
          static_cast<unsigned long long>(count * info->bytes),
          static_cast<unsigned long long>(ti.end - ti.begin));
    ti.data = data + ti.begin;
    tensors_.push_back(std::move(ti));
  }
  std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < tensors_.size(); ++i)
    if (tensors_[i].begin < tensors_[i - 1].end)
      return errorf("%s: tensors '%s' and '%s' overlap in the data section", p,
                    tensors_[i - 1].name.c_str(), tensors_[i].name.c_str());
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
  return {};
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<SafetensorsSet> SafetensorsSet::open(const std::string& path) {
  namespace fs = std::filesystem;
  SafetensorsSet set;
  set.path_ = path;
  std::error_code ec;
  std::vector<std::string> shard_paths;
  if (!fs::is_directory(path, ec)) {
    shard_paths.push_back(path);
  } else {
    const fs::path dir(path);
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(index, ec)) {
      std::ifstream in(index, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      json j = json::parse(ss.str(), nullptr, false);
      if (j.is_discarded() || !j.is_object())
        return errorf("%s: not valid JSON", index.string().c_str());
      auto wm = j.find("weight_map");
      if (wm == j.end() || !wm->is_object())
        return errorf("%s: missing 'weight_map' object", index.string().c_str());
      std::set<std::string> seen;
      std::map<std::string, std::string> wanted;  // tensor -> shard
      for (auto it = wm->begin(); it != wm->end(); ++it) {
        if (!it.value().is_string())
          return errorf("%s: weight_map entry '%s' is not a file name", index.string().c_str(),
                        it.key().c_str());
        const std::string shard = it.value().get<std::string>();
        // Shards live beside the index: a name with a path could reach any file.
        if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
          return errorf("%s: weight_map names shard '%s', which is not a plain file name",
                        index.string().c_str(), shard.c_str());
        wanted[it.key()] = shard;
        if (seen.insert(shard).second) shard_paths.push_back((dir / shard).string());
      }
      std::sort(shard_paths.begin(), shard_paths.end());
      for (const std::string& sp : shard_paths) {
        SF_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open(sp));
        set.files_.push_back(std::move(f));
      }
      for (const auto& f : set.files_)
        for (const TensorInfo& t : f->tensors()) {
          if (set.index_.count(t.name))
            return errorf("%s: tensor '%s' appears in more than one shard", path.c_str(),
                          t.name.c_str());
          set.index_[t.name] = &t;
        }
      for (const auto& [name, shard] : wanted)
        if (!set.index_.count(name))
          return errorf("%s: weight_map puts tensor '%s' in '%s', which does not hold it",
                        index.string().c_str(), name.c_str(), shard.c_str());
      return set;
    }
    const fs::path single = dir / "model.safetensors";
    if (!fs::exists(single, ec))
      return errorf("%s: no model.safetensors or model.safetensors.index.json in this folder",
                    path.c_str());
    shard_paths.push_back(single.string());
  }
  SF_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open(shard_paths[0]));
  set.files_.push_back(std::move(f));
  for (const TensorInfo& t : set.files_[0]->tensors()) set.index_[t.name] = &t;
  return set;
}

const TensorInfo* SafetensorsSet::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::vector<const TensorInfo*> SafetensorsSet::tensors() const {
  std::vector<const TensorInfo*> out;
  for (const auto& f : files_)
    for (const TensorInfo& t : f->tensors()) out.push_back(&t);
  return out;
}

}  // namespace sf::st
