// Files the trainer and the engine read from users: token shards
// (train/shard.h) and GGUF LoRA adapters (models/lora_adapter.h). The first
// input byte picks the reader; the rest is the file. Any input must give a
// value or an error, never a crash, and an opened shard's ids must all read.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "models/lora_adapter.h"
#include "train/shard.h"

namespace {

std::string scratch_path() {
  static const std::string p = "/tmp/fuzz_train_files_" + std::to_string(getpid()) + ".bin";
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data + 1, 1, size - 1, f);
  std::fclose(f);
  if (data[0] & 1) {
    auto shard = sf::train::open_shard(path);
    if (shard.ok()) {
      int32_t id;
      float m;
      for (uint64_t i = 0; i < shard->n_tokens && i < 4096; ++i) shard->copy(i, 1, &id, &m);
    }
  } else {
    auto lora = sf::load_lora_gguf(path);
    (void)lora;
  }
  return 0;
}
