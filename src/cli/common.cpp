#include "cli/common.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tokenizer/tokenizer.h"

namespace sf::cli {

// The default model the README's main command runs on, relative to the working directory.
static constexpr const char* kDefaultModel = "models/default.gguf";

std::vector<Flag> model_flags() {
  return {
      {"--model", "-m", "PATH", "GGUF file, Hugging Face folder, or stored model (org/name[:file])",
       kDefaultModel},
      {"--threads", "-t", "N", "threads (0: all cores)", "0"},
      {"--ctx-size", "-c", "N", "context size in tokens (0: model's, capped at 4096)", "0"},
      {"--batch-size", "-b", "N", "prompt tokens per forward pass", "512"},
  };
}

std::vector<Flag> prompt_flags() {
  return {
      {"--prompt", "-p", "TEXT", "prompt text", ""},
      {"--file", "-f", "PATH", "read the prompt from a file", ""},
      {"--prompt-ids", "", "IDS", "prompt as token ids, e.g. 1,450,4996 (no tokenizer needed)", ""},
      {"--no-bos", "", "", "do not add BOS even if the model asks for it", ""},
  };
}

std::vector<Flag> sampling_flags() {
  return {
      {"--temp", "", "T", "temperature (0: greedy)", "0.8"},
      {"--top-k", "", "K", "top-k (0: off)", "40"},
      {"--top-p", "", "P", "top-p / nucleus (1: off)", "0.95"},
      {"--min-p", "", "P", "min-p (0: off)", "0.05"},
      {"--repeat-penalty", "", "R", "repetition penalty (1: off)", "1.0"},
      {"--repeat-last-n", "", "N", "tokens the penalties look back over", "64"},
      {"--frequency-penalty", "", "F", "OpenAI-style frequency penalty", "0"},
      {"--presence-penalty", "", "F", "OpenAI-style presence penalty", "0"},
      {"--seed", "-s", "S", "random seed", "42"},
  };
}

std::vector<std::string> default_model_candidates() {
  std::vector<std::string> out = {kDefaultModel};
  // Relative to the binary, so the shipped model is found from any working
  // directory: a checkout's build/<preset>/starfire or build-x/starfire, and
  // <prefix>/bin/starfire after `cmake --install` (share/starfire/).
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path dir = exe.parent_path();
    for (const char* rel :
         {"../../models/default.gguf", "../models/default.gguf", "../share/starfire/default.gguf"})
      out.push_back((dir / rel).lexically_normal().string());
  }
  return out;
}

Result<std::shared_ptr<const Model>> load_model(const Args& args) {
  if (!args.has("--model")) {
    if (const char* env = std::getenv("STARFIRE_MODEL"); env && *env) return Model::load(env);
    std::string tried;
    for (const std::string& p : default_model_candidates()) {
      if (std::filesystem::is_regular_file(p)) return Model::load(p);
      tried += (tried.empty() ? "" : ", ") + p;
    }
    return errorf(
        "no model given and the default model is not in %s; pass -m MODEL.gguf "
        "(or set STARFIRE_MODEL)",
        tried.c_str());
  }
  // A GGUF file, a Hugging Face folder, or a stored model's name (org/name[:file]).
  return Model::load(args.str("--model"));
}

Flag lora_flag() {
  return {"--lora", "", "FILE[:SCALE]",
          "LoRA adapter (GGUF or PEFT folder), optionally scaled; repeat for several", ""};
}

Result<std::pair<std::string, float>> parse_lora_spec(const std::string& spec) {
  if (spec.empty()) return Status::error("--lora needs a file: --lora adapter.gguf[:SCALE]");
  const size_t colon = spec.rfind(':');
  if (std::filesystem::exists(spec) || colon == std::string::npos || colon == 0)
    return std::pair<std::string, float>(spec, 1.0f);
  const std::string num = spec.substr(colon + 1);
  char* end = nullptr;
  const double x = std::strtod(num.c_str(), &end);
  if (num.empty() || *end != '\0' || !std::isfinite(x))
    return errorf("--lora %s: '%s' is not a scale (expected FILE or FILE:SCALE, e.g. a.gguf:0.5)",
                  spec.c_str(), num.c_str());
  return std::pair<std::string, float>(spec.substr(0, colon), static_cast<float>(x));
}

