// `starfire train`: pretraining, continued training and LoRA fine-tuning
// (train/trainer.h) from a JSON config and/or flags. Flags and config keys
// are the same settings (--kv-heads == "kv_heads"); flags win over the file.
// Progress goes to stderr (a redrawn line on a terminal, plain lines
// otherwise); the final summary to stdout. Ctrl-C saves a checkpoint (with
// --ckpt-dir) and exits with 130; a second Ctrl-C kills at once.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/args.h"
#include "cli/command.h"
#include "train/model.h"
#include "train/trainer.h"

namespace sf::cli {
namespace {

using json = nlohmann::json;

std::atomic<bool> g_stop{false};

void on_sigint(int) {
  g_stop.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process
}

// Flag <-> config key. The key's JSON type in a default TrainConfig says
// how the flag's text is parsed.
struct Setting {
  const char* flag;
  const char* value;  // "" for a switch
  const char* help;
};

const Setting kSettings[] = {
    {"--arch", "NAME", "architecture of a new model: llama, qwen2, qwen3"},
    {"--dim", "N", "embedding size"},
    {"--layers", "N", "transformer blocks"},
    {"--heads", "N", "attention heads"},
    {"--kv-heads", "N", "key/value heads (0: heads)"},
    {"--head-dim", "N", "per-head size (0: dim / heads; qwen3 may differ)"},
    {"--ff", "N", "feed-forward size (0: 8/3 dim, rounded up to 32)"},
    {"--vocab", "N", "vocabulary size (0: the tokenizer's)"},
    {"--ctx", "N", "context length of the model (0: --seq)"},
    {"--rope-base", "X", "RoPE base frequency"},
    {"--rms-eps", "X", "RMSNorm epsilon"},
    {"--tie-embeddings", "", "output head shares the token embedding"},
    {"--init", "MODEL", "start from a model (GGUF, HF folder or store name) instead of random"},
    {"--lora-rank", "R", "train a rank-R LoRA adapter on --init instead of every weight"},
    {"--lora-alpha", "A", "LoRA alpha (0: 2 x rank)"},
    {"--lora-dropout", "P", "LoRA dropout"},
    {"--lora-targets", "LIST",
     "adapted projections: attn_q,attn_k,attn_v,attn_output,ffn_gate,..."},
    {"--data", "DIR", "token shards from 'starfire data prepare'"},
    {"--tokenizer", "PATH", "GGUF or tokenizer.json (default: --init's, else the data's)"},
    {"--batch", "B", "sequences per micro-batch"},
    {"--seq", "T", "tokens per sequence"},
    {"--accum", "N", "micro-batches per optimizer step"},
    {"--steps", "N", "optimizer steps"},
    {"--lr", "X", "peak learning rate"},
    {"--min-lr", "X", "final learning rate of the cosine (-1: lr / 10)"},
    {"--warmup", "N", "linear warmup steps (-1: 5% of steps)"},
    {"--wd", "X", "AdamW weight decay (-1: 0.1, or 0 for LoRA)"},
    {"--beta1", "X", "AdamW beta1"},
    {"--beta2", "X", "AdamW beta2"},
    {"--eps", "X", "AdamW epsilon"},
    {"--clip", "X", "clip the global gradient norm (0: off)"},
    {"--seed", "N", "initialization, data order and dropout seed"},
    {"--threads", "N", "threads (0: all cores)"},
    {"--precision", "P", "matrix products: f32, or bf16 inputs with f32 accumulation"},
    {"--eval-every", "N", "validation every N steps (0: only at the end)"},
    {"--eval-batches", "K", "validation batches per evaluation"},
    {"--sample-every", "N", "generate a sample every N steps (0: never)"},
    {"--sample-prompt", "TEXT", "prompt of the samples"},
    {"--sample-tokens", "N", "tokens per sample"},
    {"--sample-temp", "X", "sample temperature (0: greedy)"},
    {"--log", "FILE", "JSON lines: one per step, evaluation and sample"},
    {"--ckpt-dir", "DIR", "checkpoint folder"},
    {"--ckpt-every", "N", "checkpoint every N steps (0: 100), and at the end"},
    {"--ckpt-keep", "N", "checkpoints kept"},
    {"--out", "OUT.gguf", "export the trained model (LoRA: merged into the base)"},
    {"--out-type", "TYPE", "type of exported 2-D weights: f32, f16, bf16, q8_0, q4_k ..."},
    {"--adapter-out", "DIR", "LoRA: write adapter.gguf and a PEFT adapter folder"},
};

std::string key_of(const std::string& flag) {
  std::string k = flag.substr(2);
  for (char& ch : k)
    if (ch == '-') ch = '_';
  return k;
}

std::string default_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return "";
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + e.get<std::string>();
    return s;
  }
  if (v.is_number_float()) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v.get<double>());
    return b;
  }
  return v.dump();
}

