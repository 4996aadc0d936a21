#include "server/tool_calls.h"

#include <nlohmann/json.hpp>

#include <cctype>

#include "server/ids.h"

namespace sf::server {
namespace {

using nlohmann::json;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool known(const std::vector<std::string>& names, const std::string& n) {
  for (const auto& x : names)
    if (x == n) return true;
  return false;
}

// {"name", "arguments"|"parameters"} → a call, if the name is a tool.
std::optional<ToolCall> call_from(const json& j, const std::vector<std::string>& names) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  ToolCall c;
  c.name = j["name"].get<std::string>();
  if (!known(names, c.name)) return std::nullopt;
  const json* args = nullptr;
  if (j.contains("arguments"))
    args = &j["arguments"];
  else if (j.contains("parameters"))
    args = &j["parameters"];
  if (!args || args->is_null())
    c.arguments = "{}";
  else if (args->is_string())
    c.arguments = args->get<std::string>();
  else
    c.arguments = args->dump(-1, ' ', false, json::error_handler_t::replace);
  c.id = random_id("call_");
  return c;
}

std::optional<std::vector<ToolCall>> calls_from_json(std::string_view text,
                                                     const std::vector<std::string>& names) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  std::vector<ToolCall> out;
  if (j.is_array()) {
    for (const auto& e : j) {
      auto c = call_from(e, names);
      if (!c) return std::nullopt;
      out.push_back(std::move(*c));
    }
  } else if (auto c = call_from(j, names)) {
    out.push_back(std::move(*c));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<ParsedToolCalls> parse_tool_calls(std::string_view text,
                                                const std::vector<std::string>& names) {
  static constexpr std::string_view kOpen = "<tool_call>", kClose = "</tool_call>";
  ParsedToolCalls p;
  if (text.find(kOpen) != std::string_view::npos) {
    std::string content;
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t a = text.find(kOpen, pos);
      if (a == std::string_view::npos) {
        content += text.substr(pos);
        break;
      }
      content += text.substr(pos, a - pos);
      const size_t body = a + kOpen.size();
      size_t b = text.find(kClose, body);
      const bool closed = b != std::string_view::npos;
      if (!closed) b = text.size();  // generation may stop right before the closing tag
      auto calls = calls_from_json(trim(text.substr(body, b - body)), names);
      if (!calls) return std::nullopt;
      for (auto& c : *calls) p.calls.push_back(std::move(c));
      pos = closed ? b + kClose.size() : text.size();
    }
    p.content = std::string(trim(content));
    return p;
  }
  auto calls = calls_from_json(trim(text), names);
  if (!calls) return std::nullopt;
  p.calls = std::move(*calls);
  return p;
}

bool may_start_tool_call(std::string_view text) {
  static constexpr std::string_view kOpen = "<tool_call>";
  const std::string_view t = trim(text);
  if (t.empty()) return true;
  if (t.front() == '{' || t.front() == '[') return true;
  if (t.size() <= kOpen.size()) return kOpen.substr(0, t.size()) == t;
  return t.substr(0, kOpen.size()) == kOpen;
}

}  // namespace sf::server
