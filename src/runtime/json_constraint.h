// Constrained decoding for JSON: a pushdown automaton over bytes that accepts
// exactly the prefixes of documents matching a compiled JsonSchema, and the
// token mask derived from it.
//
// The automaton's state is a small fixed-size stack of plain frames, so trying
// a token is copying the state and feeding the token's bytes. allowed() walks
// a trie of all token pieces (built once per vocabulary), copying the state at
// each edge and pruning a whole subtree at the first byte that cannot extend a
// valid prefix; most of the vocabulary dies at its first byte.
//
// Whitespace between tokens is bounded as in llama.cpp's JSON grammar (one
// space, or a newline and up to 20 spaces/tabs), numbers to 16 integer and 16
// fraction digits, and nesting to 32 levels, so a model cannot wander forever
// in insignificant characters. Strings accept any bytes >= 0x80 (the stream
// decoder turns invalid UTF-8 into U+FFFD, which is still valid JSON).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/json_schema.h"

namespace sf {

// Token pieces as a trie; control tokens and empty pieces are left out (they
// never appear inside JSON).
class TokenTrie {
 public:
  explicit TokenTrie(const std::vector<std::string>& pieces, const std::vector<uint8_t>& excluded);

  struct Node {
    std::vector<std::pair<uint8_t, int>> kids;  // (byte, child node)
    std::vector<int32_t> tokens;                // tokens whose piece ends here
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  size_t n_vocab() const { return n_vocab_; }
  size_t max_len() const { return max_len_; }  // longest piece, in bytes

 private:
  std::vector<Node> nodes_;
  size_t n_vocab_;
  size_t max_len_ = 0;
};

class JsonMatcher {
 public:
  static constexpr int kMaxDepth = 32;

  explicit JsonMatcher(std::shared_ptr<const JsonSchema> schema);
  JsonMatcher() = default;
  JsonMatcher(const JsonMatcher& o) { *this = o; }
  JsonMatcher& operator=(const JsonMatcher& o);

  // Feeds bytes; false (and the state is then undefined) if they cannot
  // extend a valid prefix.
  bool feed(std::string_view bytes);
  bool feed_byte(uint8_t c);
  // The text so far is a complete document (end-of-generation may follow).
  bool accepting() const;
  // The document is closed: nothing but bounded whitespace can follow.
  bool done() const { return depth_ == 0; }

  // Sets allowed[id] = 1 for every token whose piece extends a valid prefix
  // (others are left as they were: the caller clears the vector first).
  void allowed(const TokenTrie& trie, std::vector<uint8_t>& allowed) const;

  struct Frame {
    uint8_t kind = 0;
    uint8_t phase = 0;
    uint8_t esc = 0;
    uint8_t is_key = 0;
    int32_t node = 0;
    int32_t count = 0;
    int32_t cur = 0;
    uint64_t used = 0;
    uint64_t cand = 0;
  };

 private:
  bool step(uint8_t c);
  static void walk(const TokenTrie& trie, int node, int level, std::vector<JsonMatcher>& levels,
                   std::vector<uint8_t>& allowed);
  bool push_value(int node, uint8_t c, int guard);
  bool whitespace(uint8_t c);
  Frame& top() { return stack_[depth_ - 1]; }
  void pop() { --depth_; }
  bool push(const Frame& f) {
    if (depth_ >= kMaxDepth) return false;
    stack_[depth_++] = f;
    return true;
  }

  std::shared_ptr<const JsonSchema> schema_;
  const JsonSchema* s_ = nullptr;
  int depth_ = 0;
  uint8_t ws_mode_ = 0;  // 0: none yet, 1: after a space, 2: in a newline's indentation
  uint8_t ws_count_ = 0;
  std::array<Frame, kMaxDepth> stack_;
};

}  // namespace sf
