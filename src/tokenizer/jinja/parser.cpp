#include "tokenizer/jinja/parser.h"

#include <algorithm>
#include <initializer_list>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/filters.h"
#include "tokenizer/jinja/stack_guard.h"
#include "tokenizer/jinja/tests.h"

namespace sf::jinja {

namespace {

using T = Token::Type;

class Parser {
 public:
  Parser(const std::vector<Token>& toks, int max_nesting) : t_(toks), max_nesting_(max_nesting) {}

  StmtList parse_template() {
    StmtList body = parse_body({}, nullptr, 0);
    return body;
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  void advance() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  bool is_op(std::string_view op) const { return cur().type == T::Op && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == T::Name && cur().text == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    advance();
    return true;
  }
  [[noreturn]] void error(const std::string& msg) const { fail_syntax(msg, cur().offset); }
  [[noreturn]] void unexpected(const std::string& expected) const {
    error("expected " + expected + ", got " + describe(cur()));
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) unexpected("'" + std::string(op) + "'");
  }
  std::string expect_name() {
    if (cur().type != T::Name) unexpected("a name");
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().type != T::BlockEnd) unexpected("end of statement '%}'");
    advance();
  }

  // Guards parser recursion; every nested construct passes through one.
  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) {
      if (++p.nesting_ > p.max_nesting_ || p.stack_.exhausted()) {
        --p.nesting_;
        p.error("template nested too deeply (max_nesting)");
      }
    }
    ~Nest() { --p.nesting_; }
  };

  template <class E>
  ExprPtr finish(std::unique_ptr<E> e, std::initializer_list<const Expr*> children,
                 uint32_t base = 0) {
    uint32_t h = base;
    for (const Expr* c : children)
      if (c) h = std::max(h, c->height);
    e->height = h + 1;
    if (e->height > static_cast<uint32_t>(max_nesting_))
      fail_syntax("expression nested too deeply (max_nesting)", e->offset);
    return e;
  }
  uint32_t args_height(const Args& a) const {
    uint32_t h = 0;
    for (const auto& e : a.pos) h = std::max(h, e->height);
    for (const auto& [k, e] : a.kw) h = std::max(h, e->height);
    return h;
  }

  // ---- statements ----

  // Parses statements until a block tag named in `ends` (consumed up to the
  // tag name; *found receives it) or the end of the template.
  StmtList parse_body(std::initializer_list<std::string_view> ends, std::string* found,
                      uint32_t opened_at) {
    StmtList body;
    for (;;) {
      const Token& tok = cur();
      switch (tok.type) {
        case T::Text:
          body.push_back(std::make_unique<TextStmt>(tok.offset, tok.text));
          advance();
          break;
        case T::VarBegin: {
          const uint32_t at = tok.offset;
          advance();
          ExprPtr e = parse_tuple(true, {}, false);
          if (cur().type != T::VarEnd) unexpected("end of print statement '}}'");
          advance();
          body.push_back(std::make_unique<OutputStmt>(at, std::move(e)));
          break;
        }
        case T::BlockBegin: {
          const Token& name = peek();
          if (name.type == T::Name &&
              std::find(ends.begin(), ends.end(), std::string_view(name.text)) != ends.end()) {
            *found = name.text;
            advance();
            advance();
            return body;
          }
          body.push_back(parse_statement());
          break;
        }
        case T::Eof:
          if (ends.size() == 0) return body;
          {
            std::string want;
            for (auto e : ends) want += (want.empty() ? "'" : " or '") + std::string(e) + "'";
            fail_syntax(
                "unexpected end of template, expected " + want + " to close the block opened here",
                opened_at);
          }
        default:
          unexpected("template text or a tag");
      }
    }
  }

  StmtPtr parse_statement() {
    Nest nest(*this);
    const uint32_t at = cur().offset;
    advance();  // {%
    if (cur().type != T::Name) unexpected("a statement name");
    const std::string kw = cur().text;
    advance();
    if (kw == "if") return parse_if(at);
    if (kw == "for") return parse_for(at);
    if (kw == "set") return parse_set(at);
    if (kw == "macro") return parse_macro(at);
    if (kw == "filter") return parse_filter_block(at);
    if (kw == "with") return parse_with(at);
    if (kw == "break" || kw == "continue") {
      if (loop_depth_ == 0) fail_syntax("'" + kw + "' outside of a for loop", at);
      expect_block_end();
      return std::make_unique<LoopControlStmt>(
          kw == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, at);
    }
    if (kw == "do") {
      ExprPtr e = parse_tuple(true, {}, false);
      expect_block_end();
      return std::make_unique<DoStmt>(at, std::move(e));
    }
    if (kw == "generation") {  // transformers' AssistantTracker: render the body in place
      expect_block_end();
      auto s = std::make_unique<BlockStmt>(at);
      std::string found;
      s->body = parse_body({"endgeneration"}, &found, at);
      expect_block_end();
      return s;
    }
    if (kw == "include" || kw == "import" || kw == "from" || kw == "extends" || kw == "block" ||
        kw == "call" || kw == "autoescape")
      fail_syntax("'" + kw + "' tags are not supported in chat templates", at);
    fail_syntax("unknown tag '" + kw + "'", at);
  }

  StmtPtr parse_if(uint32_t at) {
    auto s = std::make_unique<IfStmt>(at);
    for (;;) {
      ExprPtr cond = parse_tuple(false, {}, false);
      expect_block_end();
      std::string found;
      StmtList body = parse_body({"elif", "else", "endif"}, &found, at);
      s->branches.emplace_back(std::move(cond), std::move(body));
      if (found == "elif") continue;
      if (found == "else") {
        expect_block_end();
        s->else_body = parse_body({"endif"}, &found, at);
      }
      expect_block_end();
      return s;
    }
  }

  Target parse_target(bool allow_attr, std::initializer_list<std::string_view> ends) {
    Target t;
    const bool paren = skip_op("(");
    for (;;) {
      t.names.push_back(expect_name());
      if (allow_attr && t.names.size() == 1 && !paren && skip_op(".")) {
        t.attr = expect_name();
        return t;
      }
      if (!skip_op(",")) break;
      t.unpack = true;
      if (paren && is_op(")")) break;
      if (cur().type == T::Name &&
          std::find(ends.begin(), ends.end(), std::string_view(cur().text)) != ends.end())
        break;
    }
    if (paren) {
      t.unpack = true;
      expect_op(")");
    }
    return t;
  }

  StmtPtr parse_for(uint32_t at) {
    auto s = std::make_unique<ForStmt>(at);
    Target t = parse_target(false, {"in"});
    s->targets = std::move(t.names);
    s->unpack = t.unpack;
    if (!skip_name("in")) unexpected("'in'");
    s->iter = parse_tuple(false, {"recursive", "if"}, false);
    if (skip_name("if")) s->filter = parse_expression(true);
    if (skip_name("recursive")) s->recursive = true;
    expect_block_end();
    std::string found;
    ++loop_depth_;
    s->body = parse_body({"endfor", "else"}, &found, at);
    --loop_depth_;
    if (found == "else") {
      expect_block_end();
      s->else_body = parse_body({"endfor"}, &found, at);
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_set(uint32_t at) {
    Target t = parse_target(true, {});
    if (skip_op("=")) {
      auto s = std::make_unique<SetStmt>(at);
      s->target = std::move(t);
      s->value = parse_tuple(true, {}, false);
      expect_block_end();
      return s;
    }
    auto s = std::make_unique<SetBlockStmt>(at);
    if (t.unpack) error("a block 'set' assigns a single name");
    s->target = std::move(t);
    if (is_op("|")) s->filter = parse_filter_chain(nullptr, true);
    expect_block_end();
    std::string found;
    s->body = parse_body({"endset"}, &found, at);
    expect_block_end();
    return s;
  }

  StmtPtr parse_macro(uint32_t at) {
    auto s = std::make_unique<MacroStmt>(at);
    s->name = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s->params.empty()) expect_op(",");
      if (is_op(")")) break;  // trailing comma
      std::string p = expect_name();
      ExprPtr def;
      if (skip_op("=")) def = parse_expression(true);
      s->params.emplace_back(std::move(p), std::move(def));
    }
    expect_op(")");
    expect_block_end();
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;  // `break` inside a macro cannot reach the caller's loop
    std::string found;
    s->body = parse_body({"endmacro"}, &found, at);
    loop_depth_ = saved_loop_depth;
    if (cur().type == T::Name) advance();  // {% endmacro name %}
    expect_block_end();
    return s;
  }

  StmtPtr parse_filter_block(uint32_t at) {
    auto s = std::make_unique<FilterBlockStmt>(at);
    s->filter = parse_filter_chain(nullptr, false);
    expect_block_end();
    std::string found;
    s->body = parse_body({"endfilter"}, &found, at);
    expect_block_end();
    return s;
  }

  StmtPtr parse_with(uint32_t at) {
    auto s = std::make_unique<WithStmt>(at);
    while (cur().type != T::BlockEnd) {
      if (!s->assigns.empty()) expect_op(",");
      std::string n = expect_name();
      expect_op("=");
      s->assigns.emplace_back(std::move(n), parse_expression(true));
    }
    expect_block_end();
    std::string found;
    s->body = parse_body({"endwith"}, &found, at);
    expect_block_end();
    return s;
  }

  // ---- expressions ----

  bool is_tuple_end(std::initializer_list<std::string_view> extra) const {
    if (cur().type == T::VarEnd || cur().type == T::BlockEnd || cur().type == T::Eof || is_op(")"))
      return true;
    return cur().type == T::Name &&
           std::find(extra.begin(), extra.end(), std::string_view(cur().text)) != extra.end();
  }

  ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra,
                      bool explicit_parens) {
    Nest nest(*this);
    const uint32_t at = cur().offset;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    for (;;) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra)) break;
      items.push_back(parse_expression(with_condexpr));
      if (!is_op(",")) break;
      is_tuple = true;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) unexpected("an expression");
    }
    auto t = std::make_unique<ListExpr>(Expr::Kind::Tuple, at);
    uint32_t h = 0;
    for (auto& e : items) h = std::max(h, e->height);
    t->items = std::move(items);
    t->height = h + 1;
    return t;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    Nest nest(*this);
    if (!with_condexpr) return parse_or();
    ExprPtr e = parse_or();
    while (is_name("if")) {
      const uint32_t at = cur().offset;
      advance();
      auto c = std::make_unique<CondExpr>(at);
      c->cond = parse_or();
      if (skip_name("else")) c->otherwise = parse_expression(true);
      c->then = std::move(e);
      const Expr *a = c->cond.get(), *b = c->then.get(), *d = c->otherwise.get();
      e = finish(std::move(c), {a, b, d});
    }
    return e;
  }

  ExprPtr binary(uint32_t at, BinaryExpr::Op op, ExprPtr l, ExprPtr r) {
    const Expr *a = l.get(), *b = r.get();
    return finish(std::make_unique<BinaryExpr>(at, op, std::move(l), std::move(r)), {a, b});
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const uint32_t at = cur().offset;
      advance();
      e = binary(at, BinaryExpr::Op::Or, std::move(e), parse_and());
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const uint32_t at = cur().offset;
      advance();
      e = binary(at, BinaryExpr::Op::And, std::move(e), parse_not());
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      Nest nest(*this);
      const uint32_t at = cur().offset;
      advance();
      ExprPtr operand = parse_not();
      const Expr* o = operand.get();
      return finish(std::make_unique<UnaryExpr>(at, UnaryExpr::Op::Not, std::move(operand)), {o});
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const uint32_t at = cur().offset;
    ExprPtr first = parse_math1();
    std::unique_ptr<CompareExpr> cmp;
    for (;;) {
      CompareExpr::Op op;
      if (is_op("==")) {
        op = CompareExpr::Op::Eq;
      } else if (is_op("!=")) {
        op = CompareExpr::Op::Ne;
      } else if (is_op("<")) {
        op = CompareExpr::Op::Lt;
      } else if (is_op("<=")) {
        op = CompareExpr::Op::Le;
      } else if (is_op(">")) {
        op = CompareExpr::Op::Gt;
      } else if (is_op(">=")) {
        op = CompareExpr::Op::Ge;
      } else if (is_name("in")) {
        op = CompareExpr::Op::In;
      } else if (is_name("not") && peek().type == T::Name && peek().text == "in") {
        op = CompareExpr::Op::NotIn;
        advance();
      } else {
        break;
      }
      advance();
      if (!cmp) {
        cmp = std::make_unique<CompareExpr>(at, std::move(first));
        cmp->height = cmp->first->height + 1;
      }
      ExprPtr rhs = parse_math1();
      cmp->height = std::max(cmp->height, rhs->height + 1);
      cmp->rest.emplace_back(op, std::move(rhs));
    }
    if (!cmp) return first;
    return cmp;
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const uint32_t at = cur().offset;
      const auto op = is_op("+") ? BinaryExpr::Op::Add : BinaryExpr::Op::Sub;
      advance();
      e = binary(at, op, std::move(e), parse_concat());
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const uint32_t at = cur().offset;
      advance();
      e = binary(at, BinaryExpr::Op::Concat, std::move(e), parse_math2());
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    for (;;) {
      BinaryExpr::Op op;
      if (is_op("*")) {
        op = BinaryExpr::Op::Mul;
      } else if (is_op("/")) {
        op = BinaryExpr::Op::Div;
      } else if (is_op("//")) {
        op = BinaryExpr::Op::FloorDiv;
      } else if (is_op("%")) {
        op = BinaryExpr::Op::Mod;
      } else {
        break;
      }
      const uint32_t at = cur().offset;
      advance();
      e = binary(at, op, std::move(e), parse_pow());
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      const uint32_t at = cur().offset;
      advance();
      e = binary(at, BinaryExpr::Op::Pow, std::move(e), parse_unary(true));
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    Nest nest(*this);
    const uint32_t at = cur().offset;
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      const auto op = is_op("-") ? UnaryExpr::Op::Neg : UnaryExpr::Op::Pos;
      advance();
      ExprPtr operand = parse_unary(false);
      const Expr* o = operand.get();
      e = finish(std::make_unique<UnaryExpr>(at, op, std::move(operand)), {o});
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& tok = cur();
    const uint32_t at = tok.offset;
    switch (tok.type) {
      case T::Name: {
        std::string n = tok.text;
        advance();
        if (n == "true" || n == "True")
          return std::make_unique<LiteralExpr>(at, Value::boolean(true));
        if (n == "false" || n == "False")
          return std::make_unique<LiteralExpr>(at, Value::boolean(false));
        if (n == "none" || n == "None") return std::make_unique<LiteralExpr>(at, Value::none());
        return std::make_unique<NameExpr>(at, std::move(n));
      }
      case T::String: {
        std::string s;
        while (cur().type == T::String) {  // adjacent literals concatenate
          s += cur().text;
          advance();
        }
        return std::make_unique<LiteralExpr>(at, Value::string(std::move(s)));
      }
      case T::Int: {
        const int64_t v = tok.int_value;
        advance();
        return std::make_unique<LiteralExpr>(at, Value::integer(v));
      }
      case T::Float: {
        const double v = tok.float_value;
        advance();
        return std::make_unique<LiteralExpr>(at, Value::number(v));
      }
      case T::Op:
        if (tok.text == "(") {
          advance();
          ExprPtr e = parse_tuple(true, {}, true);
          expect_op(")");
          return e;
        }
        if (tok.text == "[") return parse_list();
        if (tok.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    unexpected("an expression");
  }

  ExprPtr parse_list() {
    Nest nest(*this);
    auto l = std::make_unique<ListExpr>(Expr::Kind::List, cur().offset);
    expect_op("[");
    uint32_t h = 0;
    while (!is_op("]")) {
      if (!l->items.empty()) expect_op(",");
      if (is_op("]")) break;
      l->items.push_back(parse_expression(true));
      h = std::max(h, l->items.back()->height);
    }
    expect_op("]");
    l->height = h + 1;
    return l;
  }

  ExprPtr parse_dict() {
    Nest nest(*this);
    auto d = std::make_unique<DictExpr>(cur().offset);
    expect_op("{");
    uint32_t h = 0;
    while (!is_op("}")) {
      if (!d->items.empty()) expect_op(",");
      if (is_op("}")) break;
      ExprPtr k = parse_expression(true);
      expect_op(":");
      ExprPtr v = parse_expression(true);
      h = std::max({h, k->height, v->height});
      d->items.emplace_back(std::move(k), std::move(v));
    }
    expect_op("}");
    d->height = h + 1;
    return d;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      if (is_op(".") || is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    for (;;) {
      if (is_op("|")) {
        e = parse_filter_chain(std::move(e), true);
      } else if (is_name("is")) {
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  // Postfix expressions report errors at the start of their chain
  // (`messages[0].content.split(...)` points at `messages`).
  ExprPtr parse_subscript(ExprPtr obj) {
    const uint32_t at = obj->offset;
    if (skip_op(".")) {
      if (cur().type == T::Name) {
        std::string n = cur().text;
        advance();
        const Expr* o = obj.get();
        return finish(std::make_unique<GetAttrExpr>(at, std::move(obj), std::move(n)), {o});
      }
      if (cur().type == T::Int) {  // x.0 is x[0]
        auto idx = std::make_unique<LiteralExpr>(cur().offset, Value::integer(cur().int_value));
        advance();
        const Expr* o = obj.get();
        return finish(std::make_unique<GetItemExpr>(at, std::move(obj), std::move(idx)), {o});
      }
      unexpected("an attribute name after '.'");
    }
    expect_op("[");
    Nest nest(*this);
    ExprPtr parts[3];
    int n = 0;
    bool is_slice = false;
    for (;;) {
      if (!is_op(":") && !is_op("]")) parts[n] = parse_expression(true);
      if (!is_op(":")) break;
      is_slice = true;
      advance();
      if (++n == 3) error("too many ':' in slice");
    }
    expect_op("]");
    if (!is_slice) {
      if (!parts[0]) error("empty subscript '[]'");
      const Expr *o = obj.get(), *i = parts[0].get();
      return finish(std::make_unique<GetItemExpr>(at, std::move(obj), std::move(parts[0])), {o, i});
    }
    auto s = std::make_unique<SliceExpr>(at);
    const Expr *o = obj.get(), *a = parts[0].get(), *b = parts[1].get(), *c = parts[2].get();
    s->obj = std::move(obj);
    s->start = std::move(parts[0]);
    s->stop = std::move(parts[1]);
    s->step = std::move(parts[2]);
    return finish(std::move(s), {o, a, b, c});
  }

  Args parse_call_args() {
    Nest nest(*this);
    Args a;
    expect_op("(");
    while (!is_op(")")) {
      if (!a.pos.empty() || !a.kw.empty()) expect_op(",");
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) error("*args and **kwargs in calls are not supported");
      if (cur().type == T::Name && peek().type == T::Op && peek().text == "=") {
        std::string k = cur().text;
        advance();
        advance();
        a.kw.emplace_back(std::move(k), parse_expression(true));
      } else {
        if (!a.kw.empty()) error("positional argument after keyword argument");
        a.pos.push_back(parse_expression(true));
      }
    }
    expect_op(")");
    return a;
  }

  ExprPtr parse_call(ExprPtr callee) {
    const uint32_t at = callee->offset;
    auto c = std::make_unique<CallExpr>(at, std::move(callee));
    c->args = parse_call_args();
    const uint32_t h = std::max(c->callee->height, args_height(c->args));
    return finish(std::move(c), {}, h);
  }

  // `| f(args) | g ...`; with leading_pipe false the first filter has no '|'
  // (the {% filter %} tag). obj may be null (block filters).
  ExprPtr parse_filter_chain(ExprPtr obj, bool leading_pipe) {
    bool first = true;
    while (is_op("|") || (first && !leading_pipe)) {
      if (!(first && !leading_pipe)) advance();
      first = false;
      const uint32_t at = cur().offset;
      std::string name = expect_name();
      while (is_op(".") && peek().type == T::Name) {  // dotted filter names
        advance();
        name += "." + cur().text;
        advance();
      }
      // Like Jinja, unknown filters are compile-time errors.
      if (!find_filter(name)) fail_syntax("no filter named '" + name + "'", at);
      auto f = std::make_unique<FilterExpr>(at, std::move(obj), std::move(name));
      if (is_op("(")) f->args = parse_call_args();
      const uint32_t h = std::max(f->obj ? f->obj->height : 0u, args_height(f->args));
      obj = finish(std::move(f), {}, h);
    }
    return obj;
  }

  ExprPtr parse_test(ExprPtr obj) {
    const uint32_t at = cur().offset;
    advance();  // is
    const bool negated = skip_name("not");
    const uint32_t name_at = cur().offset;
    std::string name = expect_name();
    if (!find_test(name)) fail_syntax("no test named '" + name + "'", name_at);
    auto t = std::make_unique<TestExpr>(at, std::move(obj), std::move(name), negated);
    if (is_op("(")) {
      t->args = parse_call_args();
    } else if ((cur().type == T::Name || cur().type == T::String || cur().type == T::Int ||
                cur().type == T::Float || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      // One argument without parentheses: `x is divisibleby 3`.
      if (is_name("is")) error("cannot chain tests with 'is'");
      Nest nest(*this);
      t->args.pos.push_back(parse_postfix(parse_primary()));
    }
    const uint32_t h = std::max(t->obj->height, args_height(t->args));
    return finish(std::move(t), {}, h);
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
  int max_nesting_;
  int nesting_ = 0;
  int loop_depth_ = 0;
  StackGuard stack_;
};

}  // namespace

StmtList parse_tokens(const std::vector<Token>& tokens, int max_nesting) {
  return Parser(tokens, max_nesting).parse_template();
}

}  // namespace sf::jinja
