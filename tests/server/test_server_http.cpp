// The HTTP server in-process on a free loopback port: error shapes for bad
// requests (and the server keeps serving), limits, API keys, 429 with
// Retry-After, cancellation on disconnect, echo logprobs against the model's
// own logits, prefix reuse, health while loading, graceful drain, and a
// mutation run over request bodies.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/engine.h"
#include "runtime/logprobs.h"
#include "runtime/session.h"
#include "server/server.h"
#include "server_test_util.h"

namespace sf {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct Running {
  Running(const std::string& model_path, server::ServerOptions so = {}, EngineOptions eo = {}) {
    model = test::load(model_path);
    so.host = "127.0.0.1";
    so.port = 0;
    so.model_id = "test-model";
    server = std::make_unique<server::Server>(so);
    Status b = server->bind();
    EXPECT_TRUE(b.ok()) << b.message();
    server->start();
    if (eo.n_ctx == 0) eo.n_ctx = 512;
    if (eo.n_threads == 0) eo.n_threads = 2;
    engine = std::make_shared<Engine>(model, eo);
    Status s = server->set_engine(engine);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  ~Running() {
    server->stop();
    engine->stop();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server->port());
    c.set_read_timeout(60, 0);
    return c;
  }
  std::shared_ptr<const Model> model;
  std::shared_ptr<Engine> engine;
  std::unique_ptr<server::Server> server;
};

json chat_body(int max_tokens = 8) {
  return {{"model", "test-model"},
          {"messages", {{{"role", "user"}, {"content", "Hello there"}}}},
          {"max_tokens", max_tokens},
          {"temperature", 0}};
}

// POST whose response body arrives in pieces; recv returns false to hang up.
httplib::Result post_stream(httplib::Client& c, const std::string& path, const std::string& body,
                            std::function<bool(const char*, size_t)> recv) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body;
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [recv](const char* d, size_t n, uint64_t, uint64_t) { return recv(d, n); };
  return c.send(req);
}

// A 4xx with OpenAI's error shape and a message.
void expect_api_error(const httplib::Result& r, int status, const std::string& what) {
  ASSERT_TRUE(r) << what << ": no response";
  EXPECT_EQ(r->status, status) << what << ": " << r->body;
  json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << what << ": " << r->body;
  const json& e = j["error"];
  EXPECT_TRUE(e.contains("message") && e["message"].is_string() &&
              !e["message"].get<std::string>().empty())
      << what;
  EXPECT_TRUE(e.contains("type") && e.contains("param") && e.contains("code")) << what;
}

