#include "runtime/generate.h"

#include <chrono>

#include "tokenizer/tokenizer.h"

namespace sf {

Result<GenerateStats> generate(Session& session, std::span<const int32_t> prompt, Sampler& sampler,
                               const GenerateOptions& opts,
                               const std::function<bool(int32_t)>& on_token) {
  using clock = std::chrono::steady_clock;
  GenerateStats st;
  if (prompt.empty())
    return Status::error("generate: empty prompt (a model needs at least one token, e.g. BOS)");
  const Tokenizer* tok = session.model().tokenizer();
  for (int32_t id : prompt) sampler.accept(id);

  auto t0 = clock::now();
  // n_prompt counts the prompt tokens actually processed (a reused prefix costs nothing).
  if (opts.reuse_prefix) {
    SF_ASSIGN_OR_RETURN(st.n_prompt, session.feed_reusing_prefix(prompt));
  } else {
    session.truncate(0);
    SF_RETURN_IF_ERROR(session.feed(prompt));
    st.n_prompt = static_cast<int>(prompt.size());
  }
  auto t1 = clock::now();
  st.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();

  for (;;) {
    if (opts.n_predict >= 0 && st.n_generated >= opts.n_predict) {
      st.stop_reason = "length";
      break;
    }
    SF_ASSIGN_OR_RETURN(int32_t id, sampler.sample(session.last_logits()));
    sampler.accept(id);
    ++st.n_generated;
    if (opts.stop_at_eog && tok && tok->is_eog(id)) {
      st.stop_reason = "eog";
      break;
    }
    if (!on_token(id)) {
      st.stop_reason = "callback";
      break;
    }
    if (session.n_past() >= session.n_ctx()) {
      st.stop_reason = "context";
      break;
    }
    const int32_t one[1] = {id};
    SF_RETURN_IF_ERROR(session.feed(one));
  }
  st.gen_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return st;
}

}  // namespace sf
