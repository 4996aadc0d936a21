#include "server/metrics.h"

#include <cstdio>

#include "runtime/engine.h"

namespace sf::server {
namespace {

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

void line(std::string& out, const std::string& name, const std::string& labels, double v) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += " " + num(v) + "\n";
}

void header(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void Histogram::observe(double s) {
  std::lock_guard<std::mutex> l(mu_);
  size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  ++counts_[i];
  sum_ += s;
  ++n_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string& out) const {
  std::lock_guard<std::mutex> l(mu_);
  header(out, name, "histogram", help);
  uint64_t cum = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cum += counts_[i];
    line(out, name + "_bucket", "le=\"" + num(kBounds[i]) + "\"", static_cast<double>(cum));
  }
  cum += counts_[kBounds.size()];
  line(out, name + "_bucket", "le=\"+Inf\"", static_cast<double>(cum));
  line(out, name + "_sum", "", sum_);
  line(out, name + "_count", "", static_cast<double>(n_));
}

void Metrics::request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> l(mu_);
  ++requests_[{endpoint, status}];
}

std::string Metrics::render(const EngineStats* e, int n_parallel) const {
  std::string out;
  header(out, "starfire_requests_total", "counter", "HTTP requests by endpoint and status");
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, v] : requests_)
      line(out, "starfire_requests_total",
           "endpoint=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"",
           static_cast<double>(v));
  }
  header(out, "starfire_requests_rejected_total", "counter",
         "requests refused with 429 because the queue was full");
  line(out, "starfire_requests_rejected_total", "", static_cast<double>(rejected_.load()));
  header(out, "starfire_prompt_tokens_total", "counter", "prompt tokens in answered requests");
  line(out, "starfire_prompt_tokens_total", "", static_cast<double>(prompt_tokens_.load()));
  header(out, "starfire_generation_tokens_total", "counter", "tokens generated");
  line(out, "starfire_generation_tokens_total", "", static_cast<double>(generated_tokens_.load()));
  if (e) {
    header(out, "starfire_queue_depth", "gauge", "requests waiting for a sequence slot");
    line(out, "starfire_queue_depth", "", e->waiting);
    header(out, "starfire_requests_running", "gauge", "requests holding a sequence slot");
    line(out, "starfire_requests_running", "", e->active);
    header(out, "starfire_slots_total", "gauge", "sequence slots (--parallel)");
    line(out, "starfire_slots_total", "", n_parallel);
    header(out, "starfire_engine_steps_total", "counter", "forward passes run by the engine");
    line(out, "starfire_engine_steps_total", "", static_cast<double>(e->steps));
    header(out, "starfire_prompt_tokens_computed_total", "counter",
           "prompt tokens computed by the engine");
    line(out, "starfire_prompt_tokens_computed_total", "", static_cast<double>(e->prompt_tokens));
    header(out, "starfire_prompt_tokens_cached_total", "counter",
           "prompt tokens reused from the prefix cache");
    line(out, "starfire_prompt_tokens_cached_total", "", static_cast<double>(e->cached_tokens));
  }
  ttft.render("starfire_time_to_first_token_seconds",
              "time from request arrival to the first generated token", out);
  itl.render("starfire_inter_token_latency_seconds", "time between consecutive generated tokens",
             out);
  e2e.render("starfire_request_duration_seconds", "time from request arrival to its last byte",
             out);
  return out;
}

}  // namespace sf::server
