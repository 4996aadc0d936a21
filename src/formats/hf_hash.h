// The checksums a Hugging Face-style hub names files by: SHA-256 for LFS
// files (the ETag / X-Linked-Etag of large files) and the git blob SHA-1
// ("blob <size>\0" + content) for small files kept in git. Incremental, so a
// download is hashed as it streams (and a resumed one re-reads its partial
// file first). Plain portable implementations (FIPS 180-4); not constant-time,
// which checksums do not need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sf::hf {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  std::string hex();  // finishes; the object is spent afterwards

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t len_ = 0;
  uint64_t total_ = 0;
};

class Sha1 {
 public:
  Sha1();
  void update(const void* data, size_t n);
  std::string hex();

 private:
  void block(const uint8_t* p);
  uint32_t h_[5];
  uint8_t buf_[64];
  size_t len_ = 0;
  uint64_t total_ = 0;
};

// Git's object id of a blob of `size` bytes: feed the header, then the bytes.
std::string git_blob_header(uint64_t size);

}  // namespace sf::hf
