// Checkpoint folders: exact round trip, atomicity (a half-written checkpoint
// is never "latest"), pruning to the newest N, clear errors for corruption
// and layout mismatches; the training config's JSON round trip and resume
// rules.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "test_util.h"
#include "train/checkpoint.h"
#include "train/train_config.h"

namespace sf::train {
namespace {

namespace fs = std::filesystem;

struct Bufs {
  ParamLayout layout;
  ParamBuffer<float> p, m, v;
};

Bufs make_bufs(uint32_t seed) {
  Bufs b;
  b.layout.add("token_embd.weight", {11, 8}, true);
  b.layout.add("blk.0.attn_norm.weight", {8}, false);
  b.layout.add("output.weight", {11, 8}, true);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n;
  for (auto* buf : {&b.p, &b.m, &b.v}) {
    buf->allocate(b.layout);
    for (const auto& t : b.layout.tensors())
      for (size_t i = 0; i < t.size; ++i) buf->data[t.offset + i] = n(rng);
  }
  return b;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = test::tmp_path(name);
  fs::remove_all(d);
  return d;
}

CheckpointState state_at(int step) {
  CheckpointState s;
  s.step = step;
  s.config = {{"lr", 0.001}, {"seed", 3}};
  s.train_index = 0xFFFFFFFFFFFFFFF0ull + step;  // above 2^53: must survive JSON
  s.val_index = 4;
  s.model_rng = 0x123456789ABCDEF0ull;
  s.sampler_rng = 99;
  s.tokens_seen = 1234567;
  s.elapsed_s = 12.5;
  s.extra = {{"note", "x"}};
  return s;
}

TEST(Checkpoint, RoundTripIsExact) {
  const fs::path dir = fresh_dir("ckpt_roundtrip");
  Bufs a = make_bufs(1);
  ASSERT_TRUE(save_checkpoint(dir, state_at(7), a.layout, a.p, a.m, a.v, 2).ok());
  std::string path;
  auto st = read_checkpoint_state(dir, &path);
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_EQ(path, checkpoint_path(dir, 7));
  EXPECT_EQ(st->step, 7);
  EXPECT_EQ(st->train_index, 0xFFFFFFFFFFFFFFF7ull);
  EXPECT_EQ(st->val_index, 4u);
  EXPECT_EQ(st->model_rng, 0x123456789ABCDEF0ull);
  EXPECT_EQ(st->sampler_rng, 99u);
  EXPECT_EQ(st->tokens_seen, 1234567u);
  EXPECT_EQ(st->elapsed_s, 12.5);
  EXPECT_EQ(st->config["seed"], 3);
  EXPECT_EQ(st->extra["note"], "x");
  Bufs b = make_bufs(2);
  ASSERT_TRUE(load_checkpoint_tensors(path, b.layout, b.p, b.m, b.v).ok());
  EXPECT_EQ(a.p.data, b.p.data);
  EXPECT_EQ(a.m.data, b.m.data);
  EXPECT_EQ(a.v.data, b.v.data);
  EXPECT_FALSE(fs::exists(dir / (".tmp-step-00000007-" + std::to_string(getpid()))));
}

TEST(Checkpoint, KeepsTheNewestTwoAndIgnoresUnfinishedFolders) {
  const fs::path dir = fresh_dir("ckpt_keep");
  Bufs a = make_bufs(1);
  for (int step : {10, 20, 30, 40})
    ASSERT_TRUE(save_checkpoint(dir, state_at(step), a.layout, a.p, a.m, a.v, 2).ok());
  EXPECT_EQ(list_checkpoints(dir), (std::vector<int>{30, 40}));

  // What a kill during a save leaves: a tmp folder with some files, and
  // folders that look like checkpoints but lack state.json.
  fs::create_directories(dir / ".tmp-step-00000050-12345");
  test::write_file(dir / ".tmp-step-00000050-12345" / "params.bin", "xx");
  fs::create_directories(dir / "step-00000060");
  EXPECT_EQ(list_checkpoints(dir), (std::vector<int>{30, 40}));
  std::string path;
  auto st = read_checkpoint_state(dir, &path);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->step, 40);
  // The next save cleans the tmp leftovers.
  ASSERT_TRUE(save_checkpoint(dir, state_at(50), a.layout, a.p, a.m, a.v, 3).ok());
  EXPECT_FALSE(fs::exists(dir / ".tmp-step-00000050-12345"));
  EXPECT_EQ(list_checkpoints(dir), (std::vector<int>{30, 40, 50}));
}

TEST(Checkpoint, KillDuringSaveLeavesThePreviousCheckpointIntact) {
  // A child process saves big checkpoints in a loop and is killed with
  // SIGKILL at some point; whatever the timing, the newest complete
  // checkpoint must load and verify.
  const fs::path dir = fresh_dir("ckpt_kill");
  Bufs a;
  a.layout.add("big", {1 << 18}, true);  // 1 MiB per file
  for (auto* b : {&a.p, &a.m, &a.v}) {
    b->allocate(a.layout);
    for (size_t i = 0; i < b->data.size(); ++i) b->data[i] = float(i % 1000);
  }
  int verified = 0;
  for (int delay_ms : {20, 80, 300}) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int step = 1;; ++step)
        if (!save_checkpoint(dir, state_at(step), a.layout, a.p, a.m, a.v, 2).ok()) _exit(3);
    }
    usleep(delay_ms * 1000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the saver must not have failed on its own";
    std::string path;
    auto st = read_checkpoint_state(dir, &path);
    if (!st.ok()) {
      EXPECT_TRUE(list_checkpoints(dir).empty()) << st.status().message();
      continue;  // killed before the first save completed
    }
    Bufs b;
    b.layout = a.layout;
    Status ls = load_checkpoint_tensors(path, b.layout, b.p, b.m, b.v);
    ASSERT_TRUE(ls.ok()) << ls.message();
    EXPECT_EQ(b.p.data, a.p.data);
    ++verified;
    EXPECT_LE(list_checkpoints(dir).size(), 3u) << "keep 2, plus at most one being renamed";
  }
  std::printf("%d of 3 kills left a checkpoint to verify\n", verified);
  EXPECT_GT(verified, 0) << "no save completed within 300 ms: the test checked nothing";
}

