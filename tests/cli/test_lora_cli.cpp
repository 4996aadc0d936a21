// `--lora` on run/logits/bench and `starfire lora merge|convert`, end to end
// through the binary: adapters applied at inference give the merged model's
// logits, scale 0 gives the base, PEFT <-> GGUF conversion round-trips, and
// bad adapters give exit code 1 with a message naming the problem.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "models/lora_adapter.h"
#include "models/lora_apply.h"
#include "models/model.h"
#include "models/random_model.h"
#include "cli/cli_run.h"
#include "test_util.h"

namespace sf {
namespace {

namespace fs = std::filesystem;

using test::CmdResult;
using test::starfire;

struct Files {
  std::string model, a, b;
};

// A random llama model and two random adapters on it (A: every projection,
// rank 4; B: q/v, rank 2).
const Files& files() {
  static Files f;
  if (!f.model.empty()) return f;
  f.model = test::tmp_path("lora_cli_model.gguf").string();
  RandomModelSpec spec;
  spec.seed = 9;
  EXPECT_TRUE(write_random_model(spec, f.model).ok());
  auto m = Model::load(f.model);
  EXPECT_TRUE(m.ok());
  const ModelConfig& c = (*m)->config();
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 0.2f);
  auto make = [&](int rank, std::vector<LoraProj> projs, const std::string& name) {
    LoraAdapter a;
    a.arch = c.arch;
    a.rank = rank;
    a.alpha = 2.0f * rank;
    for (int l = 0; l < c.n_layer; ++l)
      for (LoraProj p : projs) {
        LoraTensorPair t;
        t.target = lora_target_name(l, p);
        t.rank = rank;
        lora_proj_shape(c, p, &t.out, &t.in);
        for (int64_t i = 0; i < t.rank * t.in; ++i) t.a.push_back(nd(rng));
        for (int64_t i = 0; i < t.out * t.rank; ++i) t.b.push_back(nd(rng));
        a.tensors.push_back(std::move(t));
      }
    const std::string path = test::tmp_path(name).string();
    EXPECT_TRUE(save_lora_gguf(a, path).ok());
    return path;
  };
  f.a = make(4,
             {LoraProj::Q, LoraProj::K, LoraProj::V, LoraProj::O, LoraProj::Gate, LoraProj::Up,
              LoraProj::Down},
             "lora_cli_a.gguf");
  f.b = make(2, {LoraProj::Q, LoraProj::V}, "lora_cli_b.gguf");
  return f;
}

const std::string kIds = "--prompt-ids 1,5,9,33,2";

std::vector<std::vector<float>> logits(const std::string& args) {
  CmdResult r = starfire("logits " + args + " " + kIds + " --json");
  EXPECT_EQ(r.code, 0) << r.err;
  if (r.code != 0) return {};
  return nlohmann::json::parse(r.out)["logits"].get<std::vector<std::vector<float>>>();
}

float max_diff(const std::vector<std::vector<float>>& x, const std::vector<std::vector<float>>& y) {
  EXPECT_EQ(x.size(), y.size());
  float d = 0;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    EXPECT_EQ(x[i].size(), y[i].size());
    for (size_t j = 0; j < std::min(x[i].size(), y[i].size()); ++j)
      d = std::max(d, std::fabs(x[i][j] - y[i][j]));
  }
  return d;
}

