#include "core/status.h"

#include <cstdarg>
#include <vector>

namespace sf {

Status errorf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, ap2);
  va_end(ap2);
  return Status::error(std::move(s));
}

void check_failed(const char* file, int line, const char* cond, const char* msg) {
  std::fprintf(stderr, "starfire: internal check failed at %s:%d: %s (%s)\n", file, line, cond,
               msg);
  std::abort();
}

}  // namespace sf
