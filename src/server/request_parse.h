// Parsing and validation of OpenAI request bodies, separate from HTTP and from
// the model so it can be fuzzed (fuzz/fuzz_request.cpp) and tested alone.
//
// Every function takes the raw body and returns either the typed request or
// an ApiError (400) that names the field, the expected type or range, and the
// value received. Malformed JSON, invalid UTF-8, wrong types, out-of-range
// numbers, absurd sizes and nesting deeper than 64 levels are all refused.
// Unknown fields are ignored, as OpenAI's SDKs send optional ones freely.
// Checks that need the model (token ids, context length) happen later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_error.h"

namespace sf::server {

template <class T>
struct ApiResult {
  ApiResult(T v) : value(std::move(v)) {}         // NOLINT: implicit by design
  ApiResult(ApiError e) : error(std::move(e)) {}  // NOLINT
  bool ok() const { return value.has_value(); }
  std::optional<T> value;
  ApiError error;
};

struct ParseLimits {
  int max_n = 16;               // choices per request
  int max_tokens = 1 << 20;     // any larger max_tokens is refused outright
  size_t max_stop = 16;         // stop strings
  size_t max_stop_bytes = 256;  // per stop string
  size_t max_inputs = 256;      // prompts / embedding inputs per request
  size_t max_messages = 4096;
  size_t max_tools = 128;
};

// A prompt as text or as token ids.
struct PromptInput {
  bool is_ids = false;
  std::string text;
  std::vector<int32_t> ids;
};

struct CommonParams {
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int max_tokens = -1;         // -1: not given
  int n = 1;
  std::optional<int64_t> seed;
  float temperature = 1.0f;
  float top_p = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;
  std::vector<std::string> stop;
  // Extensions llama.cpp-style clients send; OpenAI's defaults leave them off.
  int top_k = 0;
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  bool ignore_eos = false;
};

enum class ResponseFormat { Text, JsonObject, JsonSchema };
enum class ToolChoice { Auto, None, Required, Named };

struct ChatRequest {
  CommonParams common;
  nlohmann::ordered_json messages;  // normalized for the chat template
  bool logprobs = false;
  int top_logprobs = 0;
  ResponseFormat format = ResponseFormat::Text;
  nlohmann::json schema;         // json_schema.schema
  nlohmann::ordered_json tools;  // null, or the request's tools array
  std::vector<std::string> tool_names;
  std::vector<nlohmann::json> tool_params;  // each tool's parameters schema
  ToolChoice tool_choice = ToolChoice::Auto;
  std::string tool_name;  // Named
};

struct CompletionRequest {
  CommonParams common;
  std::vector<PromptInput> prompts;
  bool echo = false;
  int logprobs = -1;  // -1: none; else the number of alternatives (0..20)
};

struct EmbeddingRequest {
  std::string model;
  std::vector<PromptInput> inputs;
  bool base64 = false;  // encoding_format
};

struct TokenizeRequest {
  std::string content;
  bool add_special = true;
  bool with_pieces = false;
};

struct DetokenizeRequest {
  std::vector<int32_t> tokens;
};

// Parses JSON, refusing nesting deeper than 64 and anything but an object.
ApiResult<nlohmann::json> parse_json_object(std::string_view body);

ApiResult<ChatRequest> parse_chat_request(std::string_view body, const ParseLimits& lim = {});
ApiResult<CompletionRequest> parse_completion_request(std::string_view body,
                                                      const ParseLimits& lim = {});
ApiResult<EmbeddingRequest> parse_embedding_request(std::string_view body,
                                                    const ParseLimits& lim = {});
ApiResult<TokenizeRequest> parse_tokenize_request(std::string_view body);
ApiResult<DetokenizeRequest> parse_detokenize_request(std::string_view body);

}  // namespace sf::server