TEST(Checkpoint, ClearErrors) {
  const fs::path dir = fresh_dir("ckpt_errors");
  std::string path;
  auto none = read_checkpoint_state(dir, &path);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no checkpoint"), std::string::npos);

  Bufs a = make_bufs(1);
  ASSERT_TRUE(save_checkpoint(dir, state_at(1), a.layout, a.p, a.m, a.v, 2).ok());
  ASSERT_TRUE(save_checkpoint(dir, state_at(2), a.layout, a.p, a.m, a.v, 2).ok());

  // A different model layout is named tensor by tensor.
  Bufs other;
  other.layout.add("token_embd.weight", {12, 8}, true);
  auto st = read_checkpoint_state(dir, &path);
  ASSERT_TRUE(st.ok());
  Status s = load_checkpoint_tensors(path, other.layout, other.p, other.m, other.v);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does not fit"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("token_embd.weight"), std::string::npos) << s.message();

  // A flipped byte is caught by the checksum, with a hint to the older one.
  std::string bytes = test::read_file(fs::path(path) / "adam_v.bin");
  bytes[17] ^= 1;
  test::write_file(fs::path(path) / "adam_v.bin", bytes);
  Bufs b = make_bufs(3);
  s = load_checkpoint_tensors(path, b.layout, b.p, b.m, b.v);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("corrupt"), std::string::npos) << s.message();

  // A truncated file and broken JSON.
  test::write_file(fs::path(path) / "adam_v.bin", "short");
  auto tr = read_checkpoint_state(dir, &path);
  ASSERT_FALSE(tr.ok());
  EXPECT_NE(tr.status().message().find("wrong size"), std::string::npos);
  EXPECT_NE(tr.status().message().find("resume from step 1"), std::string::npos)
      << tr.status().message();
  test::write_file(fs::path(path) / "state.json", "{not json");
  auto bj = read_checkpoint_state(dir, &path);
  ASSERT_FALSE(bj.ok());
  EXPECT_NE(bj.status().message().find("not valid JSON"), std::string::npos);
}

TEST(Checkpoint, OneWriterPerFolder) {
  const fs::path dir = fresh_dir("ckpt_lock");
  auto l1 = CheckpointLock::acquire(dir);
  ASSERT_TRUE(l1.ok()) << l1.status().message();
  // flock is per open file description: a second acquire, even in the same
  // process, is refused while the first is held.
  auto l2 = CheckpointLock::acquire(dir);
  ASSERT_FALSE(l2.ok());
  EXPECT_NE(l2.status().message().find("another process"), std::string::npos);
  l1->reset();
  EXPECT_TRUE(CheckpointLock::acquire(dir).ok());
}

TEST(Checkpoint, WriteFileAtomicReplaces) {
  const fs::path f = test::tmp_path("atomic.txt");
  ASSERT_TRUE(write_file_atomic(f, "one").ok());
  ASSERT_TRUE(write_file_atomic(f, "two").ok());
  EXPECT_EQ(test::read_file(f), "two");
  EXPECT_NE(checksum64("abc", 3), checksum64("abd", 3));
  EXPECT_NE(checksum64("", 0), checksum64("\0", 1));
}

