// Syntax tree of a parsed template. Immutable after parsing, so one parsed
// Template can be rendered from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace sf::jinja {

struct Expr {
  enum class Kind : uint8_t {
    Literal,
    Name,
    List,
    Tuple,
    Dict,
    GetAttr,
    GetItem,
    Slice,
    Call,
    Filter,
    Test,
    Unary,
    Binary,
    Compare,
    Cond,
  };
  Expr(Kind k, uint32_t off) : kind(k), offset(off) {}
  virtual ~Expr() = default;
  Kind kind;
  uint32_t offset;      // source position, for error messages
  uint32_t height = 1;  // depth of this subtree, bounded by the parser
};
using ExprPtr = std::unique_ptr<Expr>;

struct Args {
  std::vector<ExprPtr> pos;
  std::vector<std::pair<std::string, ExprPtr>> kw;
};

struct LiteralExpr : Expr {
  LiteralExpr(uint32_t off, Value v) : Expr(Kind::Literal, off), value(std::move(v)) {}
  Value value;  // only immutable kinds (none, bool, numbers, strings)
};
struct NameExpr : Expr {
  NameExpr(uint32_t off, std::string n) : Expr(Kind::Name, off), name(std::move(n)) {}
  std::string name;
};
struct ListExpr : Expr {  // list or tuple literal
  ListExpr(Kind k, uint32_t off) : Expr(k, off) {}
  std::vector<ExprPtr> items;
};
struct DictExpr : Expr {
  explicit DictExpr(uint32_t off) : Expr(Kind::Dict, off) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};
struct GetAttrExpr : Expr {  // obj.name
  GetAttrExpr(uint32_t off, ExprPtr o, std::string n)
      : Expr(Kind::GetAttr, off), obj(std::move(o)), name(std::move(n)) {}
  ExprPtr obj;
  std::string name;
};
struct GetItemExpr : Expr {  // obj[index]
  GetItemExpr(uint32_t off, ExprPtr o, ExprPtr i)
      : Expr(Kind::GetItem, off), obj(std::move(o)), index(std::move(i)) {}
  ExprPtr obj, index;
};
struct SliceExpr : Expr {  // obj[start:stop:step]; parts may be null
  explicit SliceExpr(uint32_t off) : Expr(Kind::Slice, off) {}
  ExprPtr obj, start, stop, step;
};
struct CallExpr : Expr {
  CallExpr(uint32_t off, ExprPtr c) : Expr(Kind::Call, off), callee(std::move(c)) {}
  ExprPtr callee;
  Args args;
};
struct FilterExpr : Expr {  // obj | name(args); obj is null inside {% filter %} / {% set x | f %}
  FilterExpr(uint32_t off, ExprPtr o, std::string n)
      : Expr(Kind::Filter, off), obj(std::move(o)), name(std::move(n)) {}
  ExprPtr obj;
  std::string name;
  Args args;
};
struct TestExpr : Expr {  // obj is [not] name(args)
  TestExpr(uint32_t off, ExprPtr o, std::string n, bool neg)
      : Expr(Kind::Test, off), obj(std::move(o)), name(std::move(n)), negated(neg) {}
  ExprPtr obj;
  std::string name;
  Args args;
  bool negated;
};
struct UnaryExpr : Expr {
  enum class Op : uint8_t { Not, Neg, Pos };
  UnaryExpr(uint32_t off, Op o, ExprPtr e) : Expr(Kind::Unary, off), op(o), operand(std::move(e)) {}
  Op op;
  ExprPtr operand;
};
struct BinaryExpr : Expr {
  enum class Op : uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Concat, And, Or };
  BinaryExpr(uint32_t off, Op o, ExprPtr l, ExprPtr r)
      : Expr(Kind::Binary, off), op(o), left(std::move(l)), right(std::move(r)) {}
  Op op;
  ExprPtr left, right;
};
struct CompareExpr : Expr {  // a < b <= c: chained like Python
  enum class Op : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };
  CompareExpr(uint32_t off, ExprPtr f) : Expr(Kind::Compare, off), first(std::move(f)) {}
  ExprPtr first;
  std::vector<std::pair<Op, ExprPtr>> rest;
};
struct CondExpr : Expr {  // then if cond else otherwise; otherwise may be null (-> undefined)
  explicit CondExpr(uint32_t off) : Expr(Kind::Cond, off) {}
  ExprPtr cond, then, otherwise;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind : uint8_t {
    Text,
    Output,
    If,
    For,
    Set,
    SetBlock,
    Macro,
    FilterBlock,
    With,
    Break,
    Continue,
    Do,
    Block
  };
  Stmt(Kind k, uint32_t off) : kind(k), offset(off) {}
  virtual ~Stmt() = default;
  Kind kind;
  uint32_t offset;
};