// The settings given on the command line, typed as the config expects.
Result<json> flags_to_json(const Args& args, const json& defaults) {
  json j = json::object();
  for (const Setting& s : kSettings) {
    if (!args.has(s.flag)) continue;
    const std::string key = key_of(s.flag);
    const json& d = defaults.at(key);
    if (d.is_boolean()) {
      j[key] = true;
    } else if (d.is_number_unsigned() || d.is_number_integer()) {
      const std::string v = args.str(s.flag);
      if (d.is_number_unsigned()) {
        char* end = nullptr;
        errno = 0;
        const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
        if (v.empty() || v[0] == '-' || *end || errno == ERANGE)
          return Status::error(std::string(s.flag) + " expects a non-negative integer, got '" + v +
                               "'");
        j[key] = static_cast<uint64_t>(x);
      } else {
        SF_ASSIGN_OR_RETURN(int x, args.integer(s.flag));
        j[key] = x;
      }
    } else if (d.is_number()) {
      SF_ASSIGN_OR_RETURN(double x, args.number(s.flag));
      j[key] = x;
    } else {
      j[key] = args.str(s.flag);  // strings, and lists as "a,b,c"
    }
  }
  return j;
}

std::string duration(double s) {
  char b[32];
  if (!std::isfinite(s) || s < 0) return "--";
  const long t = std::lround(s);
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60)
    std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(b, sizeof b, "%lds", t);
  return b;
}

std::string rate(double tok_s) {
  char b[32];
  if (tok_s >= 1e6)
    std::snprintf(b, sizeof b, "%.2fM", tok_s / 1e6);
  else if (tok_s >= 1e4)
    std::snprintf(b, sizeof b, "%.1fk", tok_s / 1e3);
  else
    std::snprintf(b, sizeof b, "%.0f", tok_s);
  return b;
}