TEST(TrainConfig, JsonRoundTripAndUnknownKeys) {
  TrainConfig c;
  c.arch = "qwen3";
  c.dim = 96;
  c.lr = 1.5e-3f;
  c.seed = 0xFFFFFFFFFFFFull;
  c.lora_targets = {"attn_q", "ffn_down"};
  c.sample_prompt = "héllo";
  auto back = from_json(to_json(c));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(to_json(*back), to_json(c));
  EXPECT_EQ(back->lr, 1.5e-3f);
  // Floats are written as their shortest decimal and read back exactly.
  EXPECT_EQ(to_json(c)["beta1"].get<double>(), 0.9);
  EXPECT_EQ(to_json(c)["lr"].get<double>(), 0.0015);

  auto bad = from_json({{"lerning_rate", 1}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown config key 'lerning_rate'"), std::string::npos);
  auto wrong = from_json({{"batch", "eight"}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("'batch'"), std::string::npos);
  auto frac = from_json({{"steps", 1.5}});
  EXPECT_FALSE(frac.ok());
  auto targets = from_json({{"lora_targets", "attn_k,attn_output"}});
  ASSERT_TRUE(targets.ok());
  EXPECT_EQ(targets->lora_targets, (std::vector<std::string>{"attn_k", "attn_output"}));
}

TEST(TrainConfig, ValidateAndResolve) {
  TrainConfig c;
  c.data = "d";
  EXPECT_TRUE(validate(c, nlohmann::json::object()).ok());
  TrainConfig l = c;
  l.lora_rank = 4;
  Status s = validate(l, nlohmann::json::object());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--init"), std::string::npos);
  l.init = "base.gguf";
  EXPECT_TRUE(validate(l, nlohmann::json::object()).ok());
  s = validate(l, {{"dim", 64}});
  ASSERT_FALSE(s.ok()) << "shape settings conflict with init";
  EXPECT_NE(s.message().find("'dim'"), std::string::npos);
  l.lora_targets = {"attn_z"};
  EXPECT_FALSE(validate(l, nlohmann::json::object()).ok());
  TrainConfig h = c;
  h.heads = 5;
  EXPECT_FALSE(validate(h, nlohmann::json::object()).ok());
  h = c;
  h.precision = "fp8";
  EXPECT_FALSE(validate(h, nlohmann::json::object()).ok());
  h = c;
  h.out_type = "Q9_9";
  EXPECT_FALSE(validate(h, nlohmann::json::object()).ok());

  TrainConfig r = c;
  r.steps = 200;
  r.ckpt_dir = "ck";
  resolve(r);
  EXPECT_EQ(r.min_lr, r.lr / 10);
  EXPECT_EQ(r.warmup, 10);
  EXPECT_EQ(r.wd, 0.1f);
  EXPECT_EQ(r.kv_heads, r.heads);
  EXPECT_EQ(r.head_dim, 64);
  EXPECT_EQ(r.ff % 32, 0);
  EXPECT_EQ(r.ctx, r.seq);
  EXPECT_GE(r.threads, 1);
  EXPECT_EQ(r.ckpt_every, 100);
}

TEST(TrainConfig, ResumeAllowsOutputsButNotTrajectoryChanges) {
  TrainConfig stored;
  stored.data = "d";
  resolve(stored);
  auto ok = merge_for_resume(stored, {{"steps", 5000}, {"out", "x.gguf"}, {"lr", stored.lr}});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->steps, 5000);
  EXPECT_EQ(ok->out, fs::absolute("x.gguf").string()) << "paths are stored absolute";
  // The same relative data path given again is the same data.
  EXPECT_TRUE(merge_for_resume(stored, {{"data", "d"}}).ok());
  EXPECT_FALSE(merge_for_resume(stored, {{"data", "other"}}).ok());
  auto bad = merge_for_resume(stored, {{"lr", 0.1}, {"batch", 3}, {"log", "l.jsonl"}});
  ASSERT_FALSE(bad.ok());
  const std::string& m = bad.status().message();
  EXPECT_NE(m.find("lr: checkpoint"), std::string::npos) << m;
  EXPECT_NE(m.find("batch: checkpoint 8, now 3"), std::string::npos) << m;
  EXPECT_EQ(m.find("log:"), std::string::npos) << m;
  EXPECT_NE(m.find("hint"), std::string::npos) << m;
}

TEST(TrainConfig, ResumeAcceptsTheOriginalAutoSettings) {
  // `--ff 0 --warmup -1` on the first run were resolved and stored; the same
  // command line with --resume is not a change, an explicit other value is.
  TrainConfig stored;
  stored.data = "d";
  resolve(stored);
  ASSERT_NE(stored.ff, 0);
  auto same = merge_for_resume(stored, {{"ff", 0}, {"warmup", -1}, {"min_lr", -1}});
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ(same->ff, stored.ff);
  EXPECT_EQ(same->warmup, stored.warmup);
  auto changed = merge_for_resume(stored, {{"ff", stored.ff + 32}});
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.status().message().find("ff: checkpoint"), std::string::npos);
}

}  // namespace
}  // namespace sf::train
