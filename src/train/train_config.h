// Everything a training run is made of, as one struct that round-trips
// through JSON: the `--config` file, the flags of `starfire train` (same
// names, '-' for '_'), and the copy every checkpoint stores so a resumed run
// rebuilds the same model, data order and schedule.
//
// Fields that default to a negative or zero sentinel are resolved by
// resolve() before training starts (e.g. min_lr < 0 becomes lr / 10); a
// checkpoint stores the resolved values, so a resumed run never re-derives
// them from a changed environment (core count, tokenizer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace sf::train {

struct TrainConfig {
  // Model shape for pretraining (ignored with `init`, whose model has one).
  std::string arch = "llama";  // llama | qwen2 | qwen3
  int dim = 256;
  int layers = 4;
  int heads = 4;
  int kv_heads = 0;  // 0: heads
  int head_dim = 0;  // 0: dim / heads
  int ff = 0;        // 0: 8/3 dim rounded up to a multiple of 32
  int vocab = 0;     // 0: the tokenizer's (else the data's) vocabulary size
  int ctx = 0;       // 0: seq
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tie_embeddings = false;

  // Continued training / fine-tuning from a model (GGUF file or HF folder).
  std::string init;
  int lora_rank = 0;        // > 0: train a LoRA adapter on `init` instead of every weight
  float lora_alpha = 0.0f;  // 0: 2 * rank
  float lora_dropout = 0.0f;
  std::vector<std::string> lora_targets = {"attn_q", "attn_v"};

  // Data: a folder from `starfire data prepare` (train-*.bin, val-*.bin).
  std::string data;
  std::string tokenizer;  // GGUF or tokenizer.json; "": init's, else data meta.json's
  int batch = 8;
  int seq = 256;
  int accum = 1;  // micro-batches per optimizer step

  // Optimization.
  int steps = 1000;
  float lr = 3e-4f;
  float min_lr = -1.0f;  // < 0: lr / 10
  int warmup = -1;       // < 0: 5% of steps
  float wd = -1.0f;      // < 0: 0.1 (full training) or 0 (LoRA)
  float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f;
  float clip = 1.0f;  // <= 0: no clipping
  uint64_t seed = 1;
  int threads = 0;                // 0: all hardware threads (resolved and stored)
  std::string precision = "f32";  // f32 | bf16 (matrix-product inputs)

  // Monitoring.
  int eval_every = 0;     // 0: only at the end (when the data has a val split)
  int eval_batches = 10;  // validation batches per evaluation (the same ones each time)
  int sample_every = 0;   // 0: no samples
  std::string sample_prompt;
  int sample_tokens = 32;
  float sample_temp = 0.0f;  // 0: greedy
  std::string log;           // JSON lines file

  // Checkpoints and outputs.
  std::string ckpt_dir;
  int ckpt_every = 0;  // 0: 100 when ckpt_dir is set (plus one at the end)
  int ckpt_keep = 2;
  std::string out;               // final model GGUF (merged for LoRA)
  std::string out_type = "f32";  // F32, F16, BF16, Q8_0 ... (type of 2-D weights)
  std::string adapter_out;       // LoRA: folder for adapter.gguf + PEFT files

  bool is_lora() const { return lora_rank > 0; }
};

nlohmann::json to_json(const TrainConfig& c);
// Applies the keys present in `j` onto `base`. Unknown keys and wrongly typed
// values are errors naming the key (a typo must not silently train something
// else). lora_targets accepts an array or a comma-separated string.
Result<TrainConfig> from_json(const nlohmann::json& j, TrainConfig base = {});
// Reads a --config file (JSON object) with errors naming the file.
Result<nlohmann::json> read_config_file(const std::string& path);

// Range and consistency checks with a hint each (batch >= 1, known arch and
// precision, LoRA needs init, shape flags conflict with init ...). `given`
// are the keys the user set (shape keys given together with init are errors).
Status validate(const TrainConfig& c, const nlohmann::json& given);
// Fills the sentinels that need no external information (min_lr, warmup, wd,
// kv_heads, head_dim, ff, ctx, threads, lora_alpha, ckpt_every).
void resolve(TrainConfig& c);

// Keys a resumed run may change without breaking exactness of the training
// trajectory: outputs, monitoring, checkpoint cadence, step count (which does
// stretch the cosine schedule), thread count (see the trainer's note).
bool resumable_key(const std::string& key);

// The config of a resumed run: `stored` (from the checkpoint) with the keys of
// `given` applied. Any given key outside resumable_key() must equal the stored
// value; otherwise the error lists every mismatch as "key: checkpoint X, now Y".
Result<TrainConfig> merge_for_resume(const TrainConfig& stored, const nlohmann::json& given);

}  // namespace sf::train
