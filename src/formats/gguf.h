// GGUF (v2, v3) reader and writer.
//
// The reader memory-maps the file and validates everything before handing out
// views: a hostile or truncated file gives a Status naming the file and the
// problem, never a crash. Tensor data stays in the mapping (weights are
// immutable and shared); GgufFile must outlive every view into it.
// Thread-safety: a GgufFile is immutable after open(), safe to share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace sf {
class MappedFile;
}  // namespace sf

namespace sf::gguf {

enum class ValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
const char* value_type_name(ValueType t);

struct Value;
struct Array {
  ValueType elem_type = ValueType::UINT8;
  std::vector<Value> items;
};

// One metadata value, keeping its GGUF type so a file round-trips exactly.
struct Value {
  ValueType type = ValueType::UINT8;
  // Integers (signed or unsigned) and bools in `u`/`i`, floats in `f`.
  std::variant<uint64_t, int64_t, double, std::string, Array> v;

  static Value u8(uint8_t x), i8(int8_t x), u16(uint16_t x), i16(int16_t x), u32(uint32_t x),
      i32(int32_t x), u64(uint64_t x), i64(int64_t x), f32(float x), f64(double x), boolean(bool x),
      str(std::string s);
  static Value array(ValueType elem, std::vector<Value> items);
  static Value str_array(const std::vector<std::string>& items);
  static Value f32_array(const std::vector<float>& items);
  static Value i32_array(const std::vector<int32_t>& items);

  // Typed access with conversion among numeric types; nullopt if not numeric.
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;
  const Array* as_array() const;
  // For `starfire info`: arrays longer than max_items show their first items and
  // the count (`[1, 2, ... (151936 items)]`); strings are quoted, escaped and
  // cut after 120 bytes.
  std::string to_display(size_t max_items = 8) const;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ggml order: dims[0] is the row length (contiguous)
  DType type = DType::F32;
  uint64_t offset = 0;  // relative to the data section
  size_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping (nullptr for writer-only use)
  int64_t n_elements() const;
  int64_t n_rows() const { return dims.empty() ? 1 : n_elements() / dims[0]; }
};

class GgufFile {
 public:
  // Maps and validates a file. Errors name the path and the problem.
  static Result<std::shared_ptr<const GgufFile>> open(const std::string& path);
  // Parses bytes already in memory (copied; used by fuzzing and tests). Unlike
  // a mapping, the copy is only as aligned as the heap allocation.
  static Result<std::shared_ptr<const GgufFile>> from_bytes(std::string bytes,
                                                            std::string name = "<memory>");
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t file_size() const { return size_; }
  // Start of the data section; past file_size() in files without tensors that
  // lack the trailing padding (llama.cpp's vocab-only files).
  size_t data_offset() const { return data_offset_; }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;
  // Convenience getters: nullopt when the key is absent or of the wrong kind.
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

  // For tensor data copied elsewhere (packed weights): drops the whole pages
  // of [p, p + n) from resident memory when the file is memory-mapped (see
  // MappedFile::release; they stay readable). No-op for from_bytes().
  void release_pages(const void* p, size_t n) const;

 private:
  GgufFile() = default;
  Status parse();

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  // Keeps the file's mapping alive (open() only).
  std::shared_ptr<const void> mapping_;
  const MappedFile* mapped_ = nullptr;  // the same mapping, typed (open() only)
  std::string owned_;                   // backing bytes for from_bytes()
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Writes GGUF v3 files: metadata in insertion order, tensors aligned to
// `general.alignment` (default 32). Used by tests, conversion and training export.
class GgufWriter {
 public:
  void set(std::string key, Value value);  // replaces an existing key
  // Copies `data` (n_bytes must equal the size implied by type and dims).
  Status add_tensor(std::string name, DType type, std::vector<int64_t> dims, const void* data,
                    size_t n_bytes);
  Status write(const std::string& path) const;  // atomic: writes path.tmp then renames
  std::string to_bytes() const;

 private:
  std::vector<std::pair<std::string, Value>> kv_;
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> dims;
    std::string bytes;
  };
  std::vector<Tensor> tensors_;
};

}  // namespace sf::gguf
