// safetensors writing: single files and sharded folders with an index.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/safetensors.h"

namespace sf::st {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "F32";
    case DType::F16:
      return "F16";
    case DType::BF16:
      return "BF16";
    default:
      return nullptr;
  }
}

namespace {

Status write_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return errorf("%s: cannot create file", tmp.c_str());
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) return errorf("%s: write failed (disk full?)", tmp.c_str());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return errorf("%s: cannot rename into place: %s", path.c_str(), ec.message().c_str());
  return {};
}

size_t elem_bytes(DType t) {
  return t == DType::F32 ? 4 : 2;
}

}  // namespace

Status SafetensorsWriter::add_tensor(std::string name, DType type, std::vector<int64_t> shape,
                                     const void* data, size_t n_bytes) {
  if (!dtype_name(type))
    return errorf("safetensors: tensor '%s' has type %s; only F32, F16 and BF16 are written",
                  name.c_str(), type_name(type));
  if (name.empty() || name == "__metadata__")
    return errorf("safetensors: invalid tensor name '%s'", name.c_str());
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return errorf("safetensors: tensor '%s' has a negative dimension", name.c_str());
    n *= d;
  }
  if (static_cast<size_t>(n) * elem_bytes(type) != n_bytes)
    return errorf("safetensors: tensor '%s' has %lld elements of %s but %zu bytes were given",
                  name.c_str(), static_cast<long long>(n), dtype_name(type), n_bytes);
  for (const Tensor& t : tensors_)
    if (t.name == name) return errorf("safetensors: duplicate tensor '%s'", name.c_str());
  tensors_.push_back(
      {std::move(name), type, std::move(shape),
       std::string(static_cast<const char*>(data), static_cast<const char*>(data) + n_bytes)});
  return {};
}

std::string SafetensorsWriter::serialize(const std::vector<const Tensor*>& tensors_in,
                                         const std::map<std::string, std::string>& meta) {
  std::vector<const Tensor*> tensors = tensors_in;
  std::stable_sort(tensors.begin(), tensors.end(), [](const Tensor* a, const Tensor* b) {
    return elem_bytes(a->type) > elem_bytes(b->type);
  });
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!meta.empty()) h["__metadata__"] = meta;
  uint64_t off = 0;
  for (const Tensor* t : tensors) {
    h[t->name] = {{"dtype", dtype_name(t->type)},
                  {"shape", t->shape},
                  {"data_offsets", {off, off + t->bytes.size()}}};
    off += t->bytes.size();
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  out += header;
  out.reserve(out.size() + off);
  for (const Tensor* t : tensors) out += t->bytes;
  return out;
}

std::string SafetensorsWriter::to_bytes() const {
  std::vector<const Tensor*> all;
  for (const Tensor& t : tensors_) all.push_back(&t);
  return serialize(all, meta_);
}

Status SafetensorsWriter::write(const std::string& path) const {
  return write_atomic(path, to_bytes());
}

Status SafetensorsWriter::write_sharded(const std::string& dir, size_t max_shard_bytes) const {
  std::vector<std::vector<const Tensor*>> shards(1);
  size_t cur = 0;
  for (const Tensor& t : tensors_) {
    if (!shards.back().empty() && cur + t.bytes.size() > max_shard_bytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(&t);
    cur += t.bytes.size();
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  nlohmann::ordered_json index;
  size_t total = 0;
  for (const Tensor& t : tensors_) total += t.bytes.size();
  index["metadata"] = {{"total_size", total}};
  index["weight_map"] = nlohmann::ordered_json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    SF_RETURN_IF_ERROR(write_atomic(dir + "/" + name, serialize(shards[i], meta_)));
    for (const Tensor* t : shards[i]) index["weight_map"][t->name] = name;
  }
  return write_atomic(dir + "/model.safetensors.index.json", index.dump(2));
}

}  // namespace sf::st
