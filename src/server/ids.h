// Response and tool-call ids, and timestamps, as OpenAI formats them.
#pragma once

#include <cstdint>
#include <string>

namespace sf::server {

// prefix + 24 random alphanumerics ("chatcmpl-…", "call_…").
std::string random_id(const char* prefix);
// Seconds since the Unix epoch (the `created` field).
int64_t unix_now();

}  // namespace sf::server