TEST(LoraCli, TwoAdaptersMatchTheMergedModel) {
  const Files& f = files();
  const std::string merged = test::tmp_path("lora_cli_merged.gguf").string();
  CmdResult r = starfire("lora merge -m " + f.model + " --lora " + f.a + ":0.5 --lora " + f.b +
                         " -o " + merged + " --type F32");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("with adapters merged"), std::string::npos) << r.out;
  const auto base = logits("-m " + f.model);
  const auto applied = logits("-m " + f.model + " --lora " + f.a + ":0.5 --lora " + f.b);
  const auto ref = logits("-m " + merged);
  EXPECT_GT(max_diff(base, ref), 0.05f);
  EXPECT_LT(max_diff(applied, ref), 1e-4f);
  // Scale 0 is the base model exactly.
  EXPECT_EQ(logits("-m " + f.model + " --lora " + f.a + ":0"), base);

  // run --lora generates greedily from the same logits.
  CmdResult g = starfire("run -m " + f.model + " --lora " + f.a + ":0.5 --lora " + f.b + " " +
                         kIds + " -n 4 --temp 0 --json");
  CmdResult gm = starfire("run -m " + merged + " " + kIds + " -n 4 --temp 0 --json");
  ASSERT_EQ(g.code, 0) << g.err;
  ASSERT_EQ(gm.code, 0) << gm.err;
  EXPECT_EQ(nlohmann::json::parse(g.out)["ids"], nlohmann::json::parse(gm.out)["ids"]);

  CmdResult b = starfire("bench -m " + f.model + " --lora " + f.a + " -p 8 -n 4 -r 1 -t 1");
  EXPECT_EQ(b.code, 0) << b.err;
}

TEST(LoraCli, ConvertPeftAndBack) {
  const Files& f = files();
  const std::string peft = test::tmp_path("lora_cli_peft").string();
  const std::string back = test::tmp_path("lora_cli_back.gguf").string();
  fs::remove_all(peft);
  CmdResult r =
      starfire("lora convert " + f.a + " " + peft + " -m " + f.model + " --base-name org/base");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(fs::exists(fs::path(peft) / "adapter_model.safetensors"));
  auto cfg = nlohmann::json::parse(test::read_file(fs::path(peft) / "adapter_config.json"));
  EXPECT_EQ(cfg["base_model_name_or_path"], "org/base");
  EXPECT_EQ(cfg["r"], 4);
  r = starfire("lora convert " + peft + " " + back + " -m " + f.model);
  ASSERT_EQ(r.code, 0) << r.err;
  auto x = load_lora_gguf(f.a), y = load_lora_gguf(back);
  ASSERT_TRUE(x.ok() && y.ok());
  ASSERT_EQ(x->tensors.size(), y->tensors.size());
  for (size_t i = 0; i < x->tensors.size(); ++i) {
    EXPECT_EQ(x->tensors[i].a, y->tensors[i].a);
    EXPECT_EQ(x->tensors[i].b, y->tensors[i].b);
  }
  // --lora takes the PEFT folder directly, with the same result.
  EXPECT_EQ(logits("-m " + f.model + " --lora " + peft),
            logits("-m " + f.model + " --lora " + f.a));
}

TEST(LoraCli, BadAdaptersGiveClearErrors) {
  const Files& f = files();
  CmdResult r = starfire("logits -m " + f.model + " --lora " + f.model + " " + kIds);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not a LoRA adapter"), std::string::npos) << r.err;
  r = starfire("logits -m " + f.model + " --lora /nonexistent/x.gguf " + kIds);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  r = starfire("logits -m " + f.model + " --lora /nonexistent/x.gguf:abc " + kIds);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not a scale"), std::string::npos) << r.err;
  // An adapter for another model of the same architecture.
  const std::string other = test::tmp_path("lora_cli_other.gguf").string();
  RandomModelSpec spec;
  spec.n_embd = 32;
  spec.n_ff = 64;
  ASSERT_TRUE(write_random_model(spec, other).ok());
  r = starfire("logits -m " + other + " --lora " + f.a + " " + kIds);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("another base model"), std::string::npos) << r.err;
  r = starfire("lora merge -m " + f.model + " -o " + test::tmp_path("x.gguf").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--lora"), std::string::npos) << r.err;
  r = starfire("lora frobnicate");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown subcommand"), std::string::npos) << r.err;
  // serve does not apply adapters yet, so it refuses the flag rather than ignore it.
  r = starfire("serve -m " + f.model + " --lora " + f.a);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown option '--lora'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sf
