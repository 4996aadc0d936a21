#include "tokenizer/regex.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include <limits>

#include "tokenizer/unicode.h"

namespace sf::tok {

namespace {

constexpr uint32_t kInf = std::numeric_limits<uint32_t>::max();

// ---------------------------------------------------------------- classes

struct ClassItem {
  enum Kind : uint8_t { kRange, kCat, kSpace, kDigit, kWord, kScript };
  Kind kind;
  bool neg;  // item matches when the property does not hold (\S, \P{L} ...)
  uint32_t a, b;
};

constexpr uint32_t kWordMask = U_GC_L_MASK | U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK;

bool item_matches(const ClassItem& it, uint32_t cp) {
  bool r = false;
  switch (it.kind) {
    case ClassItem::kRange:
      r = cp >= it.a && cp <= it.b;
      break;
    case ClassItem::kCat:
      r = (cp_category_mask(cp) & it.a) != 0;
      break;
    case ClassItem::kSpace:
      r = cp_is_space(cp);
      break;
    case ClassItem::kDigit:
      r = (cp_category_mask(cp) & U_GC_ND_MASK) != 0;
      break;
    case ClassItem::kWord:
      r = (cp_category_mask(cp) & kWordMask) != 0;
      break;
    case ClassItem::kScript: {
      if (cp >= kInvalidCp) {
        r = false;
      } else {
        UErrorCode err = U_ZERO_ERROR;
        r = static_cast<uint32_t>(uscript_getScript(static_cast<UChar32>(cp), &err)) == it.a;
      }
      break;
    }
  }
  return r != it.neg;
}

struct CharClass {
  bool negate = false;
  bool icase = false;
  std::vector<ClassItem> items;
  std::vector<uint64_t> bmp;  // precomputed answer for cp < 0x10000

