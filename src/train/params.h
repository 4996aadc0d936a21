// Trainable tensors in one contiguous buffer with named views (llm.c style):
// parameters, gradients and each optimizer moment are flat arrays of the same
// layout, so the optimizer is one loop and a checkpoint is a few memcpys.
//
// Tensor names are the GGUF names the engine loads ("token_embd.weight",
// "blk.3.attn_q.weight", "blk.3.attn_q.weight.lora_a", ...), so export needs
// no renaming. Shapes are {rows, cols} for matrices (rows = output features,
// row-major as GGUF stores them) and {n} for vectors.
// T is float for training and double for finite-difference gradient checks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace sf::train {

struct ParamTensor {
  std::string name;
  std::vector<int64_t> shape;
  size_t offset = 0;  // into the flat buffer, in elements
  size_t size = 0;    // elements
  bool decay = true;  // AdamW weight decay applies (false for norms, biases)
  int64_t rows() const { return shape.size() == 2 ? shape[0] : 1; }
  int64_t cols() const { return shape.empty() ? 0 : shape.back(); }
};

// The layout: names, shapes and offsets, shared by params/grads/moments.
class ParamLayout {
 public:
  // Appends a tensor; offsets are assigned in order (each aligned to 16
  // elements so every view starts on a 64-byte boundary). Returns its index.
  int add(const std::string& name, std::vector<int64_t> shape, bool decay) {
    ParamTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.size = 1;
    for (int64_t d : t.shape) t.size *= static_cast<size_t>(d);
    t.offset = total_;
    t.decay = decay;
    total_ += (t.size + 15) / 16 * 16;
    index_[name] = static_cast<int>(tensors_.size());
    tensors_.push_back(std::move(t));
    return static_cast<int>(tensors_.size()) - 1;
  }
  const std::vector<ParamTensor>& tensors() const { return tensors_; }
  const ParamTensor& operator[](int i) const { return tensors_[i]; }
  // -1 when absent.
  int find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? -1 : it->second;
  }
  size_t total() const { return total_; }  // buffer length in elements, padding included
  size_t count() const {                   // parameters, padding excluded
    size_t n = 0;
    for (const auto& t : tensors_) n += t.size;
    return n;
  }

 private:
  std::vector<ParamTensor> tensors_;
  std::unordered_map<std::string, int> index_;
  size_t total_ = 0;
};

// One flat buffer laid out by a ParamLayout (padding stays zero).
template <typename T>
struct ParamBuffer {
  std::vector<T> data;
  void allocate(const ParamLayout& layout) { data.assign(layout.total(), T(0)); }
  T* view(const ParamLayout& layout, int i) { return data.data() + layout[i].offset; }
  const T* view(const ParamLayout& layout, int i) const { return data.data() + layout[i].offset; }
  void zero() { std::fill(data.begin(), data.end(), T(0)); }
};

}  // namespace sf::train