Result<LoraAdapter> read_lora(const std::string& path, const ModelConfig& cfg) {
  if (std::filesystem::is_directory(path)) return load_lora_peft(path, cfg);
  if (!std::filesystem::exists(path)) return errorf("LoRA adapter %s does not exist", path.c_str());
  return load_lora_gguf(path);
}

Result<std::vector<LoraAdapter>> read_loras(const Args& args, const Model& model) {
  std::vector<LoraAdapter> out;
  for (const std::string& spec : args.all("--lora")) {
    SF_ASSIGN_OR_RETURN(auto ps, parse_lora_spec(spec));
    SF_ASSIGN_OR_RETURN(LoraAdapter a, read_lora(ps.first, model.config()));
    a.scale = ps.second;
    SF_RETURN_IF_ERROR(validate_lora(a, model.config()).with_context(ps.first));
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::shared_ptr<const LoraSet>> load_loras(const Args& args, const Model& model) {
  if (!args.has("--lora")) return std::shared_ptr<const LoraSet>();
  SF_ASSIGN_OR_RETURN(auto adapters, read_loras(args, model));
  return LoraSet::create(model, adapters);
}

Result<std::vector<int32_t>> prompt_ids(const Args& args, const Model& model) {
  if (args.has("--prompt-ids")) {
    if (args.has("--prompt") || args.has("--file"))
      return Status::error("give either --prompt-ids or a text prompt (-p/-f), not both");
    return parse_id_list(args.str("--prompt-ids"));
  }
  std::string text = args.str("--prompt");
  if (args.has("--file")) {
    std::ifstream f(args.str("--file"), std::ios::binary);
    if (!f) return errorf("cannot read prompt file '%s'", args.str("--file").c_str());
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  const Tokenizer* tok = model.tokenizer();
  if (!tok)
    return errorf("%s has no usable tokenizer (%s); use --prompt-ids", model.source_path().c_str(),
                  model.tokenizer_error().c_str());
  std::vector<int32_t> ids = tok->encode(text, !args.has("--no-bos"), true);
  if (ids.empty())
    return Status::error("the prompt is empty and the model adds no BOS token; give a prompt");
  return ids;
}

Result<SamplerParams> sampler_params(const Args& args) {
  SamplerParams p;
  SF_ASSIGN_OR_RETURN(double temp, args.number("--temp"));
  SF_ASSIGN_OR_RETURN(p.top_k, args.integer("--top-k"));
  SF_ASSIGN_OR_RETURN(double top_p, args.number("--top-p"));
  SF_ASSIGN_OR_RETURN(double min_p, args.number("--min-p"));
  SF_ASSIGN_OR_RETURN(double rp, args.number("--repeat-penalty"));
  SF_ASSIGN_OR_RETURN(p.penalty_last_n, args.integer("--repeat-last-n"));
  SF_ASSIGN_OR_RETURN(double fp, args.number("--frequency-penalty"));
  SF_ASSIGN_OR_RETURN(double pp, args.number("--presence-penalty"));
  SF_ASSIGN_OR_RETURN(double seed, args.number("--seed"));
  p.temperature = static_cast<float>(temp);
  p.top_p = static_cast<float>(top_p);
  p.min_p = static_cast<float>(min_p);
  p.repeat_penalty = static_cast<float>(rp);
  p.frequency_penalty = static_cast<float>(fp);
  p.presence_penalty = static_cast<float>(pp);
  p.seed = static_cast<uint64_t>(seed);
  SF_RETURN_IF_ERROR(Sampler::validate(p));
  return p;
}

std::string float_str(float x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

}  // namespace sf::cli