  bool compute(uint32_t cp) const {
    bool in = false;
    for (const auto& it : items) {
      if (item_matches(it, cp)) {
        in = true;
        break;
      }
    }
    if (!in && icase && cp < kInvalidCp) {
      const uint32_t alts[3] = {cp_fold(cp), cp_lower(cp),
                                static_cast<uint32_t>(u_toupper(static_cast<UChar32>(cp)))};
      for (uint32_t c : alts) {
        if (c == cp) continue;
        for (const auto& it : items) {
          if (item_matches(it, c)) {
            in = true;
            break;
          }
        }
        if (in) break;
      }
    }
    return in != negate;
  }
  // Precomputes the BMP bitmap. Ranges are set directly and property items
  // are grouped (one pass over the BMP per distinct property), so a class with
  // hundreds of items compiles quickly.
  void finalize() {
    bmp.assign(0x10000 / 64, 0);
    auto set = [&](uint32_t cp) { bmp[cp >> 6] |= 1ull << (cp & 63); };
    if (icase) {  // case closure: rare, evaluate every code point
      for (uint32_t cp = 0; cp < 0x10000; ++cp)
        if (compute(cp)) set(cp);
      return;
    }
    uint32_t pos_cats = 0;
    std::vector<ClassItem> passes;  // properties needing a pass over the BMP
    for (const ClassItem& it : items) {
      if (it.kind == ClassItem::kRange && !it.neg) {
        for (uint32_t cp = it.a; cp <= it.b && cp < 0x10000; ++cp) set(cp);
      } else if (it.kind == ClassItem::kCat && !it.neg) {
        pos_cats |= it.a;
      } else {
        bool dup = false;
        for (const ClassItem& q : passes)
          dup = dup || (q.kind == it.kind && q.neg == it.neg && q.a == it.a && q.b == it.b);
        if (!dup) passes.push_back(it);
      }
    }
    if (pos_cats != 0) passes.push_back({ClassItem::kCat, false, pos_cats, 0});
    for (const ClassItem& it : passes)
      for (uint32_t cp = 0; cp < 0x10000; ++cp)
        if (item_matches(it, cp)) set(cp);
    if (negate)
      for (auto& w : bmp) w = ~w;
  }
  bool matches(uint32_t cp) const {
    if (cp < 0x10000) return (bmp[cp >> 6] >> (cp & 63)) & 1;
    return compute(cp);
  }
};

// ---------------------------------------------------------------- AST

struct Node {
  enum Type { kChar, kClass, kAny, kSeq, kAlt, kRep, kLook, kAtomic, kAssert, kEmpty } type;
  uint32_t cp = 0;
  bool icase = false;
  int cls = -1;
  std::vector<std::unique_ptr<Node>> kids;
  uint32_t min = 0, max = 0;
  enum Mode : uint8_t { kGreedy, kLazy, kPossessive } mode = kGreedy;
  bool neg = false;
  int assert_kind = 0;
  explicit Node(Type t) : type(t) {}
};

enum AssertKind { kBol = 1, kEol, kEos, kEosNl, kWordB, kNotWordB };

bool nullable(const Node& n) {
  switch (n.type) {
    case Node::kChar:
    case Node::kClass:
    case Node::kAny:
      return false;
    case Node::kSeq:
      for (const auto& k : n.kids)
        if (!nullable(*k)) return false;
      return true;
    case Node::kAlt:
      for (const auto& k : n.kids)
        if (nullable(*k)) return true;
      return false;
    case Node::kRep:
      return n.min == 0 || nullable(*n.kids[0]);
    case Node::kAtomic:
      return nullable(*n.kids[0]);
    default:
      return true;
  }
}

}  // namespace

// ---------------------------------------------------------------- program

enum Op : uint8_t {
  kOpChar,
  kOpCharI,
  kOpClass,
  kOpAny,
  kOpSplit,  // try x, then y
  kOpJmp,
  kOpRep,  // single-item repetition: rk (0 char, 1 chari, 2 class, 3 any), x, min, max, mode
  kOpLook,
  kOpAtomic,
  kOpAssert,
  kOpMatch,
};

struct Inst {
  Op op;
  uint8_t mode = 0;  // kOpRep: Node::Mode; kOpLook: 1 = negative
  uint8_t rk = 0;
  uint32_t x = 0, y = 0;
  uint32_t min = 0, max = 0;
};

struct Regex::Program {
  std::vector<CharClass> classes;
  std::vector<std::vector<Inst>> progs;  // [0] is the main program
};

namespace {

class Parser {
 public:
  Parser(std::string_view pattern, Regex::Program* prog) : prog_(prog) {
    size_t i = 0;
    while (i < pattern.size()) {
      int len;
      uint32_t cp = utf8_decode(pattern, i, &len);
      if (cp == kInvalidCp) cp = static_cast<uint8_t>(pattern[i]);
      p_.push_back(cp);
      i += static_cast<size_t>(len);
    }
  }

  Result<std::unique_ptr<Node>> parse() {
    auto n = parse_alt();
    if (!err_.empty()) return Status::error(err_);
    if (i_ < p_.size()) return Status::error("unbalanced ')' at " + std::to_string(i_));
    return n;
  }

 private:
  bool eof() const { return i_ >= p_.size(); }
  uint32_t peek() const { return eof() ? 0 : p_[i_]; }
  void fail(const std::string& msg) {
    if (err_.empty()) err_ = msg + " at offset " + std::to_string(i_);
  }

  std::unique_ptr<Node> parse_alt() {
    std::vector<std::unique_ptr<Node>> alts;
    alts.push_back(parse_seq());
    while (!eof() && peek() == '|') {
      ++i_;
      alts.push_back(parse_seq());
    }
    if (alts.size() == 1) return std::move(alts[0]);
    auto n = std::make_unique<Node>(Node::kAlt);
    n->kids = std::move(alts);
    return n;
  }

