// The training loop behind `starfire train`, usable from tests as is.
//
// One optimizer step t (1-based):
//   grads = 0
//   for each of `accum` micro-batches (train loader batches, in index order):
//     loss_i = model.forward_backward(batch, loss_scale = 1 / accum)
//   loss = mean(loss_i); norm = clip_grad_norm(grads, clip)
//   lr = lr_at(t, warmup, steps, lr, min_lr); adamw_step(t, lr)
// then, on their cadence: a JSON log line, evaluation (the same first
// `eval_batches` validation batches every time; loss weighted by counted
// targets), a text sample, a checkpoint. At the end: a final evaluation, a
// checkpoint, and the exports (-o GGUF, LoRA adapter folder).
//
// Exact resume: a step depends only on (params, m, v, t, train loader index,
// model RNG state), all of which a checkpoint stores, and every reduction in
// the step runs in a fixed order for a fixed thread count. Evaluation and
// sampling read the parameters only (no dropout, their own RNG derived from
// seed and step), so their cadence does not change the trajectory. A run
// resumed from step k therefore ends bit-identical to one that never stopped.
// Thread-safety: one thread drives a Trainer.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "train/train_config.h"

namespace sf {
class Tokenizer;
class ThreadPool;
}  // namespace sf

namespace sf::train {

class TrainModel;

struct StepReport {
  int step = 0, steps = 0;
  float loss = 0, lr = 0, grad_norm = 0;
  double tokens_per_s = 0;  // this step
  double elapsed_s = 0;     // training time so far, resumed segments included
  double eta_s = 0;         // from this segment's average step time
  uint64_t tokens = 0;      // training tokens so far
};

struct EvalReport {
  int step = 0;
  float loss = 0;  // mean cross-entropy over counted validation targets
  float ppl = 0;   // exp(loss)
  int batches = 0;
};

struct TrainerHooks {
  std::function<void(const StepReport&)> on_step;
  std::function<void(const EvalReport&)> on_eval;
  std::function<void(int step, const std::string& text)> on_sample;
  std::function<void(const std::string&)> on_note;  // resumed, checkpoint saved, exported ...
  // Polled after every step; true: save a checkpoint (with ckpt_dir) and stop.
  std::function<bool()> stop_requested;
};

struct TrainSummary {
  int step = 0;  // last completed step
  bool interrupted = false;
  float last_loss = 0;
  std::optional<EvalReport> last_eval;
};

class Trainer {
 public:
  // `given`: the settings the user chose (a --config file's keys and the
  // flags, as TrainConfig JSON keys). resume: continue from the newest
  // checkpoint in given["ckpt_dir"], whose stored config is the base;
  // settings outside resumable_key() must agree with it. Without resume a
  // ckpt_dir that already holds checkpoints is an error (never overwritten).
  // Loads the data, tokenizer and model; errors name what failed.
  static Result<std::unique_ptr<Trainer>> create(const nlohmann::json& given, bool resume,
                                                 TrainerHooks hooks = {});
  ~Trainer();

  // Trains to config().steps, then evaluates, checkpoints and exports.
  Result<TrainSummary> run();

  // Validation loss over the first eval_batches val batches (error when the
  // data has no usable val split).
  Result<EvalReport> evaluate();
  // Continues `prompt` by n tokens: greedy (temp 0) or sampled from a
  // generator seeded with `seed`; stops at end-of-generation. Needs a tokenizer.
  Result<std::string> sample(const std::string& prompt, int n, float temp, uint64_t seed);
  Status save_checkpoint();
  Status export_outputs();

  const TrainConfig& config() const;
  TrainModel& model();
  int step() const;
  const Tokenizer* tokenizer() const;
  bool has_val() const;

  struct Impl;

 private:
  explicit Trainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf::train
