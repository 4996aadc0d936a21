// Log-probabilities from one logits row, as OpenAI reports them: log-softmax of
// the raw logits (before temperature, penalties or any other sampling stage).
#pragma once

#include <cstdint>
#include <span>

#include "runtime/request.h"

namespace sf {

// log(sum(exp(row))), computed stably.
double log_sum_exp(std::span<const float> row);

// The logprob of `id` and the `top_n` most likely tokens (highest first, ties
// to the lower id). top_n <= 0: none.
TokenLogprob token_logprob(std::span<const float> row, int32_t id, int top_n);

}  // namespace sf