// Training progress on stderr. ProgressBar (cli/progress.h) shows bytes and
// a fixed label; a training run needs loss and tokens/s instead, so this is
// its own small line with the same habits: redrawn at most 10 times a
// second on a terminal, plain lines every `every` steps otherwise.
class TrainProgress {
 public:
  explicit TrainProgress(int every) : every_(every), tty_(isatty(STDERR_FILENO) != 0) {}
  void step(const train::StepReport& r) {
    // Tokens/s over recent steps, smoothed (one step's timing is noisy).
    tps_ = tps_ > 0 ? 0.9 * tps_ + 0.1 * r.tokens_per_s : r.tokens_per_s;
    char line[256];
    const bool last = r.step == r.steps;
    if (tty_) {
      const auto now = std::chrono::steady_clock::now();
      if (!last && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
      last_draw_ = now;
      const double frac = r.steps ? double(r.step) / r.steps : 0;
      const int width = 24, fill = static_cast<int>(frac * width);
      std::string bar(fill, '#');
      bar.append(width - fill, ' ');
      std::snprintf(line, sizeof line,
                    "\r\033[Kstep %d/%d [%s] %3.0f%% loss %.4f lr %.2e %s tok/s ETA %s", r.step,
                    r.steps, bar.c_str(), frac * 100, r.loss, r.lr, rate(tps_).c_str(),
                    duration(r.eta_s).c_str());
      std::fputs(line, stderr);
      drawn_ = true;
      if (last) end_line();
    } else if (r.step % every_ == 0 || last || first_) {
      std::snprintf(line, sizeof line,
                    "step %d/%d loss %.4f lr %.2e grad_norm %.3f %s tok/s elapsed %s ETA %s\n",
                    r.step, r.steps, r.loss, r.lr, r.grad_norm, rate(r.tokens_per_s).c_str(),
                    duration(r.elapsed_s).c_str(), duration(r.eta_s).c_str());
      std::fputs(line, stderr);
    }
    first_ = false;
    std::fflush(stderr);
  }
  // A message on its own line (the bar is redrawn by the next step).
  void message(const std::string& s) {
    end_line();
    std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
  }
  void end_line() {
    if (tty_ && drawn_) std::fputs("\n", stderr);
    drawn_ = false;
  }

 private:
  int every_;
  bool tty_, drawn_ = false, first_ = true;
  double tps_ = 0;
  std::chrono::steady_clock::time_point last_draw_;
};

int run(int argc, char** argv) {
  const json defaults = train::to_json(train::TrainConfig{});
  std::vector<Flag> flags = {
      {"--config", "", "FILE", "JSON settings (keys as the flags: \"kv_heads\": 2 ...)", ""}};
  for (const Setting& s : kSettings) {
    const std::string key = key_of(s.flag);
    std::string short_name = key == "out" ? "-o" : key == "threads" ? "-t" : "";
    flags.push_back({s.flag, short_name, s.value, s.help, default_text(defaults.at(key))});
  }
  flags.push_back({"--resume", "", "", "continue from the newest checkpoint in --ckpt-dir", ""});
  flags.push_back(
      {"--print-every", "", "N", "plain progress line every N steps (not a terminal)", "10"});
  Args args("train",
            "--data DIR [--config FILE] [settings]\n"
            "  pretrain:  starfire train --data D --dim 256 --layers 4 --steps 2000 -o m.gguf\n"
            "  continue:  starfire train --data D --init model.gguf --lr 1e-4 -o m2.gguf\n"
            "  LoRA:      starfire train --data D --init base.gguf --lora-rank 8 --adapter-out A\n"
            "  resume:    starfire train --resume --ckpt-dir CK",
            flags);
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  if (!args.positional().empty())
    return fail("train: unexpected argument '" + args.positional()[0] +
                "' (settings are flags, e.g. --data DIR; see 'starfire train --help')");
  json given = json::object();
  if (args.has("--config")) {
    auto file = train::read_config_file(args.str("--config"));
    if (!file.ok()) return fail(file.status().message());
    given = *file;
  }
  auto cli = flags_to_json(args, defaults);
  if (!cli.ok()) return fail("train: " + cli.status().message());
  for (const auto& [k, v] : cli->items()) given[k] = v;
  auto every = args.integer("--print-every");
  if (!every.ok() || *every < 1) return fail("train: --print-every expects a positive integer");

  TrainProgress progress(*every);
  train::TrainerHooks hooks;
  hooks.on_step = [&](const train::StepReport& r) { progress.step(r); };
  hooks.on_eval = [&](const train::EvalReport& e) {
    char b[128];
    std::snprintf(b, sizeof b, "eval step %d: val loss %.4f, perplexity %.3f (%d batches)", e.step,
                  e.loss, e.ppl, e.batches);
    progress.message(b);
  };
  hooks.on_sample = [&](int step, const std::string& text) {
    progress.message("sample step " + std::to_string(step) + ": " +
                     json(text).dump(-1, ' ', false, json::error_handler_t::replace));
  };
  hooks.on_note = [&](const std::string& s) { progress.message(s); };
  hooks.stop_requested = [] { return g_stop.load(); };

  const bool resume = args.flag("--resume");
  auto trainer = train::Trainer::create(given, resume, hooks);
  if (!trainer.ok()) return fail("train: " + trainer.status().message());
  train::Trainer& t = **trainer;
  const train::TrainConfig& c = t.config();
  {
    train::TrainModel& m = t.model();
    const ModelConfig& mc = m.config();
    char b[512];
    std::snprintf(b, sizeof b,
                  "%s %s: %d layers, dim %d, %d heads (%d kv), ff %d, vocab %d; %.2fM trainable "
                  "parameters%s\n"
                  "  %d x %d tokens x %d accum = %d tokens/step, %d steps, lr %g -> %g "
                  "(warmup %d), %d threads, %s",
                  m.is_lora()      ? "LoRA on"
                  : c.init.empty() ? "new"
                                   : "continuing",
                  mc.arch.c_str(), mc.n_layer, mc.n_embd, mc.n_head, mc.n_head_kv, mc.n_ff,
                  mc.n_vocab, m.layout().count() / 1e6, m.is_lora() ? " (adapter)" : "", c.batch,
                  c.seq, c.accum, c.batch * c.seq * c.accum, c.steps, c.lr, c.min_lr, c.warmup,
                  c.threads, c.precision.c_str());
    progress.message(b);
  }
  g_stop.store(false);
  std::signal(SIGINT, on_sigint);
  auto sum = t.run();
  std::signal(SIGINT, SIG_DFL);
  progress.end_line();
  if (!sum.ok()) return fail("train: " + sum.status().message());
  if (sum->interrupted) {
    std::fprintf(
        stderr, "starfire: interrupted after step %d%s\n", sum->step,
        c.ckpt_dir.empty()
            ? " (no --ckpt-dir: progress is lost)"
            : ("; continue with: starfire train --resume --ckpt-dir " + c.ckpt_dir).c_str());
    return 130;
  }
  std::printf("trained %d steps: loss %.4f", sum->step, sum->last_loss);
  if (sum->last_eval)
    std::printf(", val loss %.4f (perplexity %.3f)", sum->last_eval->loss, sum->last_eval->ppl);
  std::printf("\n");
  if (!c.out.empty()) std::printf("model: %s\n", c.out.c_str());
  if (!c.adapter_out.empty()) std::printf("adapter: %s\n", c.adapter_out.c_str());
  return 0;
}

const RegisterCommand reg({"train", "train a model: pretraining, continued training or LoRA", run});

}  // namespace
}  // namespace sf::cli
