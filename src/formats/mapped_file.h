// A read-only memory mapping of a whole file.
//
// Weights stay in the page cache and are shared by every process that maps the
// same file; nothing is copied. The mapping is private and read-only, so a
// stray write through a pointer into it faults instead of changing the file.
// Caveat: if another process truncates the file while it is mapped, touching
// the vanished pages raises SIGBUS; model files are expected not to change.
// Move-only; unmaps on destruction. Thread-safety: immutable, safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace sf {

class MappedFile {
 public:
  // Maps `path` (a regular file). An empty file gives an empty mapping
  // (data() == nullptr, size() == 0) rather than an error: the caller's parser
  // reports what is missing. Errors name the path and the system's reason.
  static Result<MappedFile> open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  size_t size() const { return size_; }

  // Drops the whole pages inside [p, p + n) (a range of this mapping) from the
  // process's resident memory (madvise MADV_DONTNEED), for data that has been
  // copied elsewhere. The bytes stay readable: a later touch reads them back
  // from the file. Partial pages at either end are kept.
  void release(const void* p, size_t n) const;

 private:
  void reset();

  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace sf
