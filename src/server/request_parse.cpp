#include "server/request_parse.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace sf::server {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

constexpr int kMaxDepth = 64;

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    default:
      return "an invalid value";
  }
}

ApiError type_error(const std::string& param, const char* expected, const json& got) {
  return bad_request("'" + param + "' must be " + expected + ", got " + type_name(got), param,
                     "invalid_type");
}

ApiError range_error(const std::string& param, const std::string& range, double got) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", got);
  return bad_request("'" + param + "' must be " + range + ", got " + buf, param, "invalid_value");
}

// Reads optional fields of one JSON object; the first problem wins and later
// reads become no-ops, so parsing code stays linear.
class Reader {
 public:
  explicit Reader(const json& j) : j_(j) {}
  std::optional<ApiError> error;

  const json* get(const char* key) {
    if (error) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void number(const char* key, float& out, double lo, double hi) {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_number()) return fail(type_error(key, "a number", *v));
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi) {
      char r[96];
      std::snprintf(r, sizeof r, "between %g and %g", lo, hi);
      return fail(range_error(key, r, d));
    }
    out = static_cast<float>(d);
  }
  void integer(const char* key, int& out, int64_t lo, int64_t hi) {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_number_integer() && !(v->is_number_float() && std::isfinite(v->get<double>()) &&
                                     v->get<double>() == std::floor(v->get<double>())))
      return fail(type_error(key, "an integer", *v));
    const double d = v->get<double>();
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
      return fail(
          range_error(key, "between " + std::to_string(lo) + " and " + std::to_string(hi), d));
    }
    out = static_cast<int>(d);
  }
  void boolean(const char* key, bool& out) {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_boolean()) return fail(type_error(key, "a boolean", *v));
    out = v->get<bool>();
  }
  void string(const char* key, std::string& out) {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_string()) return fail(type_error(key, "a string", *v));
    out = v->get<std::string>();
  }
  void fail(ApiError e) {
    if (!error) error = std::move(e);
  }

 private:
  const json& j_;
};

