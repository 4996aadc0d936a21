#include "train/trainer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/dtype.h"
#include "core/threadpool.h"
#include "formats/gguf.h"
#include "models/hf_convert.h"
#include "models/lora_adapter.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/data_prepare.h"
#include "train/model.h"
#include "train/schedule.h"
#include "train/shard.h"

namespace sf::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Floats in the log as their shortest round-trip decimal (2.345, not
// 2.3450000286102295).
json num(float x) {
  if (!std::isfinite(x)) return nullptr;
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return json::parse(std::string(buf, r.ptr));
}

uint64_t mix64(uint64_t z) {  // splitmix64 finalizer
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The sampler's generator for the sample at `step`: derived, never stored,
// so samples cannot perturb training or depend on when the run was resumed.
uint64_t sample_seed(uint64_t seed, int step) {
  return mix64(seed ^ 0x53414D504C450000ull) ^ mix64(static_cast<uint64_t>(step));
}

// Data identity beyond the folder name: re-preparing data in the same folder
// must not silently resume on different tokens.
json data_fingerprint(const DataLoader& d) {
  return {{"train_tokens", d.n_tokens()}, {"vocab", d.vocab_size()}, {"has_mask", d.has_mask()}};
}

// Keeps the log lines of steps <= `step` (a resumed run rewrites what the
// killed run logged after its last checkpoint, including a torn last line).
Status truncate_log(const std::string& path, int step) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string kept, line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (j.value("step", 0) > step) continue;
    kept += line + "\n";
  }
  return write_file_atomic(path, kept);
}

}  // namespace

struct Trainer::Impl {
  TrainConfig cfg;
  TrainerHooks hooks;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<CheckpointLock> lock;
  std::unique_ptr<DataLoader> train, val;
  int val_batch = 0;      // rows per val batch (1 when the split is too small for --batch)
  std::string val_error;  // why there is no validation (a note)
  std::shared_ptr<const Tokenizer> tok;
  std::string tok_path, tok_kind;  // where tok came from ("" : the init model)
  std::string tok_error;
  std::shared_ptr<const Model> base;  // init model (LoRA keeps it alive too)
  std::shared_ptr<const gguf::GgufFile> kv_source;
  std::unique_ptr<TrainModel> model;
  ParamBuffer<float> m, v;
  AdamWConfig adam;
  int step = 0;
  int saved_step = -1;  // step of the newest checkpoint on disk
  uint64_t tokens_seen = 0;
  float last_loss = 0;        // of the newest step (kept in checkpoints for the summary)
  double elapsed_before = 0;  // seconds in earlier segments (from the checkpoint)
  Clock::time_point segment_start;
  int segment_first_step = 0;
  std::ofstream log;
  std::vector<int32_t> tokens, targets;
  std::vector<float> mask;

  void note(const std::string& s) const {
    if (hooks.on_note) hooks.on_note(s);
  }
  double elapsed() const {
    return elapsed_before + std::chrono::duration<double>(Clock::now() - segment_start).count();
  }
  void log_line(const json& j) {
    if (!log.is_open()) return;
    // Samples may hold invalid UTF-8 (a token cut mid-character): replaced, not thrown.
    log << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    log.flush();
  }

  Status load_tokenizer();
  Status build_kv_source();
  Status build_model();
  Result<EvalReport> evaluate();
  Result<std::string> sample(const std::string& prompt, int n, float temp, uint64_t seed);
  Status checkpoint();
  Status export_outputs();
};

// ------------------------------------------------------------------ setup