  std::unique_ptr<Node> parse_seq() {
    auto seq = std::make_unique<Node>(Node::kSeq);
    while (!eof() && peek() != '|' && peek() != ')' && err_.empty()) {
      auto atom = parse_atom();
      if (!atom) continue;  // inline flag group
      atom = parse_quant(std::move(atom));
      seq->kids.push_back(std::move(atom));
    }
    return seq;
  }

  bool parse_int(uint32_t* v) {
    size_t start = i_;
    uint64_t x = 0;
    while (!eof() && peek() >= '0' && peek() <= '9') {
      x = x * 10 + (peek() - '0');
      if (x > 100000) x = 100000;
      ++i_;
    }
    *v = static_cast<uint32_t>(x);
    return i_ > start;
  }

  std::unique_ptr<Node> parse_quant(std::unique_ptr<Node> atom) {
    for (;;) {
      if (eof()) return atom;
      uint32_t mn, mx;
      const uint32_t c = peek();
      if (c == '*') {
        mn = 0, mx = kInf;
        ++i_;
      } else if (c == '+') {
        mn = 1, mx = kInf;
        ++i_;
      } else if (c == '?') {
        mn = 0, mx = 1;
        ++i_;
      } else if (c == '{') {
        const size_t save = i_;
        ++i_;
        uint32_t a = 0, b = 0;
        bool ok = parse_int(&a);
        if (ok && peek() == ',') {
          ++i_;
          if (!parse_int(&b)) b = kInf;
        } else {
          b = a;
        }
        if (!ok || peek() != '}') {  // not a quantifier: a literal '{'
          i_ = save;
          return atom;
        }
        ++i_;
        mn = a, mx = b;
        if (mx < mn) {
          fail("bad repetition bounds");
          return atom;
        }
      } else {
        return atom;
      }
      if (atom->type == Node::kAssert || atom->type == Node::kLook) {
        fail("quantifier after an assertion");
        return atom;
      }
      auto rep = std::make_unique<Node>(Node::kRep);
      rep->min = mn;
      rep->max = mx;
      if (!eof() && peek() == '?') {
        rep->mode = Node::kLazy;
        ++i_;
      } else if (!eof() && peek() == '+') {
        rep->mode = Node::kPossessive;
        ++i_;
      }
      if (mx == kInf && nullable(*atom)) {
        fail("unbounded repetition of a pattern that can match empty");
        return atom;
      }
      rep->kids.push_back(std::move(atom));
      atom = std::move(rep);
    }
  }

  std::unique_ptr<Node> make_char(uint32_t cp) {
    auto n = std::make_unique<Node>(Node::kChar);
    n->cp = icase_ ? cp_fold(cp) : cp;
    n->icase = icase_;
    return n;
  }

  std::unique_ptr<Node> make_class(CharClass cls) {
    cls.icase = cls.icase || icase_;
    cls.finalize();
    auto n = std::make_unique<Node>(Node::kClass);
    n->cls = static_cast<int>(prog_->classes.size());
    prog_->classes.push_back(std::move(cls));
    return n;
  }

  std::unique_ptr<Node> parse_atom() {
    const uint32_t c = p_[i_++];
    switch (c) {
      case '(':
        return parse_group();
      case '[':
        return parse_class();
      case '.': {
        return std::make_unique<Node>(Node::kAny);
      }
      case '^': {
        auto n = std::make_unique<Node>(Node::kAssert);
        n->assert_kind = kBol;
        return n;
      }
      case '$': {
        auto n = std::make_unique<Node>(Node::kAssert);
        n->assert_kind = kEol;
        return n;
      }
      case '\\':
        return parse_escape_atom();
      case '*':
      case '+':
      case '?':
        fail("nothing to repeat");
        return std::make_unique<Node>(Node::kEmpty);
      default:
        return make_char(c);
    }
  }

