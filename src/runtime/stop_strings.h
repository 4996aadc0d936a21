// Stop strings for streamed text: text is released as soon as it cannot be the
// start of a stop string; once a stop string appears, the text before it is
// released and everything from it on is dropped (OpenAI does not return the
// stop text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sf {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops = {});

  // Appends text; returns what can be released now. Sets `matched` when a stop
  // string completed (the returned text then ends right before it).
  std::string push(std::string_view text, bool& matched);
  // Releases whatever is held back (at the end of generation).
  std::string flush();

 private:
  std::vector<std::string> stops_;
  std::string held_;
};

}  // namespace sf