Status Trainer::Impl::load_tokenizer() {
  std::string path = cfg.tokenizer;
  if (path.empty() && !cfg.init.empty()) {
    // The base model brings its tokenizer (and the metadata the export copies).
    tok = base->tokenizer_ptr();
    if (base->gguf()) return {};
    path = base->source_path();  // HF folder: tokenizer.json beside the weights
  }
  if (path.empty()) {
    std::ifstream f(fs::path(cfg.data) / "meta.json", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    json meta = json::parse(ss.str(), nullptr, false);
    if (!meta.is_discarded() && meta.is_object() && meta.contains("tokenizer") &&
        meta["tokenizer"].is_object())
      path = meta["tokenizer"].value("path", "");
    if (path.empty()) {
      tok_error = "no tokenizer (give --tokenizer; " + cfg.data +
                  "/meta.json names none): samples are off and the export has no vocabulary";
      return {};
    }
    cfg.tokenizer = path;
  }
  auto t = train::load_tokenizer(path, &tok_kind);
  if (!t.ok() && cfg.tokenizer.empty() && !cfg.init.empty()) {
    // An HF folder without a usable tokenizer.json: train anyway.
    tok_error = "no tokenizer beside " + cfg.init + " (" + t.status().message() +
                "): the export has no vocabulary; give --tokenizer";
    return {};
  }
  if (!t.ok()) return t.status().with_context("loading the tokenizer");
  if (!tok) tok = *t;
  tok_path = path;
  return {};
}

// The export copies tokenizer.* keys from a GGUF: the init model's file, the
// tokenizer's GGUF, or one built in memory from tokenizer.json (padded to
// the model's vocabulary, hence after build_model).
Status Trainer::Impl::build_kv_source() {
  if (tok_path.empty()) {
    if (base && base->gguf())  // non-owning alias: `base` outlives every use
      kv_source = std::shared_ptr<const gguf::GgufFile>(base, base->gguf());
    return {};
  }
  std::error_code ec;
  fs::path p = tok_path;
  if (tok_kind == "gguf") {
    if (fs::is_directory(p, ec))
      for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".gguf") p = it->path();
    auto f = gguf::GgufFile::open(p.string());
    if (!f.ok()) return f.status().with_context("loading the tokenizer");
    kv_source = *f;
  } else {
    const fs::path folder = fs::is_directory(p, ec) ? p : p.parent_path();
    GgufKv kv;
    if (Status s = add_hf_tokenizer(folder.string(), model->config().n_vocab, kv); !s.ok())
      return s.with_context("converting the tokenizer for the export");
    gguf::GgufWriter w;
    for (auto& [k, val] : kv) w.set(k, val);
    auto f = gguf::GgufFile::from_bytes(w.to_bytes(), folder.string() + " (tokenizer)");
    if (!f.ok()) return f.status().with_context("converting the tokenizer for the export");
    kv_source = *f;
  }
  return {};
}