  std::unique_ptr<Node> parse_group() {
    const bool saved_icase = icase_;
    std::unique_ptr<Node> wrap;
    if (!eof() && peek() == '?') {
      ++i_;
      const uint32_t k = peek();
      if (k == ':') {
        ++i_;
      } else if (k == '=' || k == '!') {
        ++i_;
        wrap = std::make_unique<Node>(Node::kLook);
        wrap->neg = k == '!';
      } else if (k == '>') {
        ++i_;
        wrap = std::make_unique<Node>(Node::kAtomic);
      } else if (k == '<') {
        fail("lookbehind is not supported");
        return std::make_unique<Node>(Node::kEmpty);
      } else {
        // Flags: (?i) (?-i) (?i:...) (?is:...)
        bool on = true, any = false;
        while (!eof() && peek() != ':' && peek() != ')') {
          const uint32_t f = p_[i_++];
          if (f == '-') {
            on = false;
          } else if (f == 'i') {
            icase_ = on;
            any = true;
          } else if (f == 'x' || f == 's' || f == 'm' || f == 'u') {
            any = true;  // no effect on the patterns tokenizers use
          } else {
            fail("unsupported group flag");
            return std::make_unique<Node>(Node::kEmpty);
          }
        }
        if (!any && eof()) {
          fail("unterminated group");
          return std::make_unique<Node>(Node::kEmpty);
        }
        if (peek() == ')') {  // (?i): applies to the rest of the enclosing group
          ++i_;
          return nullptr;
        }
        ++i_;  // ':'
      }
    }
    auto inner = parse_alt();
    icase_ = saved_icase;
    if (eof() || peek() != ')') {
      fail("missing ')'");
      return std::make_unique<Node>(Node::kEmpty);
    }
    ++i_;
    if (wrap) {
      wrap->kids.push_back(std::move(inner));
      return wrap;
    }
    return inner;
  }

  // Parses \p{..} / \pL after the 'p' or 'P'; fills an item.
  bool parse_property(bool neg, ClassItem* item) {
    std::string name;
    if (!eof() && peek() == '{') {
      ++i_;
      while (!eof() && peek() != '}') name.push_back(static_cast<char>(p_[i_++]));
      if (eof()) {
        fail("unterminated \\p{");
        return false;
      }
      ++i_;
    } else if (!eof()) {
      name.push_back(static_cast<char>(p_[i_++]));
    }
    if (!name.empty() && name[0] == '^') {
      neg = !neg;
      name.erase(0, 1);
    }
    bool ok = false;
    const uint32_t mask = category_mask_for_name(name, &ok);
    if (ok) {
      *item = {ClassItem::kCat, neg, mask, 0};
      return true;
    }
    const int32_t script = u_getPropertyValueEnum(UCHAR_SCRIPT, name.c_str());
    if (script != UCHAR_INVALID_CODE) {
      *item = {ClassItem::kScript, neg, static_cast<uint32_t>(script), 0};
      return true;
    }
    fail("unknown property \\p{" + name + "}");
    return false;
  }

  bool parse_hex(int max_digits, uint32_t* v) {
    uint32_t x = 0;
    int n = 0;
    const bool braced = !eof() && peek() == '{';
    if (braced) ++i_;
    while (!eof() && (braced || n < max_digits)) {
      const uint32_t c = peek();
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        break;
      }
      x = x * 16 + d;
      if (x > 0x10FFFF) {
        fail("code point out of range");
        return false;
      }
      ++n;
      ++i_;
    }
    if (braced) {
      if (eof() || peek() != '}') {
        fail("bad \\x{...}");
        return false;
      }
      ++i_;
    }
    if (n == 0) {
      fail("bad hex escape");
      return false;
    }
    *v = x;
    return true;
  }

