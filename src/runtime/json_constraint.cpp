#include "runtime/json_constraint.h"

#include <algorithm>

namespace sf {
namespace {

enum FrameKind : uint8_t { kValue, kObject, kArray, kString, kNumber, kLiteral, kTagged };
enum ObjectPhase : uint8_t { kObjOpen, kObjColon, kObjValue, kObjComma };
enum ArrayPhase : uint8_t { kArrOpen, kArrValue, kArrComma };
// Number phases; the *complete* ones may end the number.
enum NumPhase : uint8_t {
  kNumStart,
  kNumSign,
  kNumZero,
  kNumInt,
  kNumDot,
  kNumFrac,
  kNumExp,
  kNumExpSign,
  kNumExpDigits
};
constexpr int kMaxIntDigits = 16, kMaxFracDigits = 16,
              kMaxExpDigits = 2;  // 1e999 overflows a double: JSON parsers refuse it

bool is_ws(uint8_t c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}
bool is_digit(uint8_t c) {
  return c >= '0' && c <= '9';
}
bool is_hex(uint8_t c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool num_complete(uint8_t phase) {
  return phase == kNumZero || phase == kNumInt || phase == kNumFrac || phase == kNumExpDigits;
}
uint64_t all_props(const SchemaNode& n) {
  const size_t k = n.prop_names.size();
  return k >= 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1;
}

}  // namespace

TokenTrie::TokenTrie(const std::vector<std::string>& pieces, const std::vector<uint8_t>& excluded)
    : n_vocab_(pieces.size()) {
  max_len_ = 0;
  nodes_.emplace_back();
  for (size_t id = 0; id < pieces.size(); ++id) {
    if (pieces[id].empty() || (id < excluded.size() && excluded[id])) continue;
    int cur = 0;
    for (unsigned char c : pieces[id]) {
      auto& kids = nodes_[cur].kids;
      auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(c, 0),
                                 [](const auto& a, const auto& b) { return a.first < b.first; });
      if (it != kids.end() && it->first == c) {
        cur = it->second;
      } else {
        const int child = static_cast<int>(nodes_.size());
        kids.insert(it, {c, child});
        nodes_.emplace_back();
        cur = child;
      }
    }
    nodes_[cur].tokens.push_back(static_cast<int32_t>(id));
    max_len_ = std::max(max_len_, pieces[id].size());
  }
}

JsonMatcher::JsonMatcher(std::shared_ptr<const JsonSchema> schema)
    : schema_(std::move(schema)), s_(schema_.get()) {
  Frame f;
  f.kind = kValue;
  f.node = s_->root();
  push(f);
}

JsonMatcher& JsonMatcher::operator=(const JsonMatcher& o) {
  if (this == &o) return *this;
  if (schema_ != o.schema_) schema_ = o.schema_;  // avoid refcount traffic in the trie walk
  s_ = o.s_;
  depth_ = o.depth_;
  ws_mode_ = o.ws_mode_;
  ws_count_ = o.ws_count_;
  std::copy(o.stack_.begin(), o.stack_.begin() + depth_, stack_.begin());
  return *this;
}

bool JsonMatcher::feed(std::string_view bytes) {
  for (unsigned char c : bytes)
    if (!step(c)) return false;
  return true;
}

bool JsonMatcher::feed_byte(uint8_t c) {
  return step(c);
}

bool JsonMatcher::accepting() const {
  if (depth_ == 0) return true;
  if (depth_ != 1) return false;
  const Frame& f = stack_[0];
  if (f.kind == kNumber) return num_complete(f.phase);
  if (f.kind == kLiteral) {
    const auto& lits = s_->node(f.node).literals;
    for (size_t i = 0; i < lits.size(); ++i)
      if ((f.cand >> i & 1) && lits[i].size() == static_cast<size_t>(f.count)) return true;
  }
  return false;
}

bool JsonMatcher::whitespace(uint8_t c) {
  if (c == '\n') {
    if (ws_mode_ != 0) return false;
    ws_mode_ = 2;
    ws_count_ = 0;
    return true;
  }
  if (c == ' ' && ws_mode_ == 0) {
    ws_mode_ = 1;
    return true;
  }
  if ((c == ' ' || c == '\t') && ws_mode_ == 2 && ws_count_ < 20) {
    ++ws_count_;
    return true;
  }
  return false;  // '\r', or past the bound
}

// Starts a value of schema `node` with its first byte c.
bool JsonMatcher::push_value(int node, uint8_t c, int guard) {
  if (guard > 16) return false;  // a $ref cycle that consumes nothing
  const SchemaNode& n = s_->node(node);
  Frame f;
  f.node = node;
  switch (n.kind) {
    case SchemaNode::Any:
      if (c == '{') return push_value(JsonSchema::kFreeObject, c, guard + 1);
      if (c == '[') return push_value(JsonSchema::kFreeArray, c, guard + 1);
      if (c == '"') return push_value(JsonSchema::kFreeString, c, guard + 1);
      if (c == '-' || is_digit(c)) return push_value(JsonSchema::kFreeNumber, c, guard + 1);
      return push_value(JsonSchema::kTrueFalseNull, c, guard + 1);
    case SchemaNode::Object:
      if (c != '{') return false;
      f.kind = kObject;
      f.phase = kObjOpen;
      return push(f);
    case SchemaNode::Array:
      if (c != '[') return false;
      f.kind = kArray;
      f.phase = kArrOpen;
      return push(f);
    case SchemaNode::String:
      if (c != '"') return false;
      f.kind = kString;
      return push(f);
    case SchemaNode::Number:
    case SchemaNode::Integer:
      if (c != '-' && !is_digit(c)) return false;
      f.kind = kNumber;
      f.phase = kNumStart;
      return push(f) && step(c);
    case SchemaNode::Literal:
    case SchemaNode::Tagged: {
      for (size_t i = 0; i < n.literals.size() && i < 64; ++i)
        if (!n.literals[i].empty() && static_cast<uint8_t>(n.literals[i][0]) == c)
          f.cand |= uint64_t{1} << i;
      if (!f.cand) return false;
      f.kind = n.kind == SchemaNode::Literal ? kLiteral : kTagged;
      f.count = 0;
      return push(f) && step(c);
    }
    case SchemaNode::Union:
      for (int alt : n.alts) {
        const int saved = depth_;
        if (push_value(alt, c, guard + 1)) return true;
        depth_ = saved;
      }
      return false;
  }
  return false;
}

bool JsonMatcher::step(uint8_t c) {
  // A number or literal learns that it ended only from the byte after it;
  // that byte then goes to the parent (at most once per level).
  for (int refeed = 0; refeed <= kMaxDepth; ++refeed) {
    if (depth_ == 0) return is_ws(c) && whitespace(c);
    Frame& f = top();
    const SchemaNode& n = s_->node(f.node);

    if (f.kind == kString) {
      if (f.is_key == 2) {  // a declared property name: match against the unused names
        if (c == '"') {
          for (size_t i = 0; i < n.prop_names.size(); ++i)
            if ((f.cand >> i & 1) && n.prop_names[i].size() == static_cast<size_t>(f.count)) {
              pop();
              Frame& obj = top();
              obj.cur = static_cast<int32_t>(i);
              obj.used |= uint64_t{1} << i;
              obj.phase = kObjColon;
              return true;
            }
          return false;
        }
        uint64_t next = 0;
        for (size_t i = 0; i < n.prop_names.size(); ++i)
          if ((f.cand >> i & 1) && n.prop_names[i].size() > static_cast<size_t>(f.count) &&
              static_cast<uint8_t>(n.prop_names[i][f.count]) == c)
            next |= uint64_t{1} << i;
        if (!next) return false;
        f.cand = next;
        ++f.count;
        return true;
      }
      if (f.esc == 0) {
        if (c == '"') {
          if (f.count < n.min_len) return false;
          const bool key = f.is_key;
          pop();
          if (key) top().phase = kObjColon;
          return true;
        }
        if (c == '\\') {
          if (f.count >= n.max_len) return false;
          f.esc = 1;
          return true;
        }
        if (c < 0x20) return false;
        // Counts bytes: a stray byte becomes one U+FFFD when decoded, so
        // counting bytes keeps any decoded text within maxLength characters.
        if (f.count >= n.max_len) return false;
        ++f.count;
        return true;
      }
      if (f.esc == 1) {
        if (c == 'u') {
          f.esc = 2;
          return true;
        }
        for (char e : std::string_view("\"\\/bfnrt"))
          if (c == static_cast<uint8_t>(e)) {
            f.esc = 0;
            ++f.count;
            return true;
          }
        return false;
      }
      if (!is_hex(c)) return false;
      if (++f.esc == 6) {
        f.esc = 0;
        ++f.count;
      }
      return true;
    }

    if (f.kind == kNumber) {
      const bool integer = n.kind == SchemaNode::Integer;
      switch (f.phase) {
        case kNumStart:
          if (c == '-') {
            f.phase = kNumSign;
            return true;
          }
          [[fallthrough]];
        case kNumSign:
          if (c == '0') {
            f.phase = kNumZero;
            return true;
          }
          if (is_digit(c)) {
            f.phase = kNumInt;
            f.count = 1;
            return true;
          }
          return false;
        case kNumInt:
          if (is_digit(c)) return ++f.count <= kMaxIntDigits;
          [[fallthrough]];
        case kNumZero:
          if (c == '.' && !integer) {
            f.phase = kNumDot;
            return true;
          }
          if ((c == 'e' || c == 'E') && !integer) {
            f.phase = kNumExp;
            return true;
          }
          break;  // the number ended
        case kNumDot:
          if (is_digit(c)) {
            f.phase = kNumFrac;
            f.cur = 1;
            return true;
          }
          return false;
        case kNumFrac:
          if (is_digit(c)) return ++f.cur <= kMaxFracDigits;
          if (c == 'e' || c == 'E') {
            f.phase = kNumExp;
            return true;
          }
          break;
        case kNumExp:
          if (c == '+' || c == '-') {
            f.phase = kNumExpSign;
            return true;
          }
          [[fallthrough]];
        case kNumExpSign:
          if (is_digit(c)) {
            f.phase = kNumExpDigits;
            f.cur = 1;
            return true;
          }
          return false;
        case kNumExpDigits:
          if (is_digit(c)) return ++f.cur <= kMaxExpDigits;
          break;
      }
      if (!num_complete(f.phase)) return false;
      pop();
      continue;
    }

    if (f.kind == kLiteral || f.kind == kTagged) {
      if (f.kind == kTagged && f.phase == 1) {  // after the arguments: only `}`
        if (is_ws(c)) return whitespace(c);
        ws_mode_ = 0;
        if (c != '}') return false;
        pop();
        return true;
      }
      uint64_t next = 0;
      bool complete = false;
      for (size_t i = 0; i < n.literals.size() && i < 64; ++i) {
        if (!(f.cand >> i & 1)) continue;
        const std::string& lit = n.literals[i];
        if (lit.size() > static_cast<size_t>(f.count) && static_cast<uint8_t>(lit[f.count]) == c)
          next |= uint64_t{1} << i;
        if (lit.size() == static_cast<size_t>(f.count)) complete = true;
      }
      if (next) {
        f.cand = next;
        ++f.count;
        if (f.kind == kTagged) {
          for (size_t i = 0; i < n.literals.size(); ++i)
            if ((next >> i & 1) && n.literals[i].size() == static_cast<size_t>(f.count)) {
              f.phase = 1;  // the prefix is done: the arguments follow
              Frame v;
              v.kind = kValue;
              v.node = n.alts[i];
              return push(v);
            }
        }
        return true;
      }
      if (!complete || f.kind == kTagged) return false;
      pop();
      continue;
    }

    const bool ws = is_ws(c);
    if (ws) return whitespace(c);
    ws_mode_ = 0;
    ws_count_ = 0;

    switch (f.kind) {
      case kValue: {
        const int node = f.node;
        pop();
        return push_value(node, c, 0);
      }
      case kObject:
        switch (f.phase) {
          case kObjOpen:
          case kObjComma:
            if (c == '"') {
              Frame k;
              k.kind = kString;
              if (n.free_keys) {
                k.node = JsonSchema::kFreeString;
                k.is_key = 1;
              } else {
                k.node = f.node;
                k.is_key = 2;
                k.cand = all_props(n) & ~f.used;
                if (!k.cand) return false;
              }
              return push(k);
            }
            if (c == '}' && f.phase == kObjOpen) {
              if ((f.used & n.required) != n.required) return false;
              pop();
              return true;
            }
            return false;
          case kObjColon: {
            if (c != ':') return false;
            f.phase = kObjValue;
            Frame v;
            v.kind = kValue;
            v.node = n.free_keys ? n.items : n.prop_nodes[f.cur];
            return push(v);
          }
          case kObjValue:
            if (c == ',') {
              if (!n.free_keys && !(all_props(n) & ~f.used)) return false;
              f.phase = kObjComma;
              return true;
            }
            if (c == '}') {
              if ((f.used & n.required) != n.required) return false;
              pop();
              return true;
            }
            return false;
        }
        return false;
      case kArray:
        if (f.phase == kArrOpen && c == ']') {
          if (n.min_items > 0) return false;
          pop();
          return true;
        }
        if (f.phase == kArrValue) {
          if (c == ',') {
            if (f.count >= n.max_items) return false;
            f.phase = kArrComma;
            return true;
          }
          if (c == ']') {
            if (f.count < n.min_items) return false;
            pop();
            return true;
          }
          return false;
        }
        {  // an item starts with this byte
          if (f.count >= n.max_items) return false;
          ++f.count;
          f.phase = kArrValue;
          return push_value(n.items, c, 0);
        }
    }
    return false;
  }
  return false;
}

void JsonMatcher::walk(const TokenTrie& trie, int node, int level, std::vector<JsonMatcher>& levels,
                       std::vector<uint8_t>& allowed) {
  const auto& nodes = trie.nodes();
  for (const auto& [c, child] : nodes[node].kids) {
    JsonMatcher& st = levels[level + 1];
    st = levels[level];
    if (!st.step(c)) continue;  // prunes every token beginning with this prefix
    for (int32_t id : nodes[child].tokens) allowed[id] = 1;
    if (!nodes[child].kids.empty()) walk(trie, child, level + 1, levels, allowed);
  }
}

void JsonMatcher::allowed(const TokenTrie& trie, std::vector<uint8_t>& allowed) const {
  // One state per trie depth, reused across branches: the walk copies, never allocates.
  thread_local std::vector<JsonMatcher> levels;
  if (levels.size() < trie.max_len() + 2) levels.assign(trie.max_len() + 2, *this);
  levels[0] = *this;
  walk(trie, 0, 0, levels, allowed);
}

}  // namespace sf
