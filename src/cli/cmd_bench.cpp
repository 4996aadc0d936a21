// `starfire bench`: prompt-processing and generation speed, like llama-bench:
// pp = one batch of -p tokens on an empty context, tg = -n tokens generated
// one at a time; mean ± stddev over -r repetitions after a warm-up.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/command.h"
#include "cli/common.h"
#include "runtime/session.h"

namespace sf::cli {
namespace {

struct Stats {
  double mean = 0, stddev = 0;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.stddev += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(s.stddev / static_cast<double>(v.size() - 1)) : 0;
  return s;
}

int run(int argc, char** argv) {
  std::vector<Flag> flags = model_flags();
  flags.push_back(lora_flag());
  flags.push_back({"--n-prompt", "-p", "N", "prompt tokens for the pp test (0: skip)", "512"});
  flags.push_back({"--n-gen", "-n", "N", "generated tokens for the tg test (0: skip)", "128"});
  flags.push_back({"--repetitions", "-r", "N", "repetitions of each test", "5"});
  flags.push_back({"--json", "", "", "print one JSON object per test (JSON lines)", ""});
  Args args("bench", "-m MODEL.gguf [-p 512] [-n 128] [-t THREADS] [-r REPS] [--json]", flags);
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  auto n_prompt = args.integer("--n-prompt");
  auto n_gen = args.integer("--n-gen");
  auto reps = args.integer("--repetitions");
  auto threads = args.integer("--threads");
  auto batch = args.integer("--batch-size");
  for (auto* r : {&n_prompt, &n_gen, &reps, &threads, &batch})
    if (!r->ok()) return fail(r->status().message());
  if (*n_prompt < 0 || *n_gen < 0 || *reps <= 0 || *batch <= 0)
    return fail("-p and -n must be >= 0, -r and -b > 0");
  auto model = load_model(args);
  if (!model.ok()) return fail(model.status().message());
  const Model& m = **model;
  const ModelConfig& c = m.config();

  SessionOptions so;
  so.n_threads = *threads;
  so.n_batch = *batch;
  so.n_ctx = std::max(*n_prompt, 1) + std::max(*n_gen, 1) + 1;
  auto lora = load_loras(args, **model);
  if (!lora.ok()) return fail(lora.status().message());
  so.lora = *lora;
  Session session(*model, so);

  size_t bytes = 0, params = 0;
  for (const auto& t : m.tensor_records()) {
    bytes += t.n_bytes;
    params += static_cast<size_t>(t.n_elements);
  }
  std::string types;
  {
    std::map<std::string, size_t> by;
    for (const auto& t : m.tensor_records()) by[type_name(t.type)] += t.n_bytes;
    for (const auto& [k, v] : by) types += (types.empty() ? "" : "+") + k;
  }
  const std::string name = std::filesystem::path(m.source_path()).filename().string();
  // Deterministic token ids spread over the vocabulary.
  auto token = [&](int i) { return static_cast<int32_t>((1 + 7919LL * i) % c.n_vocab); };
  using clock = std::chrono::steady_clock;

  auto report = [&](const char* test, int n, const std::vector<double>& tps) {
    Stats s = stats(tps);
    if (args.flag("--json")) {
      nlohmann::json j = {{"model", name},
                          {"arch", c.arch},
                          {"types", types},
                          {"size_bytes", bytes},
                          {"n_params", params},
                          {"threads", session.n_threads()},
                          {"test", std::string(test) + std::to_string(n)},
                          {"n_tokens", n},
                          {"repetitions", tps.size()},
                          {"avg_ts", s.mean},
                          {"stddev_ts", s.stddev},
                          {"samples_ts", tps}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("| %-28s | %9.2f MiB | %7.2f M | %-10s | %7d | %6s%-5d | %9.2f ± %6.2f |\n",
                  name.c_str(), bytes / 1048576.0, params / 1e6, types.c_str(), session.n_threads(),
                  test, n, s.mean, s.stddev);
    }
    std::fflush(stdout);
  };
  if (!args.flag("--json")) {
    std::printf("| %-28s | %13s | %9s | %-10s | %7s | %11s | %18s |\n", "model", "size", "params",
                "types", "threads", "test", "t/s");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(),
                std::string(15, '-').c_str(), std::string(11, '-').c_str(),
                std::string(12, '-').c_str(), std::string(9, '-').c_str(),
                std::string(13, '-').c_str(), std::string(20, '-').c_str());
  }

  if (*n_prompt > 0) {
    std::vector<int32_t> ids(*n_prompt);
    for (int i = 0; i < *n_prompt; ++i) ids[i] = token(i);
    std::vector<double> tps;
    for (int r = 0; r <= *reps; ++r) {  // r == 0 is the warm-up
      session.truncate(0);
      auto t0 = clock::now();
      if (Status s = session.feed(ids); !s.ok()) return fail(s.message());
      double sec = std::chrono::duration<double>(clock::now() - t0).count();
      if (r > 0) tps.push_back(*n_prompt / sec);
    }
    report("pp", *n_prompt, tps);
  }
  if (*n_gen > 0) {
    std::vector<double> tps;
    for (int r = 0; r <= *reps; ++r) {
      session.truncate(0);
      auto t0 = clock::now();
      for (int i = 0; i < *n_gen; ++i) {
        const int32_t one[1] = {token(i)};
        if (Status s = session.feed(one); !s.ok()) return fail(s.message());
      }
      double sec = std::chrono::duration<double>(clock::now() - t0).count();
      if (r > 0) tps.push_back(*n_gen / sec);
    }
    report("tg", *n_gen, tps);
  }
  return 0;
}

const RegisterCommand reg({"bench", "measure prompt and generation speed (like llama-bench)", run});

}  // namespace
}  // namespace sf::cli