// Nesting depth of a JSON text, counted without parsing (so a hostile
// "[[[[..." cannot exhaust the stack of a recursive parser or destructor).
bool too_deep(std::string_view s) {
  int depth = 0;
  bool in_str = false, esc = false;
  for (char c : s) {
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == '"')
      in_str = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

void read_common(Reader& r, const json& j, CommonParams& c, const ParseLimits& lim,
                 bool completions) {
  r.string("model", c.model);
  r.boolean("stream", c.stream);
  if (const json* so = r.get("stream_options")) {
    if (!so->is_object()) return r.fail(type_error("stream_options", "an object", *so));
    if (!c.stream)
      return r.fail(
          bad_request("'stream_options' is only allowed when 'stream' is true", "stream_options"));
    Reader sr(*so);
    sr.boolean("include_usage", c.include_usage);
    if (sr.error) {
      sr.error->param = "stream_options." + sr.error->param;
      return r.fail(*sr.error);
    }
  }
  // max_completion_tokens is the newer name; both are accepted, the newer wins.
  r.integer("max_tokens", c.max_tokens, completions ? 0 : 1, lim.max_tokens);
  r.integer("max_completion_tokens", c.max_tokens, completions ? 0 : 1, lim.max_tokens);
  r.integer("n", c.n, 1, lim.max_n);
  if (const json* s = r.get("seed")) {
    if (!s->is_number_integer()) return r.fail(type_error("seed", "an integer", *s));
    c.seed = s->is_number_unsigned() ? static_cast<int64_t>(s->get<uint64_t>()) : s->get<int64_t>();
  }
  r.number("temperature", c.temperature, 0.0, 2.0);
  r.number("top_p", c.top_p, 0.0, 1.0);
  r.number("frequency_penalty", c.frequency_penalty, -2.0, 2.0);
  r.number("presence_penalty", c.presence_penalty, -2.0, 2.0);
  r.integer("top_k", c.top_k, 0, 1 << 20);
  r.number("min_p", c.min_p, 0.0, 1.0);
  r.number("repetition_penalty", c.repetition_penalty, 0.01, 10.0);
  r.boolean("ignore_eos", c.ignore_eos);
  if (const json* lb = r.get("logit_bias")) {
    if (!lb->is_object()) return r.fail(type_error("logit_bias", "an object", *lb));
    if (lb->size() > 1024)
      return r.fail(bad_request("'logit_bias' has more than 1024 entries", "logit_bias"));
    for (auto it = lb->begin(); it != lb->end(); ++it) {
      const std::string& k = it.key();
      char* end = nullptr;
      const long id = std::strtol(k.c_str(), &end, 10);
      if (k.empty() || *end != '\0' || id < 0 || id > std::numeric_limits<int32_t>::max())
        return r.fail(bad_request("'logit_bias' keys must be token ids, got '" + k + "'",
                                  "logit_bias", "invalid_value"));
      if (!it->is_number()) return r.fail(type_error("logit_bias." + k, "a number", *it));
      const double b = it->get<double>();
      if (!std::isfinite(b) || b < -100 || b > 100)
        return r.fail(range_error("logit_bias." + k, "between -100 and 100", b));
      // OpenAI: -100 effectively bans the token.
      c.logit_bias.push_back(
          {static_cast<int32_t>(id),
           b <= -100 ? -std::numeric_limits<float>::infinity() : static_cast<float>(b)});
    }
  }
  if (const json* st = r.get("stop")) {
    std::vector<const json*> items;
    if (st->is_string()) {
      items.push_back(st);
    } else if (st->is_array()) {
      for (const auto& e : *st) items.push_back(&e);
    } else {
      return r.fail(type_error("stop", "a string or an array of strings", *st));
    }
    if (items.size() > lim.max_stop)
      return r.fail(
          bad_request("'stop' has more than " + std::to_string(lim.max_stop) + " entries", "stop"));
    for (const json* e : items) {
      if (!e->is_string()) return r.fail(type_error("stop", "a string or an array of strings", *e));
      std::string s = e->get<std::string>();
      if (s.size() > lim.max_stop_bytes)
        return r.fail(bad_request(
            "a 'stop' string is longer than " + std::to_string(lim.max_stop_bytes) + " bytes",
            "stop"));
      if (!s.empty()) c.stop.push_back(std::move(s));
    }
  }
  (void)j;
}

// A prompt: a string, an array of strings, an array of token ids, or an array
// of arrays of token ids.
std::optional<ApiError> read_prompts(const json& v, const char* param, size_t max_inputs,
                                     std::vector<PromptInput>& out) {
  auto ids_of = [&](const json& a, PromptInput& p) -> std::optional<ApiError> {
    p.is_ids = true;
    for (const auto& t : a) {
      if (!t.is_number_integer())
        return bad_request(std::string("'") + param + "' token ids must be integers", param,
                           "invalid_type");
      const int64_t id = t.get<int64_t>();
      if (id < 0 || id > std::numeric_limits<int32_t>::max())
        return bad_request(
            std::string("'") + param + "' has an invalid token id " + std::to_string(id), param,
            "invalid_value");
      p.ids.push_back(static_cast<int32_t>(id));
    }
    return std::nullopt;
  };
  if (v.is_string()) {
    out.push_back({false, v.get<std::string>(), {}});
    return std::nullopt;
  }
  if (!v.is_array() || v.empty())
    return bad_request(std::string("'") + param +
                           "' must be a string, an array of strings, or an array of token ids "
                           "(or of such arrays), and not empty",
                       param, "invalid_type");
  if (v[0].is_number()) {
    PromptInput p;
    if (auto e = ids_of(v, p)) return e;
    out.push_back(std::move(p));
    return std::nullopt;
  }
  if (v.size() > max_inputs)
    return bad_request(
        std::string("'") + param + "' has more than " + std::to_string(max_inputs) + " entries",
        param);
  for (const auto& e : v) {
    if (e.is_string()) {
      out.push_back({false, e.get<std::string>(), {}});
    } else if (e.is_array() && !e.empty()) {
      PromptInput p;
      if (auto err = ids_of(e, p)) return err;
      out.push_back(std::move(p));
    } else {
      return bad_request(
          std::string("'") + param + "' entries must be strings or non-empty arrays of token ids",
          param, "invalid_type");
    }
  }
  return std::nullopt;
}

// Message content: a string, null, or an array of {type: "text", text} parts
// (joined; other part types are refused: this server has no vision input).
std::optional<ApiError> read_content(const json& m, const std::string& param, ojson& out) {
  auto it = m.find("content");
  if (it == m.end() || it->is_null()) {
    out = nullptr;
    return std::nullopt;
  }
  if (it->is_string()) {
    out = it->get<std::string>();
    return std::nullopt;
  }
  if (!it->is_array())
    return type_error(param + ".content", "a string or an array of content parts", *it);
  std::string text;
  for (const auto& part : *it) {
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      return bad_request("'" + param + ".content' parts must be objects with a 'type'",
                         param + ".content", "invalid_type");
    const std::string type = part["type"].get<std::string>();
    if (type != "text")
      return bad_request(
          "content part type '" + type + "' is not supported (this model takes text only)",
          param + ".content", "unsupported_content");
    if (!part.contains("text") || !part["text"].is_string())
      return bad_request("'" + param + ".content' text parts need a string 'text'",
                         param + ".content", "invalid_type");
    if (!text.empty()) text += "\n";
    text += part["text"].get<std::string>();
  }
  out = text;
  return std::nullopt;
}

std::optional<ApiError> read_messages(const json& v, const ParseLimits& lim, ojson& out) {
  if (!v.is_array()) return type_error("messages", "an array", v);
  if (v.empty()) return bad_request("'messages' must not be empty", "messages");
  if (v.size() > lim.max_messages)
    return bad_request("'messages' has more than " + std::to_string(lim.max_messages) + " entries",
                       "messages");
  out = ojson::array();
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string p = "messages[" + std::to_string(i) + "]";
    const json& m = v[i];
    if (!m.is_object()) return type_error(p, "an object", m);
    if (!m.contains("role") || !m["role"].is_string())
      return bad_request("'" + p + ".role' is required and must be a string", p + ".role",
                         "invalid_type");
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";  // the newer name for the same thing
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      return bad_request("'" + p +
                             ".role' must be one of system, developer, user, assistant, "
                             "tool; got '" +
                             role + "'",
                         p + ".role", "invalid_value");
    ojson msg = ojson::object();
    msg["role"] = role;
    ojson content;
    if (auto e = read_content(m, p, content)) return e;
    if (content.is_null() && role != "assistant")
      return bad_request("'" + p + ".content' is required for role '" + role + "'", p + ".content");
    msg["content"] = content;
    if (m.contains("name")) {
      if (!m["name"].is_string()) return type_error(p + ".name", "a string", m["name"]);
      msg["name"] = m["name"].get<std::string>();
    }
    if (role == "tool") {
      if (m.contains("tool_call_id") && m["tool_call_id"].is_string())
        msg["tool_call_id"] = m["tool_call_id"].get<std::string>();
    }
    if (role == "assistant" && m.contains("tool_calls") && !m["tool_calls"].is_null()) {
      const json& tcs = m["tool_calls"];
      if (!tcs.is_array()) return type_error(p + ".tool_calls", "an array", tcs);
      ojson calls = ojson::array();
      for (const auto& tc : tcs) {
        if (!tc.is_object() || !tc.contains("function") || !tc["function"].is_object())
          return bad_request("'" + p + ".tool_calls' entries need a 'function' object",
                             p + ".tool_calls", "invalid_type");
        const json& fn = tc["function"];
        if (!fn.contains("name") || !fn["name"].is_string())
          return bad_request("'" + p + ".tool_calls[].function.name' must be a string",
                             p + ".tool_calls", "invalid_type");
        ojson call = ojson::object();
        call["id"] = tc.contains("id") && tc["id"].is_string() ? tc["id"].get<std::string>() : "";
        call["type"] = "function";
        ojson f = ojson::object();
        f["name"] = fn["name"].get<std::string>();
        // Templates (Qwen, Llama 3.x, Hermes) expect arguments as a mapping;
        // OpenAI sends a JSON string: pass the parsed object when it is one.
        ojson args = ojson::object();
        if (fn.contains("arguments")) {
          const json& a = fn["arguments"];
          if (a.is_string()) {
            args = ojson::parse(a.get<std::string>(), nullptr, false);
            if (args.is_discarded()) args = a.get<std::string>();
          } else if (a.is_object()) {
            args = ojson::parse(a.dump());
          }
        }
        f["arguments"] = args;
        call["function"] = f;
        calls.push_back(call);
      }
      msg["tool_calls"] = calls;
    }
    out.push_back(std::move(msg));
  }
  return std::nullopt;
}

