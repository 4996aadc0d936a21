// Safety net against native stack exhaustion in the recursive parser and
// evaluator. The nesting limits (max_nesting, max_depth) already bound
// recursion, but how much stack a frame takes depends on the build (ASan
// frames are ~8x larger) and callers may render on threads with small
// stacks; so we also check the real headroom left on the current thread.
#pragma once

#include <cstdint>

namespace sf::jinja {

class StackGuard {
 public:
  // Records the lowest address the current thread's stack may safely reach
  // (its bottom plus a margin for code that recurses without checking).
  StackGuard();
  // True when the caller is close to the end of the stack.
  bool exhausted() const {
    return limit_ != 0 && reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) < limit_;
  }

 private:
  uintptr_t limit_ = 0;  // 0: unknown, no check
};

}  // namespace sf::jinja
