// Errors as OpenAI sends them: an HTTP status and
// {"error": {"message", "type", "param", "code"}}. Handlers return these as
// values; nothing in the server layer throws.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sf::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the offending field, "" if none
  std::string code;   // machine-readable reason, "" if none

  nlohmann::json body() const {
    nlohmann::json e;
    e["message"] = message;
    e["type"] = type;
    e["param"] = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
    e["code"] = code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code);
    return {{"error", e}};
  }
};

inline ApiError bad_request(std::string message, std::string param = {}, std::string code = {}) {
  return {400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

}  // namespace sf::server