Status Trainer::Impl::build_model() {
  TrainOptions opt;
  opt.precision = cfg.precision == "bf16" ? GemmPrecision::Bf16 : GemmPrecision::F32;
  const int data_vocab = train->vocab_size();
  if (cfg.init.empty()) {
    if (cfg.vocab == 0) cfg.vocab = tok ? std::max(tok->n_vocab(), data_vocab) : data_vocab;
    ModelConfig mc;
    mc.arch = cfg.arch;
    mc.name = "starfire-" + cfg.arch;
    mc.n_vocab = cfg.vocab;
    mc.n_embd = cfg.dim;
    mc.n_layer = cfg.layers;
    mc.n_head = cfg.heads;
    mc.n_head_kv = cfg.kv_heads;
    mc.head_dim = cfg.head_dim;
    mc.n_ff = cfg.ff;
    mc.n_ctx_train = cfg.ctx;
    mc.rms_eps = cfg.rms_eps;
    mc.rope_base = cfg.rope_base;
    mc.tied_output = cfg.tie_embeddings;
    auto mod = TrainModel::create(mc, cfg.seed, opt);
    if (!mod.ok()) return mod.status();
    model = std::move(*mod);
  } else if (cfg.is_lora()) {
    LoraConfig lc;
    lc.rank = cfg.lora_rank;
    lc.alpha = cfg.lora_alpha;
    lc.dropout = cfg.lora_dropout;
    lc.targets = cfg.lora_targets;
    auto mod = TrainModel::with_lora(base, lc, cfg.seed, opt);
    if (!mod.ok()) return mod.status().with_context("LoRA on " + cfg.init);
    model = std::move(*mod);
  } else {
    auto mod = TrainModel::from_model(*base, opt);
    if (!mod.ok()) return mod.status().with_context(cfg.init);
    model = std::move(*mod);
  }
  const ModelConfig& mc = model->config();
  if (data_vocab > mc.n_vocab)
    return errorf(
        "the data's vocabulary (%d tokens, %s) is larger than the model's (%d); hint: "
        "prepare the data with the model's tokenizer%s",
        data_vocab, cfg.data.c_str(), mc.n_vocab, cfg.init.empty() ? " or raise --vocab" : "");
  if (cfg.seq > mc.n_ctx_train)
    return errorf("--seq %d exceeds the model's context of %d tokens; hint: lower --seq%s", cfg.seq,
                  mc.n_ctx_train, cfg.init.empty() ? " or raise --ctx" : "");
  if (tok && tok->n_vocab() > mc.n_vocab)
    note("note: the tokenizer has " + std::to_string(tok->n_vocab()) +
         " tokens, more than the model's " + std::to_string(mc.n_vocab));
  m.allocate(model->layout());
  v.allocate(model->layout());
  return {};
}

