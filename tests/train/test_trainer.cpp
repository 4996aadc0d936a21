// The training loop in-process on tiny models: loss falls, gradient
// accumulation equals a bigger batch, resume from a checkpoint is bit-exact
// (full training and LoRA with dropout), resume validation, divergence and
// evaluation/sampling behaviour.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "models/random_model.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/model.h"
#include "train/shard.h"
#include "train/trainer.h"

namespace sf::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const char* kText =
    "The quick brown fox jumps over the lazy dog. A stitch in time saves nine. "
    "All that glitters is not gold. ";

// Byte-level ids as the random model's vocabulary numbers them: <unk> <s>
// </s>, then byte b at 3 + b. Documents end with </s>.
std::vector<int32_t> byte_ids(const std::string& text, int repeats) {
  std::vector<int32_t> ids;
  for (int r = 0; r < repeats; ++r) {
    ids.push_back(1);
    for (unsigned char ch : text) ids.push_back(3 + ch);
    ids.push_back(2);
  }
  return ids;
}

// A data folder with a train and a val split of the repeated text.
std::string make_data(const std::string& name, int train_repeats = 40, int val_repeats = 4) {
  fs::path dir = test::tmp_path(name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<int32_t> tr = byte_ids(kText, train_repeats), va = byte_ids(kText, val_repeats);
  EXPECT_TRUE(write_shard((dir / shard_file_name("train", 0)).string(), 259, tr).ok());
  EXPECT_TRUE(write_shard((dir / shard_file_name("val", 0)).string(), 259, va).ok());
  return dir.string();
}

// A GGUF with the same byte vocabulary (and random weights: also an --init base).
std::string vocab_model() {
  static std::string path;
  if (path.empty()) {
    path = test::tmp_path("trainer_vocab_model.gguf").string();
    RandomModelSpec spec;
    spec.n_vocab = 259;
    spec.n_embd = 32;
    spec.n_head = 2;
    spec.n_head_kv = 1;
    spec.n_ff = 64;
    spec.n_layer = 2;
    spec.n_ctx = 64;
    spec.seed = 5;
    EXPECT_TRUE(write_random_model(spec, path).ok());
  }
  return path;
}

json tiny(const std::string& data) {
  return {{"data", data}, {"dim", 32},    {"layers", 2},  {"heads", 2}, {"kv_heads", 1},
          {"ff", 64},     {"vocab", 259}, {"batch", 4},   {"seq", 32},  {"steps", 12},
          {"lr", 3e-3},   {"warmup", 2},  {"threads", 2}, {"seed", 7},  {"eval_batches", 2}};
}

std::vector<float> params_after(const json& cfg, bool resume = false) {
  auto t = Trainer::create(cfg, resume);
  EXPECT_TRUE(t.ok()) << t.status().message();
  if (!t.ok()) return {};
  auto r = (*t)->run();
  EXPECT_TRUE(r.ok()) << r.status().message();
  return (*t)->model().params().data;
}

TEST(Trainer, LossFallsAndValidationIsStable) {
  json cfg = tiny(make_data("trainer_loss"));
  cfg["steps"] = 60;
  auto t = Trainer::create(cfg, false);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE((*t)->has_val());
  auto before = (*t)->evaluate();
  ASSERT_TRUE(before.ok()) << before.status().message();
  EXPECT_NEAR(before->loss, std::log(259.0), 0.3) << "random init: about uniform";
  auto again = (*t)->evaluate();
  EXPECT_EQ(before->loss, again->loss) << "the same validation batches each time";
  auto r = (*t)->run();
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->last_eval);
  EXPECT_EQ(r->step, 60);
  EXPECT_LT(r->last_eval->loss, 0.6f * before->loss)
      << "60 steps on repeated text: " << before->loss << " -> " << r->last_eval->loss;
  EXPECT_NEAR(r->last_eval->ppl, std::exp(r->last_eval->loss), 1e-3 * r->last_eval->ppl);
}

TEST(Trainer, AccumulationEqualsTheBiggerBatch) {
  // Two micro-batches of 2 rows visit the same windows as one batch of 4
  // (batch i covers permutation entries [iB, iB + B)), and with every target
  // counted mean(mean_1, mean_2) is the mean over all 4 rows.
  const std::string data = make_data("trainer_accum");
  json a = tiny(data), b = tiny(data);
  a["steps"] = b["steps"] = 4;
  a["batch"] = 4;
  b["batch"] = 2;
  b["accum"] = 2;
  // (Both stay inside the first epoch, whose window permutation does not depend on B.)
  std::vector<float> pa = params_after(a), pb = params_after(b);
  ASSERT_EQ(pa.size(), pb.size());
  double max_diff = 0, max_abs = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    max_diff = std::max(max_diff, double(std::fabs(pa[i] - pb[i])));
    max_abs = std::max(max_abs, double(std::fabs(pa[i])));
  }
  EXPECT_LT(max_diff, 1e-4 * max_abs) << "accumulated gradients differ from the big batch";
}

