// The generation loop: feed the prompt, then sample, stream and feed one token
// at a time until end-of-generation, the token limit or the context's end.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "runtime/sampler.h"
#include "runtime/session.h"

namespace sf {

struct GenerateOptions {
  int n_predict = 128;        // < 0: until end-of-generation or the context is full
  bool stop_at_eog = true;    // stop at the tokenizer's end-of-generation tokens
  bool reuse_prefix = false;  // keep the cached prefix the session shares with the prompt
};

struct GenerateStats {
  int n_prompt = 0;
  int n_generated = 0;
  double prompt_seconds = 0;
  double gen_seconds = 0;   // time for the tokens after the first prompt pass
  std::string stop_reason;  // "eog", "length", "context", "callback"
};

// on_token returns false to stop early.
Result<GenerateStats> generate(Session& session, std::span<const int32_t> prompt, Sampler& sampler,
                               const GenerateOptions& opts,
                               const std::function<bool(int32_t)>& on_token);

}  // namespace sf
