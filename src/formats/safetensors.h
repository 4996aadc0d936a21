// safetensors reader and writer (Hugging Face's weight format).
//
// A file is: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [b, e]},
//  "__metadata__": {"k": "v"}}, then the data section; offsets are relative to
// it. Shapes are row-major with the outermost dimension first (HF order), so a
// Linear weight [out, in] has rows of `in` contiguous elements: GGUF's layout.
//
// The reader memory-maps the file and validates every entry before handing out
// views: header length beyond the file or absurd, invalid JSON, unknown dtype,
// offsets out of range or overlapping, shape/dtype size mismatch all give a
// Status naming the file and the tensor. A sharded model is a folder with
// model.safetensors.index.json ({"weight_map": {tensor: shard file}}).
// Thread-safety: immutable after open(), safe to share. Views live as long as
// the SafetensorsFile / SafetensorsSet that produced them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace sf::st {

// Largest header we accept (the reference implementation's limit).
inline constexpr uint64_t kMaxHeaderBytes = 100u << 20;

struct TensorInfo {
  std::string name;
  std::string dtype;            // as written ("F32", "BF16", "I64" ...)
  std::optional<DType> type;    // F32 / F16 / BF16; nullopt for dtypes we cannot compute with
  size_t elem_bytes = 0;        // bytes per element of `dtype`
  std::vector<int64_t> shape;   // HF order: shape.back() is contiguous
  uint64_t begin = 0, end = 0;  // data_offsets, relative to the data section
  const uint8_t* data = nullptr;
  size_t n_bytes() const { return static_cast<size_t>(end - begin); }
  int64_t n_elements() const;
  // Element i, or every element, of an F32/F16/BF16 tensor as f32 (callers
  // check `type` first: other dtypes are not float data).
  float element_f32(int64_t i) const;
  std::vector<float> to_f32() const;
};

class SafetensorsFile {
 public:
  static Result<std::shared_ptr<const SafetensorsFile>> open(const std::string& path);
  // Parses bytes in memory (copied; tests and fuzzing).
  static Result<std::shared_ptr<const SafetensorsFile>> from_bytes(std::string bytes,
                                                                   std::string name = "<memory>");
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  size_t file_size() const { return size_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // sorted by offset
  const TensorInfo* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return meta_; }

 private:
  SafetensorsFile() = default;
  Status parse();

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  std::shared_ptr<const void> mapping_;
  std::string owned_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> meta_;
};

// All weights of a model: one file, or a folder holding model.safetensors or
// a sharded set named by model.safetensors.index.json.
class SafetensorsSet {
 public:
  // `path` is a .safetensors file or a folder.
  static Result<SafetensorsSet> open(const std::string& path);

  const TensorInfo* find(std::string_view name) const;
  // Every tensor of every shard, shard by shard.
  std::vector<const TensorInfo*> tensors() const;
  const std::vector<std::shared_ptr<const SafetensorsFile>>& files() const { return files_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  std::map<std::string, const TensorInfo*, std::less<>> index_;
};

// Writes safetensors files. Tensors are laid out largest element size first
// (then in insertion order) so every tensor is aligned to its element size;
// the header is padded with spaces to a multiple of 8, as the reference does.
class SafetensorsWriter {
 public:
  void set_metadata(std::string key, std::string value) {
    meta_[std::move(key)] = std::move(value);
  }
  // F32/F16/BF16 only. `shape` is HF order; n_bytes must match it.
  Status add_tensor(std::string name, DType type, std::vector<int64_t> shape, const void* data,
                    size_t n_bytes);
  std::string to_bytes() const;
  Status write(const std::string& path) const;  // atomic: path.tmp then rename
  // Writes `dir`/model-0000i-of-0000n.safetensors shards of at most
  // max_shard_bytes of tensor data each (a larger tensor gets a shard of its
  // own) and model.safetensors.index.json.
  Status write_sharded(const std::string& dir, size_t max_shard_bytes) const;
  size_t size() const { return tensors_.size(); }

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    std::string bytes;
  };
  static std::string serialize(const std::vector<const Tensor*>& tensors,
                               const std::map<std::string, std::string>& meta);
  std::vector<Tensor> tensors_;
  std::map<std::string, std::string> meta_;
};

const char* dtype_name(DType t);  // "F32", "F16", "BF16" (others: nullptr)

}  // namespace sf::st
