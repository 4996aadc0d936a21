// LoRA on a toy task: teach a real (tiny, trained) base model, stories260K, a
// fixed reply style, and check that held-out loss, on name/object pairs that
// never appear in training, falls by a stated factor while the base weights
// stay untouched (only the adapter is a parameter).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_util.h"
#include "train/data_prepare.h"
#include "train/model.h"
#include "train/trainer.h"

namespace sf::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

TEST(LoraToyTask, AdapterLearnsAReplyStyleThatGeneralizes) {
  SF_REQUIRE_FIXTURE("stories260K/stories260K.gguf");
  const std::string base = test::fixture("stories260K/stories260K.gguf").string();

  // Every reply is the pirate template around the question's own words, so
  // held-out pairs can only be predicted by having learned the style.
  const char* names[] = {"Tom", "Lily", "Max", "Sue", "Ben", "Mia", "Sam", "Amy", "Tim", "Kate"};
  const char* things[] = {"ball", "cake", "dog",  "box",  "tree",
                          "hat",  "car",  "fish", "book", "kite"};
  std::string train_text, val_text;
  int n = 0;
  for (const char* who : names)
    for (const char* what : things) {
      std::string doc = std::string("Q: Where is the ") + what + " of " + who +
                        "?\nA: Arr, matey! The " + what + " of " + who +
                        " be hidden on the ship, arr!\n<|endoftext|>\n";
      // Every fifth pair (a diagonal, so each name and object still occurs
      // in training) is held out.
      ((n++ % 5 == 0) ? val_text : train_text) += doc;
    }
  const fs::path dir = test::tmp_path("lora_toy");
  fs::remove_all(dir);
  fs::create_directories(dir / "in");
  test::write_file(dir / "in" / "train.txt", train_text);
  test::write_file(dir / "val.txt", val_text);

  // Two preparations with no random split: the held-out pairs' shard is then
  // renamed into the training folder as its validation split.
  PrepareOptions p;
  p.inputs = {(dir / "in").string()};
  p.tokenizer = base;
  p.out_dir = (dir / "data").string();
  p.val_fraction = 0;
  auto rt = prepare_data(p);
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  p.inputs = {(dir / "val.txt").string()};
  p.out_dir = (dir / "heldout").string();
  auto rv = prepare_data(p);
  ASSERT_TRUE(rv.ok()) << rv.status().message();
  for (const auto& e : fs::directory_iterator(dir / "heldout")) {
    const std::string f = e.path().filename().string();
    if (f.rfind("train-", 0) == 0) fs::copy_file(e.path(), dir / "data" / ("val-" + f.substr(6)));
  }

  json cfg = {{"data", (dir / "data").string()},
              {"init", base},
              {"lora_rank", 8},
              {"lora_targets", "attn_q,attn_k,attn_v,attn_output,ffn_up,ffn_down"},
              {"batch", 8},
              {"seq", 32},
              {"steps", 60},
              {"lr", 1e-2},
              {"warmup", 5},
              {"threads", 2},
              {"seed", 11},
              {"eval_batches", 4}};
  auto t = Trainer::create(cfg, false);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE((*t)->model().is_lora());
  auto before = (*t)->evaluate();
  ASSERT_TRUE(before.ok()) << before.status().message();
  auto run = (*t)->run();
  ASSERT_TRUE(run.ok()) << run.status().message();
  auto after = (*t)->evaluate();
  ASSERT_TRUE(after.ok()) << after.status().message();
  std::printf("LoRA toy task: held-out loss %.3f -> %.3f (ppl %.1f -> %.2f)\n", before->loss,
              after->loss, before->ppl, after->ppl);
  // Stated goal: held-out loss at most 40% of the base model's.
  EXPECT_LT(after->loss, 0.4f * before->loss);

  auto sample = (*t)->sample("Q: Where is the kite of Tom?\nA:", 16, 0.0f, 1);
  ASSERT_TRUE(sample.ok()) << sample.status().message();
  std::printf("sample: %s\n", sample->c_str());
  EXPECT_NE(sample->find("Arr"), std::string::npos) << *sample;
}

}  // namespace
}  // namespace sf::train