TEST(ServerHttp, BadRequestsGetClearErrorsAndTheServerKeepsServing) {
  server::ServerOptions so;
  so.max_body_bytes = 64 * 1024;
  Running r(test::random_chat_model("http_bad"), so);
  auto c = r.client();
  const std::string path = "/v1/chat/completions";
  expect_api_error(c.Post(path, "{\"messages\": [", "application/json"), 400, "malformed JSON");
  expect_api_error(c.Post(path, "", "application/json"), 400, "empty body");
  expect_api_error(c.Post(path, "[1,2]", "application/json"), 400, "not an object");
  expect_api_error(c.Post(path, R"({"messages": "hi"})", "application/json"), 400, "wrong type");
  expect_api_error(
      c.Post(path, R"({"messages": [{"role": "user", "content": 5}]})", "application/json"), 400,
      "content type");
  expect_api_error(
      c.Post(path, R"({"messages": [{"role": "wizard", "content": "x"}]})", "application/json"),
      400, "role");
  expect_api_error(c.Post(path, "{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\"}]}",
                          "application/json"),
                   400, "invalid UTF-8");
  json b = chat_body();
  b["n"] = 100000;
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "huge n");
  b = chat_body();
  b["max_tokens"] = 1000000000;
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "huge max_tokens");
  b = chat_body();
  b["max_tokens"] = 100000;
  auto ctx = c.Post(path, b.dump(), "application/json");
  expect_api_error(ctx, 400, "context exceeded");
  EXPECT_NE(ctx->body.find("context_length_exceeded"), std::string::npos);
  b = chat_body();
  b["temperature"] = "hot";
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "temperature type");
  b["temperature"] = 7;
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "temperature range");
  b = chat_body();
  b["stop"] = json::array({1, 2});
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "stop type");
  b = chat_body();
  b["logit_bias"] = {{"abc", 1}};
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "logit_bias key");
  b = chat_body();
  b["logit_bias"] = {{"99999", 1}};
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "logit_bias id range");
  b = chat_body();
  b["response_format"] = {{"type", "json_schema"},
                          {"json_schema", {{"name", "x"}, {"schema", {{"type", "wat"}}}}}};
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "bad schema");
  b = chat_body();
  b["tool_choice"] = "required";
  expect_api_error(c.Post(path, b.dump(), "application/json"), 400, "tool_choice without tools");
  std::string nested(100, '[');
  expect_api_error(c.Post(path, "{\"messages\": " + nested, "application/json"), 400, "deep");
  expect_api_error(c.Post(path, std::string(100 * 1024, ' '), "application/json"), 413,
                   "oversized body");
  expect_api_error(
      c.Post("/v1/completions", R"({"prompt": "x", "suffix": "y"})", "application/json"), 400,
      "suffix");
  expect_api_error(c.Post("/v1/completions", R"({"prompt": [1, 2, 999999]})", "application/json"),
                   400, "token id range");
  expect_api_error(c.Post("/v1/embeddings", R"({"input": ""})", "application/json"), 400,
                   "empty input");
  expect_api_error(
      c.Post("/v1/embeddings", R"({"input": "x", "encoding_format": "hex"})", "application/json"),
      400, "encoding_format");
  expect_api_error(c.Get("/v1/nothing"), 404, "unknown endpoint");
  expect_api_error(c.Get("/v1/models/other"), 404, "unknown model");
  // Still serving.
  auto ok = c.Post(path, chat_body().dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST(ServerHttp, NoChatTemplateIsAClearError) {
  Running r(test::random_chat_model("http_notmpl", /*with_template=*/false));
  auto c = r.client();
  auto res = c.Post("/v1/chat/completions", chat_body().dump(), "application/json");
  expect_api_error(res, 400, "no template");
  EXPECT_NE(res->body.find("--chat-template-file"), std::string::npos);
  // Raw completions still work.
  auto comp =
      c.Post("/v1/completions", R"({"prompt": "abc", "max_tokens": 3})", "application/json");
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->status, 200) << comp->body;
}