  // An escape inside or outside a class. Returns true with *item for class-like
  // escapes, false with *cp for a single character.
  bool parse_escape(ClassItem* item, uint32_t* cp) {
    if (eof()) {
      fail("trailing backslash");
      *cp = '\\';
      return false;
    }
    const uint32_t c = p_[i_++];
    switch (c) {
      case 's':
      case 'S':
        *item = {ClassItem::kSpace, c == 'S', 0, 0};
        return true;
      case 'd':
      case 'D':
        *item = {ClassItem::kDigit, c == 'D', 0, 0};
        return true;
      case 'w':
      case 'W':
        *item = {ClassItem::kWord, c == 'W', 0, 0};
        return true;
      case 'p':
      case 'P':
        if (!parse_property(c == 'P', item)) *item = {ClassItem::kRange, false, 1, 0};
        return true;
      case 'n':
        *cp = '\n';
        return false;
      case 'r':
        *cp = '\r';
        return false;
      case 't':
        *cp = '\t';
        return false;
      case 'f':
        *cp = '\f';
        return false;
      case 'v':
        *cp = '\v';
        return false;
      case 'a':
        *cp = 7;
        return false;
      case 'e':
        *cp = 27;
        return false;
      case '0':
        *cp = 0;
        return false;
      case 'x':
        if (!parse_hex(2, cp)) *cp = 0;
        return false;
      case 'u':
        if (!parse_hex(4, cp)) *cp = 0;
        return false;
      case 'U':
        if (!parse_hex(8, cp)) *cp = 0;
        return false;
      default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '1' && c <= '9')) {
          fail(std::string("unsupported escape \\") + static_cast<char>(c));
        }
        *cp = c;  // escaped punctuation or other literal
        return false;
    }
  }

  std::unique_ptr<Node> parse_escape_atom() {
    if (!eof()) {
      const uint32_t c = peek();
      if (c == 'b' || c == 'B' || c == 'A' || c == 'z' || c == 'Z') {
        ++i_;
        auto n = std::make_unique<Node>(Node::kAssert);
        n->assert_kind = c == 'b'   ? kWordB
                         : c == 'B' ? kNotWordB
                         : c == 'A' ? kBol
                         : c == 'z' ? kEos
                                    : kEosNl;
        return n;
      }
    }
    ClassItem item{};
    uint32_t cp = 0;
    if (parse_escape(&item, &cp)) {
      CharClass cls;
      cls.items.push_back(item);
      return make_class(std::move(cls));
    }
    return make_char(cp);
  }

  std::unique_ptr<Node> parse_class() {
    CharClass cls;
    if (!eof() && peek() == '^') {
      cls.negate = true;
      ++i_;
    }
    bool first = true;
    while (!eof() && (peek() != ']' || first)) {
      first = false;
      uint32_t lo;
      const uint32_t c = p_[i_++];
      if (c == '[') {
        fail("nested classes are not supported");
        break;
      }
      if (c == '\\') {
        ClassItem item{};
        if (parse_escape(&item, &lo)) {
          cls.items.push_back(item);
          continue;
        }
      } else {
        lo = c;
      }
      // Range?
      if (i_ + 1 < p_.size() && peek() == '-' && p_[i_ + 1] != ']') {
        ++i_;
        uint32_t hi;
        const uint32_t d = p_[i_++];
        if (d == '\\') {
          ClassItem item{};
          if (parse_escape(&item, &hi)) {
            fail("class escape as a range end");
            break;
          }
        } else {
          hi = d;
        }
        if (hi < lo) {
          fail("bad class range");
          break;
        }
        cls.items.push_back({ClassItem::kRange, false, lo, hi});
      } else {
        cls.items.push_back({ClassItem::kRange, false, lo, lo});
      }
    }
    if (eof()) {
      fail("missing ']'");
      return std::make_unique<Node>(Node::kEmpty);
    }
    ++i_;  // ']'
    return make_class(std::move(cls));
  }

  std::vector<uint32_t> p_;
  size_t i_ = 0;
  bool icase_ = false;
  std::string err_;
  Regex::Program* prog_;
};

class Compiler {
 public:
  explicit Compiler(Regex::Program* prog) : prog_(prog) {}

  Status compile_into(const Node& n, uint32_t prog_index) {
    emit(n, prog_index);
    code(prog_index).push_back({kOpMatch});
    if (prog_->progs[prog_index].size() > 200000) return Status::error("pattern too large");
    return Status();
  }

