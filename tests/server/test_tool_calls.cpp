// Tool calls read back from generated text (server/tool_calls.h).
#include <gtest/gtest.h>

#include "server/tool_calls.h"

namespace sf::server {
namespace {

const std::vector<std::string> kTools = {"get_weather", "add"};

TEST(ToolCalls, QwenHermesBlocks) {
  auto p = parse_tool_calls(
      "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Oslo\"}}\n</tool_call>\n<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1}}"
      "</tool_call>",
      kTools);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->content, "Let me check.");
  ASSERT_EQ(p->calls.size(), 2u);
  EXPECT_EQ(p->calls[0].name, "get_weather");
  EXPECT_EQ(p->calls[0].arguments, R"({"city":"Oslo"})");
  EXPECT_EQ(p->calls[1].name, "add");
  EXPECT_EQ(p->calls[0].id.rfind("call_", 0), 0u);
  EXPECT_NE(p->calls[0].id, p->calls[1].id);
}

TEST(ToolCalls, BareObjectsAndLists) {
  auto one = parse_tool_calls(R"( {"name": "add", "parameters": {"a": 1, "b": 2}} )", kTools);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->calls.size(), 1u);
  EXPECT_EQ(one->calls[0].arguments, R"({"a":1,"b":2})");
  auto list =
      parse_tool_calls(R"([{"name": "add", "arguments": {}}, {"name": "get_weather"}])", kTools);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->calls.size(), 2u);
  EXPECT_EQ(list->calls[1].arguments, "{}");
}

TEST(ToolCalls, PlainTextAndUnknownNamesStayContent) {
  EXPECT_FALSE(parse_tool_calls("The weather is nice.", kTools));
  EXPECT_FALSE(parse_tool_calls(R"({"name": "rm_rf", "arguments": {}})", kTools));
  EXPECT_FALSE(parse_tool_calls(R"({"answer": 42})", kTools));
  EXPECT_FALSE(parse_tool_calls("<tool_call>{not json}</tool_call>", kTools));
}

TEST(ToolCalls, StreamsHoldBackOnlyWhatCouldBeACall) {
  EXPECT_TRUE(may_start_tool_call(""));
  EXPECT_TRUE(may_start_tool_call("  "));
  EXPECT_TRUE(may_start_tool_call("<tool"));
  EXPECT_TRUE(may_start_tool_call("<tool_call>{\"na"));
  EXPECT_TRUE(may_start_tool_call("{\"name\""));
  EXPECT_FALSE(may_start_tool_call("Hello"));
  EXPECT_FALSE(may_start_tool_call("<b>"));
}

}  // namespace
}  // namespace sf::server
