// libFuzzer target for the safetensors header parser. Any bytes must give
// either a SafetensorsFile or an error Status naming the file: never a crash,
// an out-of-bounds view, a hang or a huge allocation. Accepted files are
// written back with SafetensorsWriter (float tensors) and must read back with
// the same tensors.
//
// Run: fuzz_safetensors -max_total_time=300 fuzz/corpus/safetensors
#include <cstdint>
#include <cstring>
#include <string>

#include "formats/safetensors.h"

namespace {
volatile size_t g_sink;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sf::st::SafetensorsFile;
  auto r = SafetensorsFile::from_bytes(std::string(reinterpret_cast<const char*>(data), size),
                                       "fuzz.safetensors");
  if (!r.ok()) {
    if (r.status().message().rfind("fuzz.safetensors: ", 0) != 0) __builtin_trap();
    return 0;
  }
  const SafetensorsFile& f = **r;
  size_t sink = 0;
  sf::st::SafetensorsWriter w;
  for (const auto& t : f.tensors()) {
    if (t.n_bytes() > 0) sink += t.data[0] + t.data[t.n_bytes() - 1];
    if (f.find(t.name) != &t) __builtin_trap();
    if (t.type && !w.add_tensor(t.name, *t.type, t.shape, t.data, t.n_bytes()).ok())
      __builtin_trap();
  }
  g_sink = sink;
  auto again = SafetensorsFile::from_bytes(w.to_bytes(), "again");
  if (!again.ok()) __builtin_trap();
  for (const auto& t : (*again)->tensors()) {
    const auto* orig = f.find(t.name);
    if (!orig || orig->shape != t.shape || std::memcmp(orig->data, t.data, t.n_bytes()) != 0)
      __builtin_trap();
  }
  return 0;
}