 private:
  std::vector<Inst>& code(uint32_t pi) { return prog_->progs[pi]; }

  uint32_t new_prog(const Node& n) {
    prog_->progs.emplace_back();
    const auto idx = static_cast<uint32_t>(prog_->progs.size() - 1);
    emit(n, idx);
    code(idx).push_back({kOpMatch});
    return idx;
  }

  static bool single(const Node& n) {
    return n.type == Node::kChar || n.type == Node::kClass || n.type == Node::kAny;
  }

  void emit(const Node& n, uint32_t pi) {
    switch (n.type) {
      case Node::kEmpty:
        return;
      case Node::kChar: {
        Inst in{n.icase ? kOpCharI : kOpChar};
        in.x = n.cp;
        code(pi).push_back(in);
        return;
      }
      case Node::kClass: {
        Inst in{kOpClass};
        in.x = static_cast<uint32_t>(n.cls);
        code(pi).push_back(in);
        return;
      }
      case Node::kAny:
        code(pi).push_back({kOpAny});
        return;
      case Node::kAssert: {
        Inst in{kOpAssert};
        in.x = static_cast<uint32_t>(n.assert_kind);
        code(pi).push_back(in);
        return;
      }
      case Node::kSeq:
        for (const auto& k : n.kids) emit(*k, pi);
        return;
      case Node::kAlt: {
        std::vector<size_t> jumps;
        for (size_t k = 0; k < n.kids.size(); ++k) {
          if (k + 1 < n.kids.size()) {
            const size_t split = code(pi).size();
            code(pi).push_back({kOpSplit});
            code(pi)[split].x = static_cast<uint32_t>(split + 1);
            emit(*n.kids[k], pi);
            jumps.push_back(code(pi).size());
            code(pi).push_back({kOpJmp});
            code(pi)[split].y = static_cast<uint32_t>(code(pi).size());
          } else {
            emit(*n.kids[k], pi);
          }
        }
        for (size_t j : jumps) code(pi)[j].x = static_cast<uint32_t>(code(pi).size());
        return;
      }
      case Node::kLook: {
        const uint32_t sub = new_prog(*n.kids[0]);
        Inst in{kOpLook};
        in.x = sub;
        in.mode = n.neg ? 1 : 0;
        code(pi).push_back(in);
        return;
      }
      case Node::kAtomic: {
        const uint32_t sub = new_prog(*n.kids[0]);
        Inst in{kOpAtomic};
        in.x = sub;
        code(pi).push_back(in);
        return;
      }
      case Node::kRep:
        emit_rep(n, pi);
        return;
    }
  }

  void emit_rep(const Node& n, uint32_t pi) {
    const Node& body = *n.kids[0];
    if (single(body)) {
      Inst in{kOpRep};
      in.mode = n.mode;
      in.min = n.min;
      in.max = n.max;
      if (body.type == Node::kChar) {
        in.rk = body.icase ? 1 : 0;
        in.x = body.cp;
      } else if (body.type == Node::kClass) {
        in.rk = 2;
        in.x = static_cast<uint32_t>(body.cls);
      } else {
        in.rk = 3;
      }
      code(pi).push_back(in);
      return;
    }
    if (n.mode == Node::kPossessive) {
      // x{m,n}+ == (?>x{m,n}): a greedy loop in its own atomic program.
      prog_->progs.emplace_back();
      const auto sub = static_cast<uint32_t>(prog_->progs.size() - 1);
      Node tmp(Node::kRep);
      tmp.min = n.min;
      tmp.max = n.max;
      tmp.mode = Node::kGreedy;
      emit_rep_general(tmp, body, sub);
      code(sub).push_back({kOpMatch});
      Inst in{kOpAtomic};
      in.x = sub;
      code(pi).push_back(in);
      return;
    }
    emit_rep_general(n, body, pi);
  }