struct TextStmt : Stmt {
  TextStmt(uint32_t off, std::string t) : Stmt(Kind::Text, off), text(std::move(t)) {}
  std::string text;
};
struct OutputStmt : Stmt {  // {{ expr }}
  OutputStmt(uint32_t off, ExprPtr e) : Stmt(Kind::Output, off), expr(std::move(e)) {}
  ExprPtr expr;
};
struct IfStmt : Stmt {
  explicit IfStmt(uint32_t off) : Stmt(Kind::If, off) {}
  std::vector<std::pair<ExprPtr, StmtList>> branches;  // if + elifs
  StmtList else_body;
};
struct ForStmt : Stmt {
  explicit ForStmt(uint32_t off) : Stmt(Kind::For, off) {}
  std::vector<std::string> targets;
  bool unpack = false;   // `for a, b in ...`
  ExprPtr iter, filter;  // filter: `for x in y if cond` (may be null)
  bool recursive = false;
  StmtList body, else_body;
};
// Assignment target: a name, `ns.attr`, or a tuple of names.
struct Target {
  std::vector<std::string> names;
  bool unpack = false;
  std::string attr;  // non-empty: assign names[0].attr (a namespace)
};
struct SetStmt : Stmt {  // {% set target = value %}
  explicit SetStmt(uint32_t off) : Stmt(Kind::Set, off) {}
  Target target;
  ExprPtr value;
};
struct SetBlockStmt : Stmt {  // {% set target | filters %}body{% endset %}
  explicit SetBlockStmt(uint32_t off) : Stmt(Kind::SetBlock, off) {}
  Target target;
  ExprPtr filter;  // chain of FilterExpr whose innermost obj is null; may be null
  StmtList body;
};
struct MacroStmt : Stmt {
  explicit MacroStmt(uint32_t off) : Stmt(Kind::Macro, off) {}
  std::string name;
  std::vector<std::pair<std::string, ExprPtr>> params;  // default may be null
  StmtList body;
};
struct FilterBlockStmt : Stmt {  // {% filter f %}body{% endfilter %}
  explicit FilterBlockStmt(uint32_t off) : Stmt(Kind::FilterBlock, off) {}
  ExprPtr filter;
  StmtList body;
};
struct WithStmt : Stmt {
  explicit WithStmt(uint32_t off) : Stmt(Kind::With, off) {}
  std::vector<std::pair<std::string, ExprPtr>> assigns;
  StmtList body;
};
struct DoStmt : Stmt {  // {% do expr %}
  DoStmt(uint32_t off, ExprPtr e) : Stmt(Kind::Do, off), expr(std::move(e)) {}
  ExprPtr expr;
};
struct BlockStmt : Stmt {  // a body rendered in place ({% generation %} from HF)
  explicit BlockStmt(uint32_t off) : Stmt(Kind::Block, off) {}
  StmtList body;
};
struct LoopControlStmt : Stmt {  // break / continue
  LoopControlStmt(Kind k, uint32_t off) : Stmt(k, off) {}
};

struct Program {
  std::string source;  // normalized source; offsets point into it
  StmtList body;
};

}  // namespace sf::jinja
