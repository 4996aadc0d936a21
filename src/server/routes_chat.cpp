// POST /v1/chat/completions: messages through the model's chat template,
// optional JSON-schema / forced-tool constraints, tool calls parsed back,
// plain JSON or server-sent events.
#include "models/model.h"
#include "runtime/json_schema.h"
#include "server/context.h"
#include "server/generation.h"
#include "server/peer_watch.h"
#include "server/tool_calls.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace sf::server {
namespace {

using nlohmann::json;

// How a response's text is read back: plain content, maybe tool calls
// (tool_choice auto), or certainly a tool call (required / named: the output
// is constrained to one).
enum class ToolMode { None, Auto, Forced };

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

json logprob_entry(const Context& ctx, const TokenLogprob& t) {
  const std::string text = token_text(ctx, t.id);
  json e = {{"token", text}, {"logprob", t.logprob}, {"bytes", bytes_of(text)}};
  json top = json::array();
  for (const auto& a : t.top) {
    const std::string at = token_text(ctx, a.id);
    top.push_back({{"token", at}, {"logprob", a.logprob}, {"bytes", bytes_of(at)}});
  }
  e["top_logprobs"] = top;
  return e;
}

json tool_calls_json(const std::vector<ToolCall>& calls, bool streaming) {
  json arr = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    json c = {{"id", calls[i].id},
              {"type", "function"},
              {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}};
    if (streaming) c["index"] = i;
    arr.push_back(c);
  }
  return arr;
}

struct ChatCall {
  std::string id = random_id("chatcmpl-");
  int64_t created = unix_now();
  std::string model;
  ToolMode mode = ToolMode::None;
  std::vector<std::string> tool_names;
  bool logprobs = false;
  bool include_usage = false;
  int n = 1;
};

json chunk(const ChatCall& call, json choices) {
  json j = {
      {"id", call.id},       {"object", "chat.completion.chunk"}, {"created", call.created},
      {"model", call.model}, {"system_fingerprint", "starfire"},  {"choices", std::move(choices)}};
  if (call.include_usage) j["usage"] = nullptr;
  return j;
}

json choice_delta(int index, json delta, json logprobs, json finish) {
  return {{"index", index},
          {"delta", std::move(delta)},
          {"logprobs", std::move(logprobs)},
          {"finish_reason", std::move(finish)}};
}