TEST(Trainer, ResumeFromCheckpointIsBitExact) {
  const std::string data = make_data("trainer_resume");
  json cfg = tiny(data);
  cfg["accum"] = 2;
  cfg["eval_every"] = 3;  // evaluation in between must not perturb training
  const std::vector<float> straight = params_after(cfg);

  const fs::path ck = test::tmp_path("trainer_resume_ck");
  fs::remove_all(ck);
  cfg["ckpt_dir"] = ck.string();
  cfg["ckpt_every"] = 4;
  cfg.erase("eval_every");  // a different cadence: still the same parameters
  {
    TrainerHooks h;
    int steps_seen = 0;
    h.on_step = [&](const StepReport&) { ++steps_seen; };
    h.stop_requested = [&] { return steps_seen == 5; };
    auto t = Trainer::create(cfg, false, h);
    ASSERT_TRUE(t.ok()) << t.status().message();
    auto r = (*t)->run();
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_TRUE(r->interrupted);
    EXPECT_EQ(r->step, 5);
  }
  EXPECT_EQ(list_checkpoints(ck.string()), (std::vector<int>{4, 5}));
  // Resume with only the folder: everything else comes from the checkpoint.
  const std::vector<float> resumed = params_after({{"ckpt_dir", ck.string()}}, true);
  ASSERT_EQ(straight.size(), resumed.size());
  EXPECT_TRUE(straight == resumed) << "resumed run differs from the uninterrupted one";
  EXPECT_EQ(list_checkpoints(ck.string()), (std::vector<int>{8, 12})) << "keeps 2";
}

TEST(Trainer, LoraWithDropoutResumesBitExact) {
  const std::string data = make_data("trainer_lora");
  json cfg = {{"data", data},
              {"init", vocab_model()},
              {"lora_rank", 4},
              {"lora_dropout", 0.1},
              {"lora_targets", "attn_q,attn_v,ffn_down"},
              {"batch", 2},
              {"seq", 32},
              {"steps", 8},
              {"lr", 1e-2},
              {"threads", 2},
              {"seed", 3}};
  const std::vector<float> straight = params_after(cfg);
  const fs::path ck = test::tmp_path("trainer_lora_ck");
  fs::remove_all(ck);
  cfg["ckpt_dir"] = ck.string();
  cfg["ckpt_every"] = 3;
  {
    TrainerHooks h;
    h.stop_requested = [] { return true; };  // stop after the first step
    auto t = Trainer::create(cfg, false, h);
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_TRUE((*t)->model().is_lora());
    auto r = (*t)->run();
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->step, 1);
  }
  std::vector<float> resumed;
  for (int round = 0; round < 3; ++round) {  // stop again after every step
    TrainerHooks h;
    h.stop_requested = [] { return true; };
    auto t = Trainer::create({{"ckpt_dir", ck.string()}}, true, h);
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_TRUE((*t)->run().ok());
  }
  resumed = params_after({{"ckpt_dir", ck.string()}}, true);
  EXPECT_TRUE(straight == resumed) << "LoRA dropout RNG or loader position not restored";
}

TEST(Trainer, ThreadCountDoesNotChangeTheResult) {
  // What lets --threads change on resume: every reduction in the step (ops,
  // gradient norm) runs in an order that does not depend on the pool size.
  const std::string data = make_data("trainer_threads");
  std::vector<std::vector<float>> r;
  for (int th : {1, 3}) {
    json cfg = tiny(data);
    cfg["threads"] = th;
    cfg["steps"] = 2;
    cfg["dim"] = 96;
    cfg["heads"] = 3;
    cfg["kv_heads"] = 1;
    cfg["ff"] = 256;
    cfg["batch"] = 6;
    r.push_back(params_after(cfg));
  }
  EXPECT_TRUE(r[0] == r[1]);
}