  void emit_rep_general(const Node& n, const Node& body, uint32_t pi) {
    const bool lazy = n.mode == Node::kLazy;
    for (uint32_t k = 0; k < n.min; ++k) emit(body, pi);
    if (n.max == kInf) {
      const size_t loop = code(pi).size();
      code(pi).push_back({kOpSplit});
      emit(body, pi);
      Inst j{kOpJmp};
      j.x = static_cast<uint32_t>(loop);
      code(pi).push_back(j);
      const auto after = static_cast<uint32_t>(code(pi).size());
      Inst& s = code(pi)[loop];
      s.x = lazy ? after : static_cast<uint32_t>(loop + 1);
      s.y = lazy ? static_cast<uint32_t>(loop + 1) : after;
      return;
    }
    std::vector<size_t> splits;
    for (uint32_t k = n.min; k < n.max; ++k) {
      splits.push_back(code(pi).size());
      code(pi).push_back({kOpSplit});
      emit(body, pi);
    }
    const auto after = static_cast<uint32_t>(code(pi).size());
    for (size_t s : splits) {
      Inst& in = code(pi)[s];
      in.x = lazy ? after : static_cast<uint32_t>(s + 1);
      in.y = lazy ? static_cast<uint32_t>(s + 1) : after;
    }
  }

  Regex::Program* prog_;
};

uint32_t max_expansion(const Node& n) {
  // Rough size of the compiled program, to refuse absurd counted repetitions.
  uint64_t s = 1;
  for (const auto& k : n.kids) s += max_expansion(*k);
  if (n.type == Node::kRep && !n.kids.empty() &&
      !(n.kids[0]->type == Node::kChar || n.kids[0]->type == Node::kClass ||
        n.kids[0]->type == Node::kAny)) {
    const uint64_t reps = n.max == kInf ? uint64_t{n.min} + 1 : uint64_t{n.max};
    s = s * (reps + 1);
  }
  return s > 1000000 ? 1000000 : static_cast<uint32_t>(s);
}

// ---------------------------------------------------------------- VM

struct Frame {
  uint32_t pc, pos, aux;
  uint32_t kind;  // 0: resume, 1: greedy give-back (aux = min pos), 2: lazy extend (aux = count)
};

struct Vm {
  const Regex::Program& p;
  const uint32_t* cps;
  uint32_t begin, end;
  uint64_t budget;
  bool exhausted = false;
  std::vector<Frame>& stack;

  bool item(const Inst& in, uint32_t c) const {
    switch (in.rk) {
      case 0:
        return c == in.x;
      case 1:
        return cp_fold(c) == in.x;
      case 2:
        return p.classes[in.x].matches(c);
      default:
        return c != '\n';
    }
  }

  static bool is_word(uint32_t c) { return (cp_category_mask(c) & kWordMask) != 0; }

  bool assert_ok(uint32_t kind, uint32_t pos) const {
    switch (kind) {
      case kBol:
        return pos == begin;
      case kEol:  // Oniguruma (Ruby syntax): end of line
        return pos == end || cps[pos] == '\n';
      case kEos:
        return pos == end;
      case kEosNl:
        return pos == end || (pos + 1 == end && cps[pos] == '\n');
      case kWordB:
      case kNotWordB: {
        const bool a = pos > begin && is_word(cps[pos - 1]);
        const bool b = pos < end && is_word(cps[pos]);
        return (a != b) == (kind == kWordB);
      }
      default:
        return false;
    }
  }

