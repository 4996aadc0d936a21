#include "tokenizer/jinja/stack_guard.h"

#include <pthread.h>

#include <cstddef>

namespace sf::jinja {

namespace {

// Headroom kept free for unchecked recursion below a guarded frame (value
// printing and comparison recurse up to 256 levels) and for library calls.
constexpr uintptr_t kMargin = 512 * 1024;

uintptr_t stack_bottom() {
  // Stack bounds never change for a thread; look them up once per thread
  // (for the main thread glibc reads /proc/self/maps).
  thread_local const uintptr_t bottom = [] {
    uintptr_t b = 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* addr = nullptr;
      size_t size = 0;
      if (pthread_attr_getstack(&attr, &addr, &size) == 0) b = reinterpret_cast<uintptr_t>(addr);
      pthread_attr_destroy(&attr);
    }
    return b;
  }();
  return bottom;
}

}  // namespace

StackGuard::StackGuard() {
  const uintptr_t bottom = stack_bottom();
  const uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (bottom == 0 || here <= bottom) return;
  // With less than 2x the margin available, still keep half of what is left.
  const uintptr_t avail = here - bottom;
  limit_ = bottom + (avail > 2 * kMargin ? kMargin : avail / 2);
}

}  // namespace sf::jinja