TEST(Trainer, ResumeRefusesChangedSettingsAndExistingCheckpoints) {
  const std::string data = make_data("trainer_mismatch");
  json cfg = tiny(data);
  cfg["steps"] = 2;
  const fs::path ck = test::tmp_path("trainer_mismatch_ck");
  fs::remove_all(ck);
  cfg["ckpt_dir"] = ck.string();
  params_after(cfg);
  // A fresh run into a folder with checkpoints would bury them.
  auto again = Trainer::create(cfg, false);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("--resume"), std::string::npos);
  // Changed trajectory settings are listed, with the checkpoint's values.
  json changed = {{"ckpt_dir", ck.string()}, {"lr", 0.1}, {"dim", 64}};
  auto bad = Trainer::create(changed, true);
  ASSERT_FALSE(bad.ok());
  const std::string& m = bad.status().message();
  EXPECT_NE(m.find("lr: checkpoint"), std::string::npos) << m;
  EXPECT_NE(m.find("dim: checkpoint 32, now 64"), std::string::npos) << m;
  // Fewer steps than done already.
  auto fewer = Trainer::create({{"ckpt_dir", ck.string()}, {"steps", 1}}, true);
  ASSERT_FALSE(fewer.ok());
  EXPECT_NE(fewer.status().message().find("past --steps 1"), std::string::npos);
  // More steps are fine (the schedule stretches) and continue from step 2.
  auto more = Trainer::create({{"ckpt_dir", ck.string()}, {"steps", 3}}, true);
  ASSERT_TRUE(more.ok()) << more.status().message();
  EXPECT_EQ((*more)->step(), 2);
  more->reset();
  // Re-prepared data in the same folder is caught by its fingerprint.
  std::vector<int32_t> other = byte_ids("something else entirely. ", 200);
  ASSERT_TRUE(
      write_shard((fs::path(data) / shard_file_name("train", 0)).string(), 259, other).ok());
  auto moved = Trainer::create({{"ckpt_dir", ck.string()}}, true);
  ASSERT_FALSE(moved.ok());
  EXPECT_NE(moved.status().message().find("changed since the checkpoint"), std::string::npos);
  // Resume without a folder, and a folder without checkpoints.
  EXPECT_FALSE(Trainer::create(json::object(), true).ok());
  auto none = Trainer::create({{"ckpt_dir", test::tmp_path("trainer_empty_ck").string()}}, true);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no checkpoint"), std::string::npos);
}

TEST(Trainer, DivergenceStopsWithAHintAndNoCheckpoint) {
  json cfg = tiny(make_data("trainer_diverge"));
  cfg["lr"] = 1e30;
  cfg["clip"] = 0;
  cfg["warmup"] = 0;
  cfg["steps"] = 6;
  const fs::path ck = test::tmp_path("trainer_diverge_ck");
  fs::remove_all(ck);
  cfg["ckpt_dir"] = ck.string();
  cfg["ckpt_every"] = 1;
  auto t = Trainer::create(cfg, false);
  ASSERT_TRUE(t.ok());
  auto r = (*t)->run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("diverged"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("--lr"), std::string::npos);
  // Every checkpoint that was written holds finite parameters.
  for (int s : list_checkpoints(ck.string())) {
    std::string p;
    ParamBuffer<float> pp, m, v;
    auto st = read_checkpoint_state(ck.string(), &p);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(load_checkpoint_tensors(p, (*t)->model().layout(), pp, m, v).ok());
    for (float x : pp.data) ASSERT_TRUE(std::isfinite(x)) << "step " << s;
  }
}

TEST(Trainer, SamplesAndLogLines) {
  json cfg = tiny(make_data("trainer_sample"));
  cfg["tokenizer"] = vocab_model();
  cfg["steps"] = 4;
  cfg["sample_every"] = 2;
  cfg["sample_prompt"] = "The quick";
  cfg["sample_tokens"] = 5;
  cfg["eval_every"] = 2;
  const fs::path log = test::tmp_path("trainer_log.jsonl");
  fs::remove(log);
  cfg["log"] = log.string();
  std::vector<std::string> samples;
  TrainerHooks h;
  h.on_sample = [&](int, const std::string& s) { samples.push_back(s); };
  auto t = Trainer::create(cfg, false, h);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE((*t)->run().ok());
  EXPECT_EQ(samples.size(), 2u);
  // Greedy sampling is a pure function of the parameters.
  auto s1 = (*t)->sample("The quick", 5, 0.0f, 1), s2 = (*t)->sample("The quick", 5, 0.0f, 2);
  ASSERT_TRUE(s1.ok()) << s1.status().message();
  EXPECT_EQ(*s1, *s2);
  EXPECT_EQ(*s1, samples.back());
  auto h1 = (*t)->sample("The quick", 8, 1.0f, 9), h2 = (*t)->sample("The quick", 8, 1.0f, 9);
  EXPECT_EQ(*h1, *h2) << "seeded sampling reproduces";

  std::ifstream f(log);
  std::string line;
  int train_lines = 0, eval_lines = 0, sample_lines = 0;
  while (std::getline(f, line)) {
    json j = json::parse(line);
    const std::string type = j["type"];
    if (type == "train") {
      ++train_lines;
      for (const char* k : {"step", "loss", "lr", "grad_norm", "tokens_per_s", "elapsed_s"})
        EXPECT_TRUE(j.contains(k)) << k;
    }
    eval_lines += type == "eval";
    sample_lines += type == "sample";
  }
  EXPECT_EQ(train_lines, 4);
  EXPECT_EQ(eval_lines, 2);
  EXPECT_EQ(sample_lines, 2);
}

}  // namespace
}  // namespace sf::train