  // Runs program `pi` anchored at `pos`; returns the end of the first match in
  // priority order, or -1.
  int64_t run(uint32_t pi, uint32_t pos) {
    const std::vector<Inst>& code = p.progs[pi];
    const size_t base = stack.size();
    uint32_t pc = 0;
    for (;;) {
      bool ok = true;
      while (ok) {
        if (budget == 0) {
          exhausted = true;
          stack.resize(base);
          return -1;
        }
        --budget;
        const Inst& in = code[pc];
        switch (in.op) {
          case kOpChar:
            ok = pos < end && cps[pos] == in.x;
            ++pos, ++pc;
            break;
          case kOpCharI:
            ok = pos < end && cp_fold(cps[pos]) == in.x;
            ++pos, ++pc;
            break;
          case kOpClass:
            ok = pos < end && p.classes[in.x].matches(cps[pos]);
            ++pos, ++pc;
            break;
          case kOpAny:
            ok = pos < end && cps[pos] != '\n';
            ++pos, ++pc;
            break;
          case kOpSplit:
            stack.push_back({in.y, pos, 0, 0});
            pc = in.x;
            break;
          case kOpJmp:
            pc = in.x;
            break;
          case kOpRep: {
            const uint32_t start = pos;
            const uint32_t limit =
                in.mode == Node::kLazy ? in.min : (in.max == kInf ? end - pos : in.max);
            uint32_t k = 0;
            while (k < limit && pos < end && item(in, cps[pos])) ++pos, ++k;
            if (k < in.min) {
              ok = false;
              break;
            }
            if (in.mode == Node::kGreedy && k > in.min)
              stack.push_back({pc + 1, pos, start + in.min, 1});
            else if (in.mode == Node::kLazy)
              stack.push_back({pc, pos, k, 2});
            ++pc;
            break;
          }
          case kOpLook: {
            const int64_t r = run(in.x, pos);
            if (exhausted) return -1;
            ok = (r >= 0) != (in.mode == 1);
            ++pc;
            break;
          }
          case kOpAtomic: {
            const int64_t r = run(in.x, pos);
            if (exhausted) return -1;
            ok = r >= 0;
            if (ok) pos = static_cast<uint32_t>(r);
            ++pc;
            break;
          }
          case kOpAssert:
            ok = assert_ok(in.x, pos);
            ++pc;
            break;
          case kOpMatch:
            stack.resize(base);
            return pos;
        }
      }
      // Backtrack.
      for (;;) {
        if (stack.size() == base) return -1;
        const Frame f = stack.back();
        stack.pop_back();
        if (f.kind == 0) {
          pc = f.pc;
          pos = f.pos;
          break;
        }
        if (f.kind == 1) {
          const uint32_t np = f.pos - 1;
          if (np > f.aux) stack.push_back({f.pc, np, f.aux, 1});
          pc = f.pc;
          pos = np;
          break;
        }
        const Inst& in = code[f.pc];
        if (f.aux < in.max && f.pos < end && item(in, cps[f.pos])) {
          stack.push_back({f.pc, f.pos + 1, f.aux + 1, 2});
          pc = f.pc + 1;
          pos = f.pos + 1;
          break;
        }
      }
    }
  }
};

thread_local std::vector<Frame> tl_stack;

}  // namespace

Result<Regex> Regex::compile(std::string_view pattern) {
  auto prog = std::make_shared<Program>();
  Parser parser(pattern, prog.get());
  auto ast = parser.parse();
  if (!ast.ok()) return ast.status().with_context("regex '" + std::string(pattern) + "'");
  if (max_expansion(**ast) >= 1000000)
    return Status::error("regex '" + std::string(pattern) + "': counted repetition too large");
  prog->progs.emplace_back();
  Compiler c(prog.get());
  SF_RETURN_IF_ERROR(c.compile_into(**ast, 0));
  Regex r;
  r.pattern_ = std::string(pattern);
  r.prog_ = std::move(prog);
  return r;
}

int64_t Regex::match_at(const uint32_t* cps, uint32_t begin, uint32_t end, uint32_t pos,
                        uint64_t* budget) const {
  Vm vm{*prog_, cps, begin, end, *budget, false, tl_stack};
  const int64_t r = vm.run(0, pos);
  *budget = vm.budget;
  if (vm.exhausted) return kOutOfSteps;
  return r < 0 ? kNoMatch : r - pos;
}

}  // namespace sf::tok
