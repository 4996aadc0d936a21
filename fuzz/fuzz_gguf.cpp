// libFuzzer target for the GGUF reader. Any bytes must give either a GgufFile
// or an error Status: never a crash, an out-of-bounds read, a hang or a huge
// allocation. Accepted files are also written back with GgufWriter and read
// again, so the reader and writer must agree on everything the reader accepts.
//
// Run: fuzz_gguf -max_total_time=300 fuzz/corpus/gguf   (seeds: tiny valid files)
#include <cstdint>
#include <cstring>
#include <string>

#include "formats/gguf.h"

namespace {

volatile size_t g_sink;  // keeps the reads below from being optimised away

std::string rewrite(const sf::gguf::GgufFile& f) {
  sf::gguf::GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const sf::gguf::TensorInfo& t : f.tensors())
    if (!w.add_tensor(t.name, t.type, t.dims, t.data, t.n_bytes).ok())
      __builtin_trap();  // the writer refused a tensor the reader accepted
  return w.to_bytes();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sf::gguf::GgufFile;
  auto r =
      GgufFile::from_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.gguf");
  if (!r.ok()) {
    if (r.status().message().rfind("fuzz.gguf: ", 0) != 0) __builtin_trap();  // must name the file
    return 0;
  }
  const GgufFile& f = **r;

  // Touch everything the reader hands out; ASan flags any view past the input.
  size_t sink = 0;
  for (const auto& [k, v] : f.metadata()) {
    sink += k.size() + v.to_display().size();
    if (f.find(k) != &v) __builtin_trap();
  }
  for (const sf::gguf::TensorInfo& t : f.tensors()) {
    sink += t.data[0] + t.data[t.n_bytes - 1] + static_cast<size_t>(t.n_rows());
    if (f.find_tensor(t.name) != &t) __builtin_trap();
  }
  g_sink = sink;

  // write(read(x)) must read back and write out identically. A huge (valid)
  // general.alignment makes the writer pad to it, legitimately writing up to
  // 2 GiB, so those inputs skip the round trip.
  if (f.alignment() > (size_t{1} << 16)) return 0;
  std::string once = rewrite(f);
  auto again = GgufFile::from_bytes(once, "again.gguf");
  if (!again.ok()) __builtin_trap();
  if (rewrite(**again) != once) __builtin_trap();
  return 0;
}
