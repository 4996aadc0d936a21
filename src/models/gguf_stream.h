// Writes a GGUF file tensor by tensor, so converting or quantizing a model
// never holds the whole output in memory (gguf::GgufWriter copies every
// tensor first). Metadata and each tensor's name, type and shape are declared
// up front, which fixes every offset; then the data is written in declaration
// order, and finish() syncs and renames path.tmp into place. The bytes are
// exactly what GgufWriter writes for the same content (tested).
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "formats/gguf.h"

namespace sf {

class GgufStreamWriter {
 public:
  GgufStreamWriter() = default;
  ~GgufStreamWriter();
  GgufStreamWriter(const GgufStreamWriter&) = delete;
  GgufStreamWriter& operator=(const GgufStreamWriter&) = delete;

  void set(std::string key, gguf::Value value);                             // before open()
  Status declare(std::string name, DType type, std::vector<int64_t> dims);  // before open()
  Status open(const std::string& path);                 // writes the header to path.tmp
  Status write_next(const void* data, size_t n_bytes);  // the next declared tensor's data
  Status finish();                                      // all tensors written: sync, rename
  size_t bytes_of(size_t i) const { return tensors_[i].bytes; }

 private:
  struct Decl {
    std::string name;
    DType type;
    std::vector<int64_t> dims;
    size_t bytes;
  };
  std::vector<std::pair<std::string, gguf::Value>> kv_;
  std::vector<Decl> tensors_;
  size_t alignment_ = 32, next_ = 0;
  std::string path_, tmp_;
  FILE* f_ = nullptr;
};

}  // namespace sf