bool valid_function_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

std::optional<ApiError> read_tools(Reader& r, ChatRequest& c, const ParseLimits& lim) {
  if (const json* t = r.get("tools")) {
    if (!t->is_array()) return type_error("tools", "an array", *t);
    if (t->size() > lim.max_tools)
      return bad_request("'tools' has more than " + std::to_string(lim.max_tools) + " entries",
                         "tools");
    c.tools = ojson::parse(t->dump());
    for (size_t i = 0; i < t->size(); ++i) {
      const json& tool = (*t)[i];
      const std::string p = "tools[" + std::to_string(i) + "]";
      if (!tool.is_object() || !tool.contains("type") || tool["type"] != "function")
        return bad_request("'" + p + ".type' must be \"function\"", p + ".type", "invalid_value");
      if (!tool.contains("function") || !tool["function"].is_object())
        return bad_request("'" + p + ".function' must be an object", p + ".function",
                           "invalid_type");
      const json& fn = tool["function"];
      if (!fn.contains("name") || !fn["name"].is_string() ||
          !valid_function_name(fn["name"].get<std::string>()))
        return bad_request("'" + p +
                               ".function.name' must be 1-64 characters of a-z, A-Z, "
                               "0-9, _ or -",
                           p + ".function.name", "invalid_value");
      json params = json::object();
      if (fn.contains("parameters") && !fn["parameters"].is_null()) {
        if (!fn["parameters"].is_object())
          return type_error(p + ".function.parameters", "an object", fn["parameters"]);
        params = fn["parameters"];
      }
      for (const auto& n : c.tool_names)
        if (n == fn["name"].get<std::string>())
          return bad_request("duplicate tool name '" + n + "'", p + ".function.name");
      c.tool_names.push_back(fn["name"].get<std::string>());
      c.tool_params.push_back(std::move(params));
    }
  }
  if (const json* tc = r.get("tool_choice")) {
    if (tc->is_string()) {
      const std::string s = tc->get<std::string>();
      if (s == "auto")
        c.tool_choice = ToolChoice::Auto;
      else if (s == "none")
        c.tool_choice = ToolChoice::None;
      else if (s == "required")
        c.tool_choice = ToolChoice::Required;
      else
        return bad_request(
            "'tool_choice' must be \"auto\", \"none\", \"required\" or "
            "{\"type\": \"function\", \"function\": {\"name\": ...}}",
            "tool_choice", "invalid_value");
    } else if (tc->is_object() && tc->contains("function") && (*tc)["function"].is_object() &&
               (*tc)["function"].contains("name") && (*tc)["function"]["name"].is_string()) {
      c.tool_choice = ToolChoice::Named;
      c.tool_name = (*tc)["function"]["name"].get<std::string>();
      bool found = false;
      for (const auto& n : c.tool_names) found = found || n == c.tool_name;
      if (!found)
        return bad_request(
            "'tool_choice' names the function '" + c.tool_name + "', which is not in 'tools'",
            "tool_choice", "invalid_value");
    } else {
      return type_error("tool_choice", "a string or a function object", *tc);
    }
    if (c.tool_choice != ToolChoice::None && c.tool_choice != ToolChoice::Auto &&
        c.tool_names.empty())
      return bad_request("'tool_choice' requires 'tools'", "tool_choice");
  }
  return std::nullopt;
}