// Message + finish_reason for a finished choice's text.
void read_back(const ChatCall& call, const std::string& text, std::string& finish, json& message) {
  message = {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
  if (call.mode == ToolMode::None) return;
  auto parsed = parse_tool_calls(text, call.tool_names);
  if (!parsed) return;
  message["content"] = parsed->content.empty() ? json(nullptr) : json(parsed->content);
  message["tool_calls"] = tool_calls_json(parsed->calls, false);
  finish = "tool_calls";
}

Result<std::vector<int32_t>> render_prompt(Context& ctx, const ChatRequest& c) {
  const Tokenizer* tok = ctx.tokenizer();
  ChatTemplateInputs in;
  in.messages = c.messages;
  if (!c.tool_names.empty() && c.tool_choice != ToolChoice::None) in.tools = c.tools;
  in.add_generation_prompt = true;
  if (tok->bos_id() >= 0) in.bos_token = tok->token_text(tok->bos_id());
  if (tok->eos_id() >= 0) in.eos_token = tok->token_text(tok->eos_id());
  SF_ASSIGN_OR_RETURN(std::string text, render_chat_template(*ctx.chat_template, in));
  std::vector<int32_t> ids = tok->encode(text, /*add_special=*/true, /*parse_special=*/true);
  // Templates that write the BOS token themselves would get it twice.
  if (ids.size() >= 2 && ids[0] == tok->bos_id() && ids[1] == tok->bos_id()) ids.erase(ids.begin());
  return ids;
}

void handle_chat(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  const auto start = Clock::now();
  InFlight guard(ctx);
  auto pr = parse_chat_request(req.body, ctx.opts.limits);
  if (!pr.ok()) return send_error(res, pr.error);
  ChatRequest& c = *pr.value;
  if (!ctx.chat_template)
    return send_error(res, bad_request(ctx.chat_template_error, "messages", "no_chat_template"));
  auto prompt = render_prompt(ctx, c);
  if (!prompt.ok())
    return send_error(res, bad_request("the chat template could not render these messages: " +
                                           prompt.status().message(),
                                       "messages", "template_error"));

  ChatCall call;
  call.model = ctx.opts.model_id;
  call.logprobs = c.logprobs;
  call.include_usage = c.common.include_usage;
  call.n = c.common.n;
  call.tool_names = c.tool_names;
  std::shared_ptr<const JsonSchema> schema;
  if (!c.tool_names.empty() && c.tool_choice != ToolChoice::None) {
    call.mode = ToolMode::Auto;
    if (c.tool_choice == ToolChoice::Required || c.tool_choice == ToolChoice::Named) {
      call.mode = ToolMode::Forced;
      std::vector<std::pair<std::string, json>> tools;
      for (size_t i = 0; i < c.tool_names.size(); ++i)
        if (c.tool_choice == ToolChoice::Required || c.tool_names[i] == c.tool_name)
          tools.push_back({c.tool_names[i], c.tool_params[i]});
      auto s = JsonSchema::tool_call(tools);
      if (!s.ok())
        return send_error(res, bad_request(s.status().message(), "tools", "unsupported_schema"));
      schema = *s;
    }
  }
  if (c.format == ResponseFormat::JsonObject) schema = JsonSchema::any_object();
  if (c.format == ResponseFormat::JsonSchema) {
    auto s = JsonSchema::compile(c.schema);
    if (!s.ok())
      return send_error(res, bad_request(s.status().message(), "response_format.json_schema.schema",
                                         "unsupported_schema"));
    schema = *s;
  }

  auto reqs = make_requests(ctx, c.common, *prompt, 0);
  if (!reqs.ok()) return send_error(res, reqs.error);
  for (auto& r : *reqs.value) {
    r.top_logprobs = c.logprobs ? c.top_logprobs : -1;
    r.json_schema = schema;
  }
  auto stream = std::make_shared<RequestStream>();
  if (auto e = submit(ctx, std::move(*reqs.value), stream)) return send_error(res, *e);

  if (!c.common.stream) {
    PeerWatch peer(req.remote_addr, req.remote_port, req.local_port);
    std::vector<ChoiceResult> results;
    if (!collect(ctx, *stream, call.n, peer, results, start)) {
      res.status = 499;  // client closed the connection; nobody reads this
      return;
    }
    json choices = json::array();
    int completion = 0, prompt_tokens = 0, cached = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      const ChoiceResult& r = results[i];
      if (r.failed) return send_error(res, engine_error(r));
      std::string finish = r.finish_reason;
      json message;
      read_back(call, r.text, finish, message);
      json lp = nullptr;
      if (c.logprobs) {
        json content = json::array();
        for (const auto& t : r.tokens) content.push_back(logprob_entry(ctx, t));
        lp = {{"content", content}, {"refusal", nullptr}};
      }
      choices.push_back(
          {{"index", i}, {"message", message}, {"logprobs", lp}, {"finish_reason", finish}});
      completion += r.n_generated;
      prompt_tokens = r.n_prompt;
      cached = r.n_cached;
    }
    send_json(res, {{"id", call.id},
                    {"object", "chat.completion"},
                    {"created", call.created},
                    {"model", call.model},
                    {"system_fingerprint", "starfire"},
                    {"choices", choices},
                    {"usage", usage_json(prompt_tokens, completion, cached)}});
    return;
  }

  struct PerChoice {
    bool started = false;
    bool holding = false;  // text held back as a possible tool call
    std::string held;
    json held_lp = json::array();
  };
  struct StreamState {
    std::vector<PerChoice> choices;
    int prompt_tokens = 0, completion = 0, cached = 0;
  };
  auto ss = std::make_shared<StreamState>();
  ss->choices.resize(call.n);
  for (auto& pc : ss->choices) pc.holding = call.mode != ToolMode::None;
  Context* cp = &ctx;
  auto on_event = [ss, call, cp](const Event& e, std::string& out) {
    PerChoice& pc = ss->choices[e.choice];
    auto content_chunk = [&](const std::string& text, json lp) {
      json lpj =
          call.logprobs ? json{{"content", std::move(lp)}, {"refusal", nullptr}} : json(nullptr);
      out += sse(
          chunk(call, json::array({choice_delta(e.choice, {{"content", text}}, lpj, nullptr)})));
    };
    if (!pc.started && e.kind != EventKind::Error) {
      out += sse(
          chunk(call, json::array({choice_delta(e.choice, {{"role", "assistant"}, {"content", ""}},
                                                nullptr, nullptr)})));
      pc.started = true;
    }
    switch (e.kind) {
      case EventKind::Token: {
        json lp = json::array();
        if (call.logprobs && e.token.id >= 0) lp.push_back(logprob_entry(*cp, e.token));
        if (pc.holding) {
          pc.held += e.text;
          for (auto& x : lp) pc.held_lp.push_back(x);
          if (call.mode == ToolMode::Auto && !may_start_tool_call(pc.held)) {
            pc.holding = false;
            content_chunk(pc.held, pc.held_lp);
            pc.held.clear();
            pc.held_lp = json::array();
          }
          break;
        }
        if (!e.text.empty() || !lp.empty()) content_chunk(e.text, lp);
        break;
      }
      case EventKind::Done: {
        std::string finish = e.finish_reason;
        if (pc.holding) {
          auto parsed = parse_tool_calls(pc.held, call.tool_names);
          if (parsed) {
            if (!parsed->content.empty()) content_chunk(parsed->content, pc.held_lp);
            out += sse(
                chunk(call, json::array({choice_delta(
                                e.choice, {{"tool_calls", tool_calls_json(parsed->calls, true)}},
                                nullptr, nullptr)})));
            finish = "tool_calls";
          } else if (!pc.held.empty()) {
            content_chunk(pc.held, pc.held_lp);
          }
        }
        out += sse(
            chunk(call, json::array({choice_delta(e.choice, json::object(), nullptr, finish)})));
        ss->prompt_tokens = e.n_prompt;
        ss->cached = e.n_cached;
        ss->completion += e.n_generated;
        break;
      }
      case EventKind::Error:
        out += sse({{"error", event_error(e).body()["error"]}});
        break;
      default:
        break;
    }
  };
  auto on_end = [ss, call](std::string& out) {
    if (call.include_usage) {
      json j = chunk(call, json::array());
      j["usage"] = usage_json(ss->prompt_tokens, ss->completion, ss->cached);
      out += sse(j);
    }
    out += "data: [DONE]\n\n";
  };
  stream_events(ctx, res, stream, call.n, std::move(guard), start, on_event, on_end);
}

}  // namespace

void register_chat_routes(Context& ctx) {
  auto h = [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_chat(ctx, req, res);
  };
  ctx.http.Post("/v1/chat/completions", h);
  ctx.http.Post("/chat/completions", h);
}

}  // namespace sf::server
