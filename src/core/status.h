// Errors as values at I/O, parse and request boundaries.
//
// Status carries an error message (or nothing when ok); Result<T> carries a
// value or the Status that explains why there is none. Messages name the file,
// the thing that was wrong, expected vs actual, and a hint where one helps.
// Broken internal invariants are not errors but bugs: SF_CHECK aborts.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace sf {

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status error(std::string message) {
    Status s;
    s.message_ = std::move(message);
    s.ok_ = false;
    return s;
  }
  bool ok() const { return ok_; }
  const std::string& message() const { return message_; }
  // Prefixes context ("loading model.gguf: ") to an error; ok stays ok.
  Status with_context(const std::string& ctx) const {
    return ok_ ? *this : error(ctx + ": " + message_);
  }

 private:
  bool ok_ = true;
  std::string message_;
};

// printf-style error constructor.
[[gnu::format(printf, 1, 2)]] Status errorf(const char* fmt, ...);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).ok()) std::abort();  // a Result error must be an error
  }
  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void check_failed(const char* file, int line, const char* cond, const char* msg);

}  // namespace sf

// Returns the error of a Status-returning expression from the enclosing function.
#define SF_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::sf::Status sf_status_ = (expr);        \
    if (!sf_status_.ok()) return sf_status_; \
  } while (0)

#define SF_CONCAT_INNER(a, b) a##b
#define SF_CONCAT(a, b) SF_CONCAT_INNER(a, b)
// `SF_ASSIGN_OR_RETURN(auto x, make());` unwraps a Result or returns its error.
#define SF_ASSIGN_OR_RETURN(lhs, expr)                                                        \
  auto SF_CONCAT(sf_result_, __LINE__) = (expr);                                              \
  if (!SF_CONCAT(sf_result_, __LINE__).ok()) return SF_CONCAT(sf_result_, __LINE__).status(); \
  lhs = std::move(SF_CONCAT(sf_result_, __LINE__)).value()

// Always-on invariant check (not for input validation: that returns a Status).
#define SF_CHECK(cond, msg) ((cond) ? (void)0 : ::sf::check_failed(__FILE__, __LINE__, #cond, msg))