std::optional<ApiError> read_response_format(Reader& r, ChatRequest& c) {
  const json* rf = r.get("response_format");
  if (!rf) return std::nullopt;
  if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
    return bad_request("'response_format' must be an object with a string 'type'",
                       "response_format", "invalid_type");
  const std::string t = (*rf)["type"].get<std::string>();
  if (t == "text") {
    c.format = ResponseFormat::Text;
  } else if (t == "json_object") {
    c.format = ResponseFormat::JsonObject;
  } else if (t == "json_schema") {
    const json* js = rf->contains("json_schema") ? &(*rf)["json_schema"] : nullptr;
    if (!js || !js->is_object())
      return bad_request("'response_format.json_schema' must be an object",
                         "response_format.json_schema", "invalid_type");
    if (!js->contains("schema") || !(*js)["schema"].is_object())
      return bad_request("'response_format.json_schema.schema' must be an object",
                         "response_format.json_schema.schema", "invalid_type");
    c.format = ResponseFormat::JsonSchema;
    c.schema = (*js)["schema"];
  } else {
    return bad_request(
        "'response_format.type' must be text, json_object or json_schema; got '" + t + "'",
        "response_format.type", "invalid_value");
  }
  return std::nullopt;
}

}  // namespace

ApiResult<json> parse_json_object(std::string_view body) {
  if (body.empty()) return bad_request("the request body is empty (expected a JSON object)");
  if (too_deep(body))
    return bad_request("the request body nests JSON deeper than 64 levels", "", "too_deep");
  json j;
  try {
    j = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    // nlohmann's message names the byte offset and what it expected; it also
    // reports invalid UTF-8 inside strings.
    return bad_request(std::string("the request body is not valid JSON: ") + e.what(), "",
                       "invalid_json");
  }
  if (!j.is_object()) return bad_request("the request body must be a JSON object");
  return j;
}

