// Tool calls read back from generated text into OpenAI's `tool_calls`.
//
// Recognized forms (what chat templates teach models, plus what forced tool
// choice generates):
//   <tool_call>{"name": ..., "arguments": {...}}</tool_call>  (Qwen, Hermes; repeated)
//   {"name": ..., "arguments"|"parameters": {...}}          (Llama 3.x, forced choice)
//   [{"name": ..., "arguments": {...}}, ...]                (several at once)
// Only names among the request's tools count; anything else stays content.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sf::server {

struct ToolCall {
  std::string id;  // "call_<random>"
  std::string name;
  std::string arguments;  // JSON text, as OpenAI sends it
};

struct ParsedToolCalls {
  std::string content;  // text outside the calls (trimmed); empty if none
  std::vector<ToolCall> calls;
};

// nullopt when the text holds no recognizable call to one of `names`.
std::optional<ParsedToolCalls> parse_tool_calls(std::string_view text,
                                                const std::vector<std::string>& names);

// True while `text` (so far) could still be the start of a tool call, so a
// stream should hold it back rather than send it as content.
bool may_start_tool_call(std::string_view text);

}  // namespace sf::server