Result<std::unique_ptr<Trainer>> Trainer::create(const json& given, bool resume,
                                                 TrainerHooks hooks) {
  auto impl = std::make_unique<Impl>();
  Impl& I = *impl;
  I.hooks = std::move(hooks);
  if (!given.is_object()) return Status::error("training settings must be a JSON object");

  CheckpointState ck;
  std::string ck_path;
  if (resume) {
    const std::string dir = given.value("ckpt_dir", "");
    if (dir.empty())
      return Status::error("--resume needs --ckpt-dir DIR (the folder the run checkpointed to)");
    SF_ASSIGN_OR_RETURN(I.lock, CheckpointLock::acquire(dir));
    SF_ASSIGN_OR_RETURN(ck, read_checkpoint_state(dir, &ck_path));
    auto stored = from_json(ck.config);
    if (!stored.ok()) return stored.status().with_context(ck_path + "/state.json");
    SF_ASSIGN_OR_RETURN(I.cfg, merge_for_resume(*stored, given));
    I.cfg.ckpt_dir = dir;
    // Range checks for what may have changed (steps, cadences, outputs).
    SF_RETURN_IF_ERROR(validate(I.cfg, json::object()));
    if (I.cfg.steps < ck.step)
      return errorf(
          "the checkpoint in %s is at step %d, past --steps %d; hint: give --steps "
          "%d or more",
          dir.c_str(), ck.step, I.cfg.steps, ck.step);
    if (I.cfg.steps != stored->steps)
      I.note("note: steps changed from " + std::to_string(stored->steps) + " to " +
             std::to_string(I.cfg.steps) + ": the cosine schedule stretches from here on");
    if (I.cfg.threads != stored->threads)
      I.note("note: " + std::to_string(I.cfg.threads) + " threads instead of " +
             std::to_string(stored->threads) +
             " (bit-exact as long as every kernel is thread-count independent, as "
             "tests/train/test_trainer.cpp checks)");
  } else {
    SF_ASSIGN_OR_RETURN(I.cfg, from_json(given));
    SF_RETURN_IF_ERROR(validate(I.cfg, given));
    resolve(I.cfg);
    if (!I.cfg.ckpt_dir.empty()) {
      SF_ASSIGN_OR_RETURN(I.lock, CheckpointLock::acquire(I.cfg.ckpt_dir));
      const std::vector<int> existing = list_checkpoints(I.cfg.ckpt_dir);
      if (!existing.empty())
        return errorf(
            "%s already holds checkpoints (newest: step %d); hint: add --resume to "
            "continue that run, or choose another --ckpt-dir (nothing is overwritten)",
            I.cfg.ckpt_dir.c_str(), existing.back());
    }
  }
  const TrainConfig& c = I.cfg;
  // An export that cannot be written should fail now, not after the training.
  if (!c.out.empty()) {
    std::error_code ec;
    const fs::path parent = fs::absolute(c.out, ec).parent_path();
    if (!fs::is_directory(parent, ec))
      return Status::error("cannot write --out " + c.out + ": folder " + parent.string() +
                           " does not exist");
  }
  I.pool = std::make_unique<ThreadPool>(c.threads);

  // Data.
  auto tr = DataLoader::open(c.data, "train", c.batch, c.seq, c.seed);
  if (!tr.ok()) return tr.status();
  I.train = std::move(*tr);
  if (resume && ck.extra.contains("data") && ck.extra["data"] != data_fingerprint(*I.train))
    return Status::error("the data in " + c.data + " changed since the checkpoint (checkpoint: " +
                         ck.extra["data"].dump() + ", now: " + data_fingerprint(*I.train).dump() +
                         "); hint: resume with the data the run started on");
  auto shards = list_shards(c.data, "val");
  if (shards.ok() && !shards->empty()) {
    // A small val split may not fill a training-sized batch; one row per batch then.
    I.val_batch = c.batch;
    auto va = DataLoader::open(c.data, "val", c.batch, c.seq, c.seed);
    if (!va.ok()) {
      I.val_batch = 1;
      va = DataLoader::open(c.data, "val", 1, c.seq, c.seed);
    }
    if (va.ok())
      I.val = std::move(*va);
    else
      I.val_error = va.status().message();
  } else {
    I.val_error = "no val split in " + c.data;
  }
  if (!I.val) I.note("note: no validation (" + I.val_error + ")");

  // Model (and its tokenizer), then the tokenizer for pretraining.
  if (!c.init.empty()) {
    // The trainer reads the base's GGUF rows (dequantized), never matmul's
    // packed copies: skip packing.
    auto b = Model::load(c.init, LoadOptions{.pack_weights = false});
    if (!b.ok()) return b.status().with_context("loading --init");
    I.base = *b;
  }
  SF_RETURN_IF_ERROR(I.load_tokenizer());
  if (!I.tok_error.empty()) I.note("note: " + I.tok_error);
  SF_RETURN_IF_ERROR(I.build_model());
  SF_RETURN_IF_ERROR(I.build_kv_source());
  I.adam = {c.beta1, c.beta2, c.eps, c.wd};

  if (resume) {
    TrainModel& mod = *I.model;
    SF_RETURN_IF_ERROR(load_checkpoint_tensors(ck_path, mod.layout(), mod.params(), I.m, I.v));
    mod.set_rng_state(ck.model_rng);
    I.train->seek(ck.train_index);
    I.step = ck.step;
    I.saved_step = ck.step;
    I.tokens_seen = ck.tokens_seen;
    if (ck.extra.contains("last_loss") && ck.extra["last_loss"].is_number())
      I.last_loss = ck.extra["last_loss"].get<float>();
    I.elapsed_before = ck.elapsed_s;
    I.note("resumed from " + ck_path + " (step " + std::to_string(ck.step) + ")");
  }
  if (!c.log.empty()) {
    if (resume) SF_RETURN_IF_ERROR(truncate_log(c.log, I.step));
    I.log.open(c.log, std::ios::app);
    if (!I.log) return Status::error("cannot open log file '" + c.log + "' for writing");
  }
  const size_t n = static_cast<size_t>(c.batch) * c.seq;
  I.tokens.resize(n);
  I.targets.resize(n);
  I.mask.resize(n);
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Trainer::~Trainer() = default;

// ------------------------------------------------------------------ steps

Result<EvalReport> Trainer::Impl::evaluate() {
  if (!val) return Status::error("no validation data: " + val_error);
  const uint64_t n_batches = std::min<uint64_t>(static_cast<uint64_t>(cfg.eval_batches),
                                                static_cast<uint64_t>(val->batches_per_epoch()));
  const int B = val_batch;
  std::vector<int32_t> tk(static_cast<size_t>(B) * cfg.seq), tg(tk.size());
  std::vector<float> mk(tk.size());
  val->seek(0);
  double sum = 0, count = 0;
  for (uint64_t i = 0; i < n_batches; ++i) {
    val->next(tk.data(), tg.data(), mk.data());
    double w = 0;
    for (size_t k = 0; k < static_cast<size_t>(B) * cfg.seq; ++k) w += mk[k];
    if (w == 0) continue;
    auto l = model->forward_loss(tk.data(), tg.data(), mk.data(), B, cfg.seq, *pool);
    if (!l.ok()) return l.status().with_context("evaluation");
    sum += double(*l) * w;
    count += w;
  }
  val->seek(0);
  EvalReport r;
  r.step = step;
  r.batches = static_cast<int>(n_batches);
  r.loss = count > 0 ? static_cast<float>(sum / count) : 0.0f;
  r.ppl = static_cast<float>(std::exp(double(r.loss)));
  return r;
}

Result<std::string> Trainer::Impl::sample(const std::string& prompt, int n, float temp,
                                          uint64_t seed) {
  if (!tok) return Status::error("sampling needs a tokenizer (give --tokenizer)");
  std::vector<int32_t> ids = tok->encode(prompt, /*add_special=*/true);
  if (ids.empty() && tok->bos_id() >= 0) ids.push_back(tok->bos_id());
  if (ids.empty()) return Status::error("the sample prompt encodes to no tokens");
  const int n_vocab = model->config().n_vocab;
  const int ctx = model->config().n_ctx_train;
  if (static_cast<int>(ids.size()) > ctx) ids.erase(ids.begin(), ids.end() - ctx);
  const size_t n_prompt = ids.size();
  std::vector<float> logits;
  uint64_t rng = seed;
  for (int i = 0; i < n && static_cast<int>(ids.size()) < ctx; ++i) {
    const int T = static_cast<int>(ids.size());
    logits.resize(static_cast<size_t>(T) * n_vocab);
    SF_RETURN_IF_ERROR(model->forward_logits(ids.data(), T, logits.data(), *pool));
    const float* last = logits.data() + static_cast<size_t>(T - 1) * n_vocab;
    // Only ids the tokenizer knows (a padded vocabulary's extra rows are never picked).
    const int limit = std::min(n_vocab, tok->n_vocab());
    int32_t next = 0;
    if (temp <= 0) {
      next = static_cast<int32_t>(std::max_element(last, last + limit) - last);
    } else {
      const float mx = *std::max_element(last, last + limit);
      double total = 0;
      std::vector<double> p(limit);
      for (int k = 0; k < limit; ++k) total += p[k] = std::exp(double(last[k] - mx) / temp);
      rng = mix64(rng + 0x9E3779B97F4A7C15ull);
      double u = double(rng >> 11) * 0x1.0p-53 * total;
      next = limit - 1;
      for (int k = 0; k < limit; ++k)
        if ((u -= p[k]) < 0) {
          next = k;
          break;
        }
    }
    if (tok->is_eog(next)) break;
    ids.push_back(next);
  }
  return tok->decode(std::span<const int32_t>(ids.data() + n_prompt, ids.size() - n_prompt));
}

Status Trainer::Impl::checkpoint() {
  if (cfg.ckpt_dir.empty() || saved_step == step) return {};
  CheckpointState st;
  st.step = step;
  st.config = to_json(cfg);
  st.train_index = train->index();
  st.val_index = val ? val->index() : 0;
  st.model_rng = model->rng_state();
  st.sampler_rng = sample_seed(cfg.seed, step);
  st.tokens_seen = tokens_seen;
  st.elapsed_s = elapsed();
  st.extra = {{"data", data_fingerprint(*train)}, {"last_loss", num(last_loss)}};
  SF_RETURN_IF_ERROR(train::save_checkpoint(cfg.ckpt_dir, st, model->layout(), model->params(), m,
                                            v, cfg.ckpt_keep));
  saved_step = step;
  note("checkpoint " + checkpoint_path(cfg.ckpt_dir, step));
  return {};
}

Status Trainer::Impl::export_outputs() {
  if (!cfg.out.empty()) {
    const auto type = type_from_name(cfg.out_type);
    if (!type) return Status::error("unknown --out-type '" + cfg.out_type + "'");
    SF_RETURN_IF_ERROR(
        model->export_gguf(cfg.out, *type, kv_source.get()).with_context("exporting " + cfg.out));
    note("wrote " + cfg.out + (model->is_lora() ? " (base with the adapter merged)" : ""));
  }
  if (!cfg.adapter_out.empty()) {
    SF_ASSIGN_OR_RETURN(LoraAdapter a, model->adapter());
    std::error_code ec;
    fs::create_directories(cfg.adapter_out, ec);
    if (ec)
      return Status::error("cannot create adapter folder '" + cfg.adapter_out +
                           "': " + ec.message());
    const std::string g = (fs::path(cfg.adapter_out) / "adapter.gguf").string();
    SF_RETURN_IF_ERROR(save_lora_gguf(a, g));
    SF_RETURN_IF_ERROR(save_lora_peft(a, model->config(), cfg.init, cfg.adapter_out));
    note("wrote " + g + " and a PEFT adapter in " + cfg.adapter_out);
  }
  return {};
}

Result<TrainSummary> Trainer::run() {
  Impl& I = *impl_;
  const TrainConfig& c = I.cfg;
  TrainModel& mod = *I.model;
  I.segment_start = Clock::now();
  I.segment_first_step = I.step;
  const float scale = 1.0f / static_cast<float>(c.accum);
  const uint64_t tokens_per_step = static_cast<uint64_t>(c.batch) * c.seq * c.accum;
  TrainSummary sum;
  sum.last_loss = I.last_loss;
  while (I.step < c.steps) {
    const int t = I.step + 1;
    const auto t0 = Clock::now();
    mod.grads().zero();
    double loss = 0;
    for (int a = 0; a < c.accum; ++a) {
      I.train->next(I.tokens.data(), I.targets.data(), I.mask.data());
      auto l = mod.forward_backward(I.tokens.data(), I.targets.data(), I.mask.data(), c.batch,
                                    c.seq, scale, *I.pool);
      if (!l.ok()) return l.status().with_context("step " + std::to_string(t));
      loss += *l;
    }
    loss /= c.accum;
    const float norm = clip_grad_norm(mod.grads(), c.clip, *I.pool);
    if (!std::isfinite(loss) || !std::isfinite(norm))
      return errorf(
          "training diverged at step %d (loss %g, gradient norm %g); the parameters "
          "were not updated; hint: lower --lr (now %g) or lengthen --warmup, keep "
          "--clip on, and start again from the last checkpoint's settings",
          t, loss, double(norm), double(c.lr));
    const float lr = lr_at(t, c.warmup, c.steps, c.lr, c.min_lr);
    adamw_step(mod.layout(), mod.params(), mod.grads(), I.m, I.v, t, lr, I.adam, *I.pool);
    I.step = t;
    I.tokens_seen += tokens_per_step;
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();

    StepReport r;
    r.step = t;
    r.steps = c.steps;
    r.loss = static_cast<float>(loss);
    r.lr = lr;
    r.grad_norm = norm;
    r.tokens_per_s = dt > 0 ? tokens_per_step / dt : 0;
    r.elapsed_s = I.elapsed();
    const double seg = std::chrono::duration<double>(Clock::now() - I.segment_start).count();
    r.eta_s = seg / (t - I.segment_first_step) * (c.steps - t);
    r.tokens = I.tokens_seen;
    I.last_loss = r.loss;
    I.log_line({{"type", "train"},
                {"step", t},
                {"loss", num(r.loss)},
                {"lr", num(lr)},
                {"grad_norm", num(norm)},
                {"tokens_per_s", std::round(r.tokens_per_s)},
                {"elapsed_s", std::round(r.elapsed_s * 1000) / 1000},
                {"tokens", I.tokens_seen}});
    if (I.hooks.on_step) I.hooks.on_step(r);

    const bool last = t == c.steps;
    if (I.val && ((c.eval_every > 0 && t % c.eval_every == 0) || last)) {
      SF_ASSIGN_OR_RETURN(EvalReport e, I.evaluate());
      I.log_line({{"type", "eval"},
                  {"step", t},
                  {"val_loss", num(e.loss)},
                  {"val_ppl", num(e.ppl)},
                  {"batches", e.batches}});
      if (I.hooks.on_eval) I.hooks.on_eval(e);
      sum.last_eval = e;
    }
    if (c.sample_every > 0 && I.tok && (t % c.sample_every == 0 || last)) {
      SF_ASSIGN_OR_RETURN(std::string text, I.sample(c.sample_prompt, c.sample_tokens,
                                                     c.sample_temp, sample_seed(c.seed, t)));
      I.log_line({{"type", "sample"}, {"step", t}, {"prompt", c.sample_prompt}, {"text", text}});
      if (I.hooks.on_sample) I.hooks.on_sample(t, text);
    }
    if (c.ckpt_every > 0 && (t % c.ckpt_every == 0 || last)) SF_RETURN_IF_ERROR(I.checkpoint());
    if (!last && I.hooks.stop_requested && I.hooks.stop_requested()) {
      SF_RETURN_IF_ERROR(I.checkpoint());
      sum.step = I.step;
      sum.last_loss = I.last_loss;
      sum.interrupted = true;
      return sum;
    }
  }
  if (I.step == c.steps && I.val && !sum.last_eval) {
    // Resumed at the very end: still report where the model stands.
    SF_ASSIGN_OR_RETURN(EvalReport e, I.evaluate());
    sum.last_eval = e;
    if (I.hooks.on_eval) I.hooks.on_eval(e);
  }
  SF_RETURN_IF_ERROR(I.checkpoint());
  if (Status s = I.export_outputs(); !s.ok()) {
    if (c.ckpt_dir.empty()) return s;
    // The trained state is safe in the final checkpoint: only the export is redone.
    return Status::error(s.message() +
                         "\nhint: the trained model is checkpointed; export it with "
                         "'starfire train --resume --ckpt-dir " +
                         c.ckpt_dir + " -o OUT.gguf --out-type TYPE'");
  }
  sum.step = I.step;
  sum.last_loss = I.last_loss;
  return sum;
}

Result<EvalReport> Trainer::evaluate() {
  return impl_->evaluate();
}
Result<std::string> Trainer::sample(const std::string& prompt, int n, float temp, uint64_t seed) {
  return impl_->sample(prompt, n, temp, seed);
}
Status Trainer::save_checkpoint() {
  return impl_->checkpoint();
}
Status Trainer::export_outputs() {
  return impl_->export_outputs();
}
const TrainConfig& Trainer::config() const {
  return impl_->cfg;
}
TrainModel& Trainer::model() {
  return *impl_->model;
}
int Trainer::step() const {
  return impl_->step;
}
const Tokenizer* Trainer::tokenizer() const {
  return impl_->tok.get();
}
bool Trainer::has_val() const {
  return impl_->val != nullptr;
}

}  // namespace sf::train