ApiResult<ChatRequest> parse_chat_request(std::string_view body, const ParseLimits& lim) {
  auto pj = parse_json_object(body);
  if (!pj.ok()) return pj.error;
  const json& j = *pj.value;
  ChatRequest c;
  Reader r(j);
  read_common(r, j, c.common, lim, false);
  if (r.error) return *r.error;
  if (!j.contains("messages")) return bad_request("'messages' is required", "messages");
  if (auto e = read_messages(j["messages"], lim, c.messages)) return *e;
  r.boolean("logprobs", c.logprobs);
  r.integer("top_logprobs", c.top_logprobs, 0, 20);
  if (r.error) return *r.error;
  if (j.contains("top_logprobs") && !j["top_logprobs"].is_null() && !c.logprobs)
    return bad_request("'top_logprobs' requires 'logprobs': true", "top_logprobs");
  if (auto e = read_response_format(r, c)) return *e;
  if (auto e = read_tools(r, c, lim)) return *e;
  if (r.error) return *r.error;
  if (c.format != ResponseFormat::Text &&
      (c.tool_choice == ToolChoice::Required || c.tool_choice == ToolChoice::Named))
    return bad_request("'response_format' cannot be combined with a forced 'tool_choice'",
                       "response_format");
  return c;
}

ApiResult<CompletionRequest> parse_completion_request(std::string_view body,
                                                      const ParseLimits& lim) {
  auto pj = parse_json_object(body);
  if (!pj.ok()) return pj.error;
  const json& j = *pj.value;
  CompletionRequest c;
  Reader r(j);
  read_common(r, j, c.common, lim, true);
  if (r.error) return *r.error;
  if (const json* s = r.get("suffix"))
    if (!(s->is_string() && s->get<std::string>().empty()))
      return bad_request("'suffix' (fill-in-the-middle) is not supported by this server", "suffix",
                         "unsupported_parameter");
  if (!j.contains("prompt") || j["prompt"].is_null())
    return bad_request("'prompt' is required", "prompt");
  if (auto e = read_prompts(j["prompt"], "prompt", lim.max_inputs, c.prompts)) return *e;
  r.boolean("echo", c.echo);
  if (const json* lp = r.get("logprobs")) {
    if (lp->is_boolean()) {
      c.logprobs = lp->get<bool>() ? 0 : -1;
    } else {
      r.integer("logprobs", c.logprobs, 0, 20);
    }
  }
  if (r.error) return *r.error;
  if (static_cast<int64_t>(c.prompts.size()) * c.common.n > 64)
    return bad_request("prompts x n is more than 64 choices in one request", "n");
  return c;
}