TEST(ServerHttp, ApiKeys) {
  server::ServerOptions so;
  so.api_keys = {"sekret"};
  Running r(test::random_chat_model("http_keys"), so);
  auto c = r.client();
  expect_api_error(c.Get("/v1/models"), 401, "no key");
  httplib::Headers wrong = {{"Authorization", "Bearer nope"}};
  expect_api_error(c.Get("/v1/models", wrong), 401, "wrong key");
  httplib::Headers right = {{"Authorization", "Bearer sekret"}};
  auto ok = c.Get("/v1/models", right);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto h = c.Get("/health");  // health stays open for load balancers
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST(ServerHttp, FullQueueAnswers429WithRetryAfter) {
  EngineOptions eo;
  eo.n_parallel = 1;
  eo.max_queue = 1;
  Running r(test::random_chat_model("http_429"), {}, eo);
  json b = chat_body(400);
  b["ignore_eos"] = true;
  std::atomic<int> n200{0}, n429{0}, other{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 6; ++i)
    ts.emplace_back([&] {
      auto c = r.client();
      auto res = c.Post("/v1/chat/completions", b.dump(), "application/json");
      if (!res) {
        ++other;
      } else if (res->status == 200) {
        ++n200;
      } else if (res->status == 429) {
        EXPECT_EQ(res->get_header_value("Retry-After"), "1");
        ++n429;
      } else {
        ++other;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_GE(n200.load(), 1);
  EXPECT_GE(n429.load(), 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(n200 + n429, 6);
}

int active_after(Engine& e, std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until && e.stats().active > 0)
    std::this_thread::sleep_for(10ms);
  return e.stats().active;
}

TEST(ServerHttp, ADisconnectedClientCancelsItsRequest) {
  EngineOptions eo;
  eo.n_ctx = 4096;
  Running r(test::random_chat_model("http_cancel", true, 512, 4096), {}, eo);
  json b = chat_body(4000);
  b["ignore_eos"] = true;
  b["stream"] = true;
  // Had the requests run to the end, each would have generated 4000 tokens.
  uint64_t before = r.engine->stats().generated_tokens;
  {  // streaming: read a little, then hang up
    auto c = r.client();
    int chunks = 0;
    auto res = post_stream(c, "/v1/chat/completions", b.dump(),
                           [&](const char*, size_t) { return ++chunks < 3; });
    (void)res;
  }
  EXPECT_EQ(active_after(*r.engine, 2000ms), 0);
  EXPECT_LT(r.engine->stats().generated_tokens - before, 2000u);
  // Non-streaming: a raw socket that sends the request and closes.
  before = r.engine->stats().generated_tokens;
  b["stream"] = false;
  const std::string body = b.dump();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(r.server->port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string http =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(write(fd, http.data(), http.size()), static_cast<ssize_t>(http.size()));
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (r.engine->stats().active == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  close(fd);
  EXPECT_EQ(active_after(*r.engine, 2000ms), 0);
  EXPECT_LT(r.engine->stats().generated_tokens - before, 2000u);
}

TEST(ServerHttp, EchoLogprobsEqualTheModelsLogits) {
  Running r(test::random_chat_model("http_echo"));
  auto c = r.client();
  const std::vector<int32_t> ids = {1, 70, 300, 12, 45, 260, 99, 8};
  json b = {{"prompt", ids}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 2}};
  auto res = c.Post("/v1/completions", b.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = json::parse(res->body);
  const json& lp = j["choices"][0]["logprobs"];
  ASSERT_EQ(lp["token_logprobs"].size(), ids.size());
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  SessionOptions so;
  so.n_ctx = 64;
  Session s(r.model, so);
  std::vector<float> all;
  ASSERT_TRUE(s.feed(ids, &all).ok());
  const size_t V = static_cast<size_t>(r.model->config().n_vocab);
  for (size_t i = 1; i < ids.size(); ++i) {
    std::span<const float> row(all.data() + (i - 1) * V, V);
    EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), row[ids[i]] - log_sum_exp(row), 1e-4);
    EXPECT_EQ(lp["top_logprobs"][i].size(), 2u);
  }
  EXPECT_EQ(j["usage"]["completion_tokens"], 0);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
}

// Scoring a prompt decodes nothing after it, so it may fill the whole context
// (a perplexity window of exactly n_ctx tokens); generating one more token may not.
TEST(ServerHttp, ScoringMayFillTheWholeContext) {
  EngineOptions eo;
  eo.n_ctx = 16;
  Running r(test::random_chat_model("http_full_ctx"), {}, eo);
  auto c = r.client();
  std::vector<int32_t> ids;
  for (int i = 0; i < 16; ++i) ids.push_back(5 + 7 * i);
  json b = {{"prompt", ids}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 1}};
  auto res = c.Post("/v1/completions", b.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json j = json::parse(res->body);
  EXPECT_EQ(j["choices"][0]["logprobs"]["token_logprobs"].size(), ids.size());
  EXPECT_TRUE(j["choices"][0]["logprobs"]["token_logprobs"][15].is_number());

  b["max_tokens"] = 1;
  res = c.Post("/v1/completions", b.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("context_length_exceeded"), std::string::npos) << res->body;
}

TEST(ServerHttp, SharedPrefixIsReported) {
  EngineOptions eo;
  eo.n_parallel = 1;
  Running r(test::random_chat_model("http_prefix"), {}, eo);
  auto c = r.client();
  json b = {{"messages",
             {{{"role", "system"}, {"content", "You are a helpful persona with a long intro."}},
              {{"role", "user"}, {"content", "first"}}}},
            {"max_tokens", 2}};
  auto r1 = c.Post("/v1/chat/completions", b.dump(), "application/json");
  ASSERT_TRUE(r1 && r1->status == 200);
  b["messages"][1]["content"] = "second question";
  auto r2 = c.Post("/v1/chat/completions", b.dump(), "application/json");
  ASSERT_TRUE(r2 && r2->status == 200);
  json j = json::parse(r2->body);
  EXPECT_GT(j["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 40);
}

TEST(ServerHttp, HealthIsUnavailableWhileLoadingAndDrainFinishesStreams) {
  server::ServerOptions so;
  so.port = 0;
  server::Server srv(so);
  ASSERT_TRUE(srv.bind().ok());
  srv.start();
  httplib::Client c("127.0.0.1", srv.port());
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  expect_api_error(c.Post("/v1/chat/completions", chat_body().dump(), "application/json"), 503,
                   "loading");
  auto model = test::load(test::random_chat_model("http_drain"));
  EngineOptions eo;
  eo.n_ctx = 512;
  eo.n_threads = 2;
  auto engine = std::make_shared<Engine>(model, eo);
  ASSERT_TRUE(srv.set_engine(engine).ok());
  EXPECT_EQ(c.Get("/health")->status, 200);

  json b = chat_body(150);
  b["ignore_eos"] = true;
  b["stream"] = true;
  std::string got;
  std::thread t([&] {
    httplib::Client sc("127.0.0.1", srv.port());
    sc.set_read_timeout(60, 0);
    post_stream(sc, "/v1/chat/completions", b.dump(), [&](const char* d, size_t n) {
      got.append(d, n);
      return true;
    });
  });
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (engine->stats().active == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(2ms);
  std::thread drainer([&] { srv.drain(30); });
  httplib::Client late("127.0.0.1", srv.port());
  // Health turns 503 as soon as the drain begins (or the listener is gone).
  for (int i = 0; i < 500; ++i) {
    auto hh = late.Get("/health");
    if (!hh || hh->status == 503) break;
    std::this_thread::sleep_for(2ms);
  }
  auto l = late.Post("/v1/chat/completions", chat_body().dump(), "application/json");
  if (l) {
    EXPECT_EQ(l->status, 503) << l->body;  // or refused outright once the listener closed
  }
  t.join();
  drainer.join();
  EXPECT_NE(got.find("data: [DONE]"), std::string::npos) << got.substr(0, 200);
  engine->stop();
}

// Mutations of valid bodies: every answer is 200 or a 4xx with the error
// shape, never a 5xx or a dropped connection.
TEST(ServerHttp, MutatedBodiesNeverBreakTheServer) {
  Running r(test::random_chat_model("http_mut"));
  auto c = r.client();
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"/v1/chat/completions",
       R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"stop":["x"],"n":1,"logprobs":true,"top_logprobs":2})"},
      {"/v1/completions", R"({"prompt":["ab",[1,2,3]],"max_tokens":2,"echo":true,"logprobs":1})"},
      {"/v1/embeddings", R"({"input":["a","b"],"encoding_format":"base64"})"},
      {"/tokenize", R"({"content":"hello","with_pieces":true})"},
      {"/detokenize", R"({"tokens":[1,2,3]})"},
  };
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]\",:0123456789-.eEtruefalsn \\u\xff\xc3";
  int n4xx = 0, n200 = 0;
  for (int i = 0; i < 300; ++i) {
    const auto& [path, seed] = seeds[rng() % seeds.size()];
    std::string body = seed;
    const int edits = 1 + rng() % 4;
    for (int k = 0; k < edits; ++k) {
      const size_t pos = rng() % (body.size() + 1);
      switch (rng() % 3) {
        case 0:
          body.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (pos < body.size()) body.erase(pos, 1);
          break;
        default:
          if (pos < body.size()) body[pos] = alphabet[rng() % alphabet.size()];
          break;
      }
    }
    auto res = c.Post(path, body, "application/json");
    ASSERT_TRUE(res) << "no answer to " << body;
    ASSERT_LT(res->status, 500) << body << " -> " << res->body;
    if (res->status == 200) {
      ++n200;
    } else {
      ++n4xx;
      json j = json::parse(res->body, nullptr, false);
      ASSERT_TRUE(j.is_object() && j.contains("error")) << res->body;
    }
  }
  EXPECT_GT(n4xx, 100);
  EXPECT_GT(n200, 5);
}

}  // namespace
}  // namespace sf
