#include "runtime/session.h"

#include <algorithm>
#include <cstring>

namespace sf {
namespace {

int context_for(const Model& m, int requested) {
  if (requested > 0) return requested;
  return std::min(m.config().n_ctx_train, 4096);
}

}  // namespace

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& opts)
    : model_(std::move(model)),
      lora_(opts.lora),
      pool_(opts.n_threads),
      cache_(model_->config(), context_for(*model_, opts.n_ctx), 1),
      scratch_(*model_, std::max(1, std::min(opts.n_batch, cache_.n_ctx())), pool_.size()),
      n_batch_(std::max(1, std::min(opts.n_batch, cache_.n_ctx()))) {
  const size_t vocab = static_cast<size_t>(model_->config().n_vocab);
  // One row is enough unless every position's logits are asked for (feed()
  // grows it then): a full n_batch x vocab buffer is 300 MB for Qwen's vocab.
  logits_buf_.resize(vocab);
  last_logits_.resize(vocab);
  scratch_.lora = lora_.get();
}

Status Session::feed(std::span<const int32_t> ids, std::vector<float>* all_logits) {
  if (ids.empty()) return {};
  if (n_past_ + static_cast<int64_t>(ids.size()) > cache_.n_ctx())
    return errorf(
        "%d tokens in context plus %zu new ones exceed the context size %d "
        "(raise -c / --ctx-size, or shorten the prompt)",
        n_past_, ids.size(), cache_.n_ctx());
  const size_t vocab = static_cast<size_t>(model_->config().n_vocab);
  if (all_logits) all_logits->resize(ids.size() * vocab);
  for (size_t start = 0; start < ids.size(); start += n_batch_) {
    const size_t n = std::min<size_t>(n_batch_, ids.size() - start);
    batch_.clear();
    for (size_t i = 0; i < n; ++i)
      batch_.add(ids[start + i], n_past_ + static_cast<int>(i), 0,
                 all_logits != nullptr || start + i + 1 == ids.size());
    if (logits_buf_.size() < static_cast<size_t>(batch_.n_logits()) * vocab)
      logits_buf_.resize(static_cast<size_t>(batch_.n_logits()) * vocab);
    SF_RETURN_IF_ERROR(forward(*model_, batch_, cache_, scratch_, pool_, logits_buf_.data()));
    const size_t n_out = static_cast<size_t>(batch_.n_logits());
    if (all_logits)
      std::memcpy(all_logits->data() + start * vocab, logits_buf_.data(), n_out * vocab * 4);
    if (start + n == ids.size())
      std::memcpy(last_logits_.data(), logits_buf_.data() + (n_out - 1) * vocab, vocab * 4);
    n_past_ += static_cast<int>(n);
    tokens_.insert(tokens_.end(), ids.begin() + start, ids.begin() + start + n);
  }
  return {};
}

Result<int> Session::feed_reusing_prefix(std::span<const int32_t> ids) {
  size_t common = 0;
  while (common < ids.size() && common < tokens_.size() && ids[common] == tokens_[common]) ++common;
  // At least the last token is recomputed so last_logits() belongs to `ids`.
  if (common == ids.size() && common > 0) --common;
  truncate(static_cast<int>(common));
  SF_RETURN_IF_ERROR(feed(ids.subspan(common)));
  return static_cast<int>(ids.size() - common);
}

}  // namespace sf