ApiResult<EmbeddingRequest> parse_embedding_request(std::string_view body, const ParseLimits& lim) {
  auto pj = parse_json_object(body);
  if (!pj.ok()) return pj.error;
  const json& j = *pj.value;
  EmbeddingRequest e;
  Reader r(j);
  r.string("model", e.model);
  std::string fmt = "float";
  r.string("encoding_format", fmt);
  if (r.error) return *r.error;
  if (fmt != "float" && fmt != "base64")
    return bad_request("'encoding_format' must be \"float\" or \"base64\"; got '" + fmt + "'",
                       "encoding_format", "invalid_value");
  e.base64 = fmt == "base64";
  if (j.contains("dimensions") && !j["dimensions"].is_null())
    return bad_request("'dimensions' is not supported: this model's embeddings have a fixed size",
                       "dimensions", "unsupported_parameter");
  if (!j.contains("input") || j["input"].is_null())
    return bad_request("'input' is required", "input");
  if (auto err = read_prompts(j["input"], "input", lim.max_inputs, e.inputs)) return *err;
  for (const auto& in : e.inputs)
    if (!in.is_ids && in.text.empty())
      return bad_request("'input' must not contain empty strings", "input", "invalid_value");
  return e;
}

ApiResult<TokenizeRequest> parse_tokenize_request(std::string_view body) {
  auto pj = parse_json_object(body);
  if (!pj.ok()) return pj.error;
  const json& j = *pj.value;
  TokenizeRequest t;
  Reader r(j);
  if (!j.contains("content")) return bad_request("'content' is required", "content");
  r.string("content", t.content);
  r.boolean("add_special", t.add_special);
  r.boolean("with_pieces", t.with_pieces);
  if (r.error) return *r.error;
  return t;
}

ApiResult<DetokenizeRequest> parse_detokenize_request(std::string_view body) {
  auto pj = parse_json_object(body);
  if (!pj.ok()) return pj.error;
  const json& j = *pj.value;
  DetokenizeRequest d;
  if (!j.contains("tokens") || !j["tokens"].is_array())
    return bad_request("'tokens' is required and must be an array of token ids", "tokens",
                       "invalid_type");
  for (const auto& t : j["tokens"]) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 ||
        t.get<int64_t>() > std::numeric_limits<int32_t>::max())
      return bad_request("'tokens' must contain only non-negative integer token ids", "tokens",
                         "invalid_value");
    d.tokens.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return d;
}

}  // namespace sf::server
