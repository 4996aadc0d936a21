// GGUF reader and writer: round trips of every value type and several tensor
// types, the value helpers, the writer's checks, hostile files built here byte
// by byte, truncation at every offset, and every real GGUF fixture.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "test_util.h"

namespace sf::gguf {
namespace {

// ---------------------------------------------------------------------------
// Helpers

// Exact equality of two values: same type, same alternative, floats compared
// bit for bit (so NaN and -0.0 round trips are checked too).
::testing::AssertionResult same_value(const Value& a, const Value& b) {
  auto fail = [&] {
    return ::testing::AssertionFailure()
           << value_type_name(a.type) << " " << a.to_display() << " vs " << value_type_name(b.type)
           << " " << b.to_display();
  };
  if (a.type != b.type || a.v.index() != b.v.index()) return fail();
  if (const auto* d = std::get_if<double>(&a.v)) {
    double e = std::get<double>(b.v);
    if (std::memcmp(d, &e, sizeof e) != 0) return fail();
  } else if (const auto* x = std::get_if<Array>(&a.v)) {
    const Array& y = std::get<Array>(b.v);
    if (x->elem_type != y.elem_type || x->items.size() != y.items.size()) return fail();
    for (size_t i = 0; i < x->items.size(); ++i)
      if (!same_value(x->items[i], y.items[i])) return fail();
  } else if (const auto* sa = std::get_if<std::string>(&a.v)) {
    if (*sa != std::get<std::string>(b.v)) return fail();
  } else if (const auto* ua = std::get_if<uint64_t>(&a.v)) {
    if (*ua != std::get<uint64_t>(b.v)) return fail();
  } else if (std::get<int64_t>(a.v) != std::get<int64_t>(b.v)) {
    return fail();
  }
  return ::testing::AssertionSuccess();
}

// Writes a parsed file back out with GgufWriter.
std::string rewrite(const GgufFile& f) {
  GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const TensorInfo& t : f.tensors()) {
    Status s = w.add_tensor(t.name, t.type, t.dims, t.data, t.n_bytes);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return w.to_bytes();
}

// Little-endian byte builder for hand-made (mostly hostile) GGUF files.
struct Bytes {
  std::string b;
  template <class T>
  Bytes& put(T x) {
    b.append(reinterpret_cast<const char*>(&x), sizeof x);
    return *this;
  }
  Bytes& u8(uint8_t x) { return put(x); }
  Bytes& u32(uint32_t x) { return put(x); }
  Bytes& u64(uint64_t x) { return put(x); }
  Bytes& raw(std::string_view s) {
    b.append(s);
    return *this;
  }
  Bytes& str(std::string_view s) { return u64(s.size()).raw(s); }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  Bytes& key(std::string_view k, ValueType t) { return str(k).u32(static_cast<uint32_t>(t)); }
  Bytes& kv_u32(std::string_view k, uint32_t v) { return key(k, ValueType::UINT32).u32(v); }
  Bytes& kv_str(std::string_view k, std::string_view v) { return key(k, ValueType::STRING).str(v); }
  Bytes& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  Bytes& pad(size_t alignment = 32) {
    return zeros((alignment - b.size() % alignment) % alignment);
  }
  Bytes& zeros(size_t n) {
    b.append(n, '\0');
    return *this;
  }
};

constexpr uint32_t kF32 = 0, kQ4_0 = 2;

// Parses `bytes` and expects an error that names the file and contains every word.
void expect_error(const std::string& bytes, std::initializer_list<std::string_view> words) {
  auto r = GgufFile::from_bytes(bytes, "hostile.gguf");
  ASSERT_FALSE(r.ok()) << "a hostile file was accepted";
  const std::string& m = r.status().message();
  EXPECT_EQ(m.rfind("hostile.gguf: ", 0), 0u) << m;
  for (std::string_view w : words)
    EXPECT_NE(m.find(w), std::string::npos) << "expected '" << w << "' in: " << m;
}
void expect_error(const Bytes& b, std::initializer_list<std::string_view> words) {
  expect_error(b.b, words);
}

// One value of every scalar type at the edges of its range, strings with
// UTF-8 and an embedded NUL, arrays of each element type, empty arrays, and
// arrays of arrays whose inner element types differ.
std::vector<std::pair<std::string, Value>> every_value() {
  std::vector<std::pair<std::string, Value>> kv;
  kv.emplace_back("t.u8", Value::u8(255));
  kv.emplace_back("t.i8", Value::i8(-128));
  kv.emplace_back("t.u16", Value::u16(65535));
  kv.emplace_back("t.i16", Value::i16(-32768));
  kv.emplace_back("t.u32", Value::u32(4294967295u));
  kv.emplace_back("t.i32", Value::i32(std::numeric_limits<int32_t>::min()));
  kv.emplace_back("t.u64", Value::u64(std::numeric_limits<uint64_t>::max()));
  kv.emplace_back("t.i64", Value::i64(std::numeric_limits<int64_t>::min()));
  kv.emplace_back("t.f32", Value::f32(-1.5e-7f));
  kv.emplace_back("t.f32_nan", Value::f32(std::numeric_limits<float>::quiet_NaN()));
  kv.emplace_back("t.f64", Value::f64(3.141592653589793));
  kv.emplace_back("t.f64_inf", Value::f64(-std::numeric_limits<double>::infinity()));
  kv.emplace_back("t.true", Value::boolean(true));
  kv.emplace_back("t.false", Value::boolean(false));
  kv.emplace_back("t.str", Value::str("héllo, 世界 🦙"));
  kv.emplace_back("t.str_nul", Value::str(std::string("a\0b", 3)));
  kv.emplace_back("t.str_empty", Value::str(""));
  kv.emplace_back("t.arr_u8", Value::array(ValueType::UINT8, {Value::u8(0), Value::u8(7)}));
  kv.emplace_back("t.arr_i8", Value::array(ValueType::INT8, {Value::i8(-1)}));
  kv.emplace_back("t.arr_u16", Value::array(ValueType::UINT16, {Value::u16(1), Value::u16(2)}));
  kv.emplace_back("t.arr_i16", Value::array(ValueType::INT16, {Value::i16(-3)}));
  kv.emplace_back("t.arr_u32", Value::array(ValueType::UINT32, {Value::u32(9)}));
  kv.emplace_back("t.arr_i32", Value::i32_array({1, -2, 3}));
  kv.emplace_back("t.arr_u64", Value::array(ValueType::UINT64, {Value::u64(1ull << 63)}));
  kv.emplace_back("t.arr_i64", Value::array(ValueType::INT64, {Value::i64(-(1ll << 62))}));
  kv.emplace_back("t.arr_f32", Value::f32_array({0.25f, -0.0f, 1e30f}));
  kv.emplace_back("t.arr_f64", Value::array(ValueType::FLOAT64, {Value::f64(1e-300)}));
  kv.emplace_back("t.arr_bool",
                  Value::array(ValueType::BOOL, {Value::boolean(true), Value::boolean(false)}));
  kv.emplace_back("t.arr_str", Value::str_array({"<s>", "", "▁the"}));
  kv.emplace_back("t.arr_empty", Value::array(ValueType::STRING, {}));
  kv.emplace_back("t.arr_nested",
                  Value::array(ValueType::ARRAY, {Value::i32_array({1, 2}), Value::str_array({"x"}),
                                                  Value::array(ValueType::FLOAT64, {})}));
  kv.emplace_back("t.arr_deep",
                  Value::array(ValueType::ARRAY,
                               {Value::array(ValueType::ARRAY,
                                             {Value::array(ValueType::UINT8, {Value::u8(1)})})}));
  return kv;
}

struct TestTensor {
  std::string name;
  DType type;
  std::vector<int64_t> dims;
  std::string bytes;
};

// Tensors of several types and ranks whose sizes are not multiples of the
// alignment, so padding between them matters. Bytes are a position pattern.
std::vector<TestTensor> some_tensors() {
  std::vector<TestTensor> ts = {
      {"f32", DType::F32, {3, 2}, {}},
      {"f16", DType::F16, {5}, {}},
      {"q4_0", DType::Q4_0, {64, 2}, {}},
      {"q6_k", DType::Q6_K, {256}, {}},
      {"bf16_4d", DType::BF16, {7, 1, 1, 2}, {}},
      {"i8", DType::I8, {3}, {}},
  };
  for (size_t k = 0; k < ts.size(); ++k) {
    size_t n = row_bytes(ts[k].type, ts[k].dims[0]);
    for (size_t d = 1; d < ts[k].dims.size(); ++d) n *= static_cast<size_t>(ts[k].dims[d]);
    ts[k].bytes.resize(n);
    for (size_t i = 0; i < n; ++i) ts[k].bytes[i] = static_cast<char>(i * 7 + k * 31 + 1);
  }
  return ts;
}

GgufWriter make_writer(const std::vector<TestTensor>& ts, std::optional<uint32_t> alignment) {
  GgufWriter w;
  w.set("general.architecture", Value::str("llama"));
  if (alignment) w.set("general.alignment", Value::u32(*alignment));
  for (auto& [k, v] : every_value()) w.set(k, v);
  for (const auto& t : ts)
    EXPECT_TRUE(w.add_tensor(t.name, t.type, t.dims, t.bytes.data(), t.bytes.size()).ok());
  return w;
}

void expect_matches(const GgufFile& f, const std::vector<TestTensor>& ts, size_t alignment) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  EXPECT_EQ(f.file_size() % alignment, 0u);

  // Metadata: every key present, in insertion order, with its exact type and value.
  auto expected = every_value();
  const auto& md = f.metadata();
  size_t first = md.size() - expected.size();
  ASSERT_GE(md.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(md[first + i].first, expected[i].first);
    EXPECT_TRUE(same_value(md[first + i].second, expected[i].second)) << expected[i].first;
    const Value* found = f.find(expected[i].first);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found, &md[first + i].second);
  }

  ASSERT_EQ(f.tensors().size(), ts.size());
  for (size_t k = 0; k < ts.size(); ++k) {
    const TensorInfo& t = f.tensors()[k];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, ts[k].name);
    EXPECT_EQ(t.type, ts[k].type);
    EXPECT_EQ(t.dims, ts[k].dims);
    EXPECT_EQ(t.n_bytes, ts[k].bytes.size());
    EXPECT_EQ(t.offset % alignment, 0u);
    ASSERT_NE(t.data, nullptr);
    EXPECT_EQ(std::memcmp(t.data, ts[k].bytes.data(), t.n_bytes), 0);
    EXPECT_EQ(f.find_tensor(ts[k].name), &t);
  }
}

TEST(GgufRoundTrip, EveryValueTypeAndTensorsInMemory) {
  auto ts = some_tensors();
  for (std::optional<uint32_t> al : {std::optional<uint32_t>{}, std::optional<uint32_t>{64},
                                     std::optional<uint32_t>{1}, std::optional<uint32_t>{4096}}) {
    SCOPED_TRACE(al ? std::to_string(*al) : "default");
    std::string bytes = make_writer(ts, al).to_bytes();
    auto f = GgufFile::from_bytes(bytes, "rt.gguf");
    ASSERT_TRUE(f.ok()) << f.status().message();
    expect_matches(**f, ts, al.value_or(32));
    EXPECT_EQ((*f)->path(), "rt.gguf");
  }
}

TEST(GgufRoundTrip, ReserializingAParsedFileGivesIdenticalBytes) {
  auto ts = some_tensors();
  std::string bytes = make_writer(ts, 64).to_bytes();
  auto f = GgufFile::from_bytes(bytes);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(rewrite(**f), bytes);
}

TEST(GgufRoundTrip, WriteIsAtomicAndOpenMapsTheFile) {
  auto ts = some_tensors();
  GgufWriter w = make_writer(ts, 64);
  auto path = test::tmp_path("gguf_roundtrip.gguf");
  std::filesystem::remove(path);
  ASSERT_TRUE(w.write(path.string()).ok());
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  EXPECT_EQ(test::read_file(path), w.to_bytes());
  auto f = GgufFile::open(path.string());
  ASSERT_TRUE(f.ok()) << f.status().message();
  expect_matches(**f, ts, 64);
  EXPECT_EQ((*f)->path(), path.string());
  // Mapped data is page-aligned, so each tensor is aligned in memory too.
  for (const TensorInfo& t : (*f)->tensors())
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 64, 0u) << t.name;

  // Overwriting replaces the file whole.
  GgufWriter small;
  small.set("general.name", Value::str("small"));
  ASSERT_TRUE(small.write(path.string()).ok());
  auto g = GgufFile::open(path.string());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ((*g)->get_string("general.name"), "small");
  EXPECT_TRUE((*g)->tensors().empty());
}

TEST(GgufRoundTrip, SetReplacesKeepingPosition) {
  GgufWriter w;
  w.set("a", Value::u32(1));
  w.set("b", Value::u32(2));
  w.set("a", Value::str("one"));
  auto f = GgufFile::from_bytes(w.to_bytes());
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ((*f)->metadata().size(), 2u);
  EXPECT_EQ((*f)->metadata()[0].first, "a");
  EXPECT_EQ((*f)->get_string("a"), "one");
  EXPECT_EQ((*f)->get_int("b"), 2);
}

TEST(GgufRoundTrip, GettersConvertAndRejectWrongKinds) {
  GgufWriter w;
  w.set("n", Value::u32(64));
  w.set("eps", Value::f32(1e-5f));
  w.set("flag", Value::boolean(true));
  w.set("name", Value::str("llama"));
  auto f = GgufFile::from_bytes(w.to_bytes());
  ASSERT_TRUE(f.ok()) << f.status().message();
  const GgufFile& g = **f;
  EXPECT_EQ(g.get_int("n"), 64);
  EXPECT_EQ(g.get_float("n"), 64.0);
  EXPECT_FLOAT_EQ(static_cast<float>(*g.get_float("eps")), 1e-5f);
  EXPECT_EQ(g.get_int("eps"), std::nullopt);  // not a whole number
  EXPECT_EQ(g.get_bool("flag"), true);
  EXPECT_EQ(g.get_string("name"), "llama");
  EXPECT_EQ(g.get_string("n"), std::nullopt);
  EXPECT_EQ(g.get_int("name"), std::nullopt);
  EXPECT_EQ(g.get_int("missing"), std::nullopt);
  EXPECT_EQ(g.find("missing"), nullptr);
  EXPECT_EQ(g.find_tensor("missing"), nullptr);
}

TEST(GgufWriter, RejectsBadTensors) {
  GgufWriter w;
  float buf[64] = {};
  auto add = [&](std::string name, DType t, std::vector<int64_t> dims, size_t n) {
    return w.add_tensor(std::move(name), t, std::move(dims), buf, n);
  };
  ASSERT_TRUE(add("ok", DType::F32, {4}, 16).ok());
  auto expect = [](const Status& s, const char* word) {
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(word), std::string::npos) << s.message();
  };
  expect(add("ok", DType::F32, {4}, 16), "already");
  expect(add("", DType::F32, {4}, 16), "empty");
  expect(add("bytes", DType::F32, {4}, 15), "takes 16");
  expect(add("rank0", DType::F32, {}, 0), "dimensions");
  expect(add("rank5", DType::F32, {1, 1, 1, 1, 1}, 4), "dimensions");
  expect(add("zero", DType::F32, {0}, 0), "at least 1");
  expect(add("neg", DType::F32, {4, -1}, 16), "at least 1");
  expect(add("block", DType::Q4_0, {33}, 18), "block size");
  expect(add("overflow", DType::F32, {1ll << 32, 1ll << 32}, 0), "overflow");
  expect(w.add_tensor("null", DType::F32, {4}, nullptr, 16), "null");
  expect(add("type", static_cast<DType>(4), {4}, 16), "unknown type");
}

TEST(GgufWriter, RejectsBadAlignmentAndUnwritablePaths) {
  for (Value bad : {Value::u32(0), Value::u32(48), Value::u64(32), Value::i32(32)}) {
    GgufWriter w;
    w.set("general.alignment", bad);
    auto path = test::tmp_path("gguf_bad_alignment.gguf");
    std::filesystem::remove(path);
    Status s = w.write(path.string());
    ASSERT_FALSE(s.ok()) << bad.to_display();
    EXPECT_NE(s.message().find("power of two"), std::string::npos) << s.message();
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  }
  GgufWriter w;
  Status s = w.write("/nonexistent-dir/x.gguf");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/x.gguf.tmp"), std::string::npos) << s.message();
}

TEST(GgufValue, Conversions) {
  EXPECT_EQ(Value::u8(200).as_int(), 200);
  EXPECT_EQ(Value::i8(-5).as_int(), -5);
  EXPECT_EQ(Value::u64(std::numeric_limits<uint64_t>::max()).as_int(), std::nullopt);
  EXPECT_EQ(Value::u64(1ull << 40).as_float(), std::ldexp(1.0, 40));
  EXPECT_EQ(Value::f32(3.0f).as_int(), 3);
  EXPECT_EQ(Value::f32(3.5f).as_int(), std::nullopt);
  EXPECT_EQ(Value::f64(1e300).as_int(), std::nullopt);
  EXPECT_EQ(Value::f64(std::nan("")).as_int(), std::nullopt);
  EXPECT_EQ(Value::f64(-9223372036854775808.0).as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Value::f64(9223372036854775808.0).as_int(), std::nullopt);
  EXPECT_EQ(Value::boolean(true).as_int(), 1);
  EXPECT_EQ(Value::boolean(false).as_bool(), false);
  EXPECT_EQ(Value::u32(2).as_bool(), true);
  EXPECT_EQ(Value::f32(1.0f).as_bool(), std::nullopt);
  EXPECT_EQ(Value::str("1").as_int(), std::nullopt);
  EXPECT_EQ(Value::str("1").as_float(), std::nullopt);
  EXPECT_EQ(Value::i32_array({1}).as_int(), std::nullopt);
  EXPECT_EQ(Value::u8(1).as_string(), nullptr);
  EXPECT_EQ(Value::u8(1).as_array(), nullptr);
  ASSERT_NE(Value::str("x").as_string(), nullptr);
  EXPECT_EQ(*Value::str("x").as_string(), "x");
  Value a = Value::str_array({"a", "b"});
  ASSERT_NE(a.as_array(), nullptr);
  EXPECT_EQ(a.as_array()->elem_type, ValueType::STRING);
  EXPECT_EQ(a.as_array()->items.size(), 2u);
  EXPECT_EQ(Value::f32(0.1f).type, ValueType::FLOAT32);
  EXPECT_EQ(Value::i16(-1).type, ValueType::INT16);
}

TEST(GgufValue, Display) {
  EXPECT_EQ(Value::u32(4294967295u).to_display(), "4294967295");
  EXPECT_EQ(Value::i64(-7).to_display(), "-7");
  EXPECT_EQ(Value::f32(0.1f).to_display(), "0.1");  // shortest form that reads back as the float
  EXPECT_EQ(Value::f32(1e-5f).to_display(), "1e-05");
  EXPECT_EQ(Value::f64(0.1).to_display(), "0.1");
  EXPECT_EQ(Value::boolean(true).to_display(), "true");
  EXPECT_EQ(Value::str("llama").to_display(), "\"llama\"");
  EXPECT_EQ(Value::str("a\"b\\c\nd\x1b").to_display(), "\"a\\\"b\\\\c\\nd\\x1B\"");
  EXPECT_EQ(Value::str("世界").to_display(), "\"世界\"");  // valid UTF-8 passes through
  EXPECT_EQ(Value::str("\xff\xc2\x9b").to_display(), "\"\\xFF\\xC2\\x9B\"");  // bad UTF-8, C1 CSI
  EXPECT_EQ(Value::i32_array({1, 2, 3}).to_display(), "[1, 2, 3]");
  EXPECT_EQ(Value::str_array({"a", "b"}).to_display(), "[\"a\", \"b\"]");
  EXPECT_EQ(Value::array(ValueType::UINT8, {}).to_display(), "[]");
  std::vector<int32_t> many(151936);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<int32_t>(i);
  EXPECT_EQ(Value::i32_array(many).to_display(3), "[0, 1, 2, ... (151936 items)]");
  EXPECT_EQ(Value::i32_array(many).to_display(0), "[... (151936 items)]");
  EXPECT_EQ(Value::i32_array({1, 2, 3}).to_display(3), "[1, 2, 3]");
  EXPECT_EQ(Value::array(ValueType::ARRAY, {Value::i32_array({1, 2}), Value::str_array({"x"})})
                .to_display(),
            "[[1, 2], [\"x\"]]");
  std::string long_str(300, 'x');
  std::string cut = "\"";
  cut.append(120, 'x');
  cut += "...\" (300 bytes)";
  EXPECT_EQ(Value::str(long_str).to_display(), cut);
  // A cut never splits a multi-byte character.
  std::string cjk;
  for (int i = 0; i < 50; ++i) cjk += "世";  // 3 bytes each; 120 is a multiple, 119 is not
  EXPECT_EQ(Value::str(cjk.substr(0, 3) + cjk).to_display().find("\\x"), std::string::npos);
}

TEST(GgufValue, TypeNames) {
  EXPECT_STREQ(value_type_name(ValueType::UINT8), "UINT8");
  EXPECT_STREQ(value_type_name(ValueType::STRING), "STRING");
  EXPECT_STREQ(value_type_name(ValueType::FLOAT64), "FLOAT64");
  EXPECT_STREQ(value_type_name(static_cast<ValueType>(13)), "UNKNOWN");
}

// ---------------------------------------------------------------------------
// Hostile files, built byte by byte. Each must give an error naming the file
// and the problem, and fail fast (no allocation from an unchecked count).

// A small valid file: one string key, one F32 [4] tensor.
Bytes valid_base() {
  Bytes b;
  b.header(1, 1).kv_str("general.architecture", "llama").tensor("w", {4}, kF32, 0).pad();
  return b.zeros(16).pad();
}

TEST(GgufHostile, BuilderMakesAValidFile) {
  auto f = GgufFile::from_bytes(valid_base().b);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ((*f)->tensors().size(), 1u);
}

TEST(GgufHostile, BadMagic) {
  expect_error(Bytes().raw("GGUX").u32(3).u64(0).u64(0), {"bad magic", "'GGUX'", "not a GGUF"});
  expect_error(Bytes().raw("lmgg").zeros(20), {"bad magic", "legacy GGML"});
  expect_error(Bytes().raw("{\"a\"").zeros(20), {"bad magic", "JSON"});
  expect_error(Bytes().raw("\x1b[2J"), {"bad magic", "\\x1B"});  // escaped, not sent raw
  expect_error(Bytes().raw("GX"), {"bad magic"});
  expect_error("", {"empty"});
}

TEST(GgufHostile, UnsupportedVersions) {
  expect_error(Bytes().header(0, 0, 1), {"version 1", "not supported", "re-convert"});
  expect_error(Bytes().header(0, 0, 4), {"unsupported GGUF version 4", "2 and 3"});
  expect_error(Bytes().header(0, 0, 0), {"unsupported GGUF version 0"});
  expect_error(Bytes().header(0, 0, 0x03000000), {"big-endian"});
  // v2 has the same layout as v3 and is read.
  EXPECT_TRUE(GgufFile::from_bytes(Bytes().header(0, 0, 2).b).ok());
}

TEST(GgufHostile, TruncatedHeader) {
  expect_error(Bytes().raw("GG"), {"truncated", "magic"});
  expect_error(Bytes().raw("GGUF").u32(3).u8(0), {"truncated", "header"});
  expect_error(Bytes().raw("GGUF").u32(3).u64(0).u32(0), {"truncated", "header"});
}

TEST(GgufHostile, TruncatedKeyValueArrayAndTensorInfo) {
  expect_error(Bytes().header(0, 1).u64(100).raw("abc").zeros(10),
               {"truncated", "key of metadata entry 0", "past the end"});
  expect_error(Bytes().header(0, 1).str("k").u32(4).u8(0), {"truncated", "metadata 'k'"});
  expect_error(Bytes().header(0, 1).str("k").u32(8).u64(100).raw("short"),
               {"truncated", "metadata 'k'", "string of 100 bytes", "past the end"});
  expect_error(Bytes().header(0, 1).key("a", ValueType::ARRAY).u32(4).u64(10).u32(1).u32(2),
               {"truncated", "metadata 'a'", "10 UINT32 elements"});
  expect_error(
      Bytes().header(0, 1).key("a", ValueType::ARRAY).u32(8).u64(2).str("x").u64(50).raw("y"),
      {"truncated", "metadata 'a' element 1"});
  // Tensor count larger than the bytes left could describe.
  expect_error(Bytes().header(1, 0).str("w").u32(2).u64(4), {"truncated", "claims 1 tensors"});
  // Tensor info cut inside its offset field (enough bytes for the count check).
  Bytes b;
  b.header(2, 0).tensor("a", {4}, kF32, 0).str("bbbbbbbbbb").u32(1).u64(4).u32(kF32).u32(0);
  expect_error(b, {"truncated", "tensor 'bbbbbbbbbb'"});
}

TEST(GgufHostile, HugeCountsAndLengthsFailFast) {
  auto start = std::chrono::steady_clock::now();
  expect_error(Bytes().header(0, 1).u64(1ull << 60).raw("k").zeros(16),
               {"past the end", "string of 1152921504606846976 bytes"});
  expect_error(Bytes().header(0, 1).u64(~0ull).raw("k").zeros(16), {"past the end"});
  expect_error(Bytes().header(0, 1ull << 60), {"metadata entries"});
  expect_error(Bytes().header(1ull << 60, 0), {"tensors"});
  expect_error(Bytes().header(0, 1).key("a", ValueType::ARRAY).u32(8).u64(1ull << 60).str("x"),
               {"metadata 'a'", "1152921504606846976 STRING elements"});
  expect_error(Bytes().header(0, 1).key("a", ValueType::ARRAY).u32(0).u64(~0ull).u8(1),
               {"metadata 'a'", "UINT8 elements"});
  expect_error(Bytes().header(0, 1).key("a", ValueType::ARRAY).u32(9).u64(1ull << 62).zeros(64),
               {"metadata 'a'", "ARRAY elements"});
  // Strings inside an array with a huge length.
  expect_error(Bytes().header(0, 1).key("a", ValueType::ARRAY).u32(8).u64(1).u64(1ull << 62),
               {"metadata 'a' element 0", "past the end"});
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(GgufHostile, ImplausibleEntryCounts) {
  // The bytes exist (zeros), but no real file has over 2^20 keys or tensors.
  expect_error(Bytes().header(0, (1ull << 20) + 1).zeros(13 * ((1ull << 20) + 1)),
               {"1048577 metadata entries", "not plausible"});
  expect_error(Bytes().header((1ull << 20) + 1, 0).zeros(32 * ((1ull << 20) + 1)),
               {"1048577 tensors", "not plausible"});
}

TEST(GgufHostile, TooManyArrayElementsInAll) {
  // Every element here is a real byte, but 2^24 + 1 of them decode to ~800 MB
  // of Values: refused before anything is allocated.
  Bytes b;
  b.header(0, 1).key("a", ValueType::ARRAY).u32(0).u64((1ull << 24) + 1).zeros((1ull << 24) + 1);
  expect_error(b, {"metadata 'a'", "16777216 elements", "corrupt"});
}

// An array nested `levels` deep holding one empty UINT32 array at the bottom.
Bytes nested(int levels) {
  Bytes b;
  b.header(0, 1).key("n", ValueType::ARRAY);
  for (int i = 1; i < levels; ++i) b.u32(9).u64(1);
  return b.u32(4).u64(0);
}

TEST(GgufHostile, NestingDepthIsBounded) {
  auto ok = GgufFile::from_bytes(nested(8).b);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)->find("n")->to_display(), "[[[[[[[[]]]]]]]]");
  expect_error(nested(9), {"metadata 'n'", "nested more than 8 levels"});
  expect_error(nested(100000), {"nested more than 8 levels"});
}

TEST(GgufHostile, DuplicateKeysAndTensorNames) {
  expect_error(Bytes().header(0, 2).kv_u32("k", 1).kv_u32("k", 2), {"duplicate metadata key 'k'"});
  Bytes b;
  b.header(2, 0).tensor("w", {8}, kF32, 0).tensor("w", {8}, kF32, 32).pad().zeros(64);
  expect_error(b, {"duplicate tensor name 'w'"});
}

TEST(GgufHostile, UnknownValueTypes) {
  expect_error(Bytes().header(0, 1).str("k").u32(13).u32(0),
               {"metadata 'k'", "unknown value type 13"});
  expect_error(Bytes().header(0, 1).str("k").u32(0xFFFFFFFF).u32(0), {"unknown value type"});
  expect_error(Bytes().header(0, 1).key("a", ValueType::ARRAY).u32(42).u64(0),
               {"metadata 'a'", "unknown value type 42"});
  expect_error(Bytes().header(0, 1).key("b", ValueType::BOOL).u8(2), {"metadata 'b'", "BOOL"});
}

TEST(GgufHostile, BadTensorInfo) {
  auto one = [](std::vector<uint64_t> dims, uint32_t type, uint64_t offset = 0) {
    Bytes b;
    b.header(1, 0).tensor("blk.0.attn_q.weight", std::move(dims), type, offset).pad();
    return b.zeros(4096);
  };
  expect_error(one({4}, 4), {"tensor 'blk.0.attn_q.weight'", "unknown tensor type id 4"});
  expect_error(one({4}, 1000), {"unknown tensor type id 1000"});
  expect_error(one({}, kF32), {"0 dimensions", "1 to 4"});
  expect_error(one({1, 1, 1, 1, 1}, kF32), {"5 dimensions", "1 to 4"});
  expect_error(one({4, 0}, kF32), {"dimension 1 is 0", "at least 1"});
  expect_error(one({1ull << 63}, kF32), {"dimension 0 is -9223372036854775808", "at least 1"});
  expect_error(one({~0ull}, kF32), {"at least 1"});
  expect_error(one({1ull << 32, 1ull << 32}, kF32), {"element count overflows"});
  expect_error(one({1ull << 62}, kF32), {"byte size overflows"});
  expect_error(one({33}, kQ4_0), {"Q4_0", "rows of 33 elements", "block size 32"});
  expect_error(one({4}, kF32, 4), {"offset 4 is not a multiple of the alignment 32"});
}

TEST(GgufHostile, TensorDataOutsideTheFile) {
  // Header: 24 + tensor info (8+20 name, 4, 8, 4, 8) = 76 -> data at 96; 16 data bytes.
  Bytes b;
  b.header(1, 0).tensor("blk.0.attn_q.weight", {1024}, kF32, 0).pad().zeros(16);
  expect_error(b, {"tensor 'blk.0.attn_q.weight' data [offset 96, 4096 bytes] extends past the "
                   "end of the file (112 bytes)",
                   "truncated", "re-download"});
  // An offset near 2^64 must not wrap around when added to the size.
  Bytes c;
  c.header(1, 0).tensor("w", {4}, kF32, ~0ull - 31).pad().zeros(64);
  expect_error(c, {"tensor 'w'", "past the end"});
  // A tensor file whose data section would start past its end.
  Bytes d;
  d.header(1, 0).tensor("w", {4}, kF32, 0);
  expect_error(d, {"tensor 'w'", "past the end"});
}

TEST(GgufHostile, OverlappingTensors) {
  Bytes same;
  same.header(2, 0).tensor("a", {8}, kF32, 0).tensor("b", {8}, kF32, 0).pad().zeros(64);
  expect_error(same, {"tensors 'a'", "'b'", "overlap"});
  Bytes partial;  // listed out of offset order: 'late' [32, 64) and 'big' [0, 64)
  partial.header(2, 0).tensor("late", {8}, kF32, 32).tensor("big", {16}, kF32, 0).pad().zeros(96);
  expect_error(partial, {"'big'", "'late'", "overlap"});
  // Adjacent tensors (end == next start) are fine, in any listed order.
  Bytes adjacent;
  adjacent.header(2, 0).tensor("b", {8}, kF32, 32).tensor("a", {8}, kF32, 0).pad().zeros(64);
  EXPECT_TRUE(GgufFile::from_bytes(adjacent.b).ok());
}

TEST(GgufHostile, Alignment) {
  expect_error(Bytes().header(0, 1).kv_u32("general.alignment", 0),
               {"general.alignment is 0", "power of two"});
  expect_error(Bytes().header(0, 1).kv_u32("general.alignment", 48),
               {"general.alignment is 48", "power of two"});
  expect_error(Bytes().header(0, 1).key("general.alignment", ValueType::UINT64).u64(32),
               {"general.alignment must be a UINT32", "UINT64"});
  expect_error(Bytes().header(0, 1).kv_str("general.alignment", "32"), {"UINT32", "STRING"});
  // A valid alignment governs tensor offsets and the data section start.
  Bytes b;
  b.header(2, 1)
      .kv_u32("general.alignment", 64)
      .tensor("a", {4}, kF32, 0)
      .tensor("b", {4}, kF32, 32);
  b.pad(64).zeros(128);
  expect_error(b, {"tensor 'b'", "offset 32 is not a multiple of the alignment 64"});
  Bytes ok;
  ok.header(1, 1).kv_u32("general.alignment", 64).tensor("a", {4}, kF32, 0);
  size_t header_end = ok.b.size();
  ok.pad(64).zeros(64);
  auto f = GgufFile::from_bytes(ok.b);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ((*f)->alignment(), 64u);
  EXPECT_EQ((*f)->data_offset(), (header_end + 63) / 64 * 64);
}

TEST(GgufHostile, VocabOnlyFilesMayEndBeforeTheDataSection) {
  Bytes b;  // 24 + 8+7 + 4 + 8+3 = 54 bytes, not padded: data section would start at 64
  b.header(0, 1).kv_str("general", "abc");
  auto f = GgufFile::from_bytes(b.b);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE((*f)->tensors().empty());
  EXPECT_EQ((*f)->file_size(), 54u);
  EXPECT_EQ((*f)->data_offset(), 64u);
}

TEST(GgufHostile, HostileNamesAreEscapedAndCut) {
  std::string name = "\x1b]0;pwned\x07" + std::string(500, 'A');
  Bytes b;
  b.header(1, 0).tensor(name, {4}, 1000, 0).pad().zeros(16);
  auto r = GgufFile::from_bytes(b.b, "hostile.gguf");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
  EXPECT_NE(m.find("\\x1B]0;pwned\\x07"), std::string::npos) << m;
  EXPECT_LT(m.size(), 300u) << m;
}

TEST(GgufHostile, OpenNamesThePath) {
  auto missing = GgufFile::open("/nonexistent/model.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/model.gguf: cannot open"),
            std::string::npos)
      << missing.status().message();
  auto dir = GgufFile::open(test::tmp_path("").parent_path().string());  // the scratch dir
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("not a regular file"), std::string::npos);

  auto path = test::tmp_path("gguf_truncated_on_disk.gguf");
  std::string bytes = valid_base().b;
  test::write_file(path, bytes.substr(0, bytes.size() - 20));
  auto r = GgufFile::open(path.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(path.string() + ": tensor 'w' data", 0), 0u)
      << r.status().message();
  test::write_file(path, "");
  auto empty = GgufFile::open(path.string());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Truncation and corruption sweeps

// Every prefix shorter than the end of the last tensor's data is an error;
// cutting only the final padding leaves a valid file.
void expect_every_truncation_fails(const std::string& bytes, size_t data_end, size_t stride = 1) {
  std::vector<size_t> cuts;
  for (size_t n = 0; n < bytes.size(); n += stride) cuts.push_back(n);
  cuts.push_back(data_end - 1);  // the last byte of tensor data missing
  if (data_end <= bytes.size()) cuts.push_back(data_end);
  for (size_t n : cuts) {
    auto r = GgufFile::from_bytes(bytes.substr(0, n), "cut.gguf");
    if (n < data_end) {
      ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes was accepted";
      ASSERT_EQ(r.status().message().rfind("cut.gguf: ", 0), 0u) << r.status().message();
    } else {
      ASSERT_TRUE(r.ok()) << n << ": " << r.status().message();
    }
  }
}

size_t data_end(const GgufFile& f) {
  size_t end = 0;
  for (const TensorInfo& t : f.tensors())
    end = std::max(end, f.data_offset() + static_cast<size_t>(t.offset) + t.n_bytes);
  return end;
}

TEST(GgufTruncation, EveryPrefixOfAWrittenFileFails) {
  auto ts = some_tensors();
  std::string bytes = make_writer(ts, {}).to_bytes();
  auto f = GgufFile::from_bytes(bytes);
  ASSERT_TRUE(f.ok()) << f.status().message();
  size_t end = data_end(**f);
  ASSERT_LT(end, bytes.size());  // the last tensor is followed by padding
  expect_every_truncation_fails(bytes, end);
}

TEST(GgufTruncation, EveryByteCorruptedNeverCrashes) {
  // Each byte replaced by a few hostile values; the result may parse or not,
  // but must never read out of bounds (checked under ASan) or hang.
  std::string bytes = make_writer(some_tensors(), 64).to_bytes();
  auto f = GgufFile::from_bytes(bytes);
  ASSERT_TRUE(f.ok());
  size_t header_end = (*f)->data_offset();
  for (size_t i = 0; i < header_end; ++i)
    for (uint8_t x : {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
      std::string c = bytes;
      c[i] = static_cast<char>(x);
      auto r = GgufFile::from_bytes(std::move(c), "c.gguf");
      if (r.ok()) {
        EXPECT_FALSE(rewrite(**r).empty());
      }
    }
}

// ---------------------------------------------------------------------------
// Real files

TEST(GgufFixtures, Stories260K) {
  SF_REQUIRE_FIXTURE("stories260K/stories260K.gguf");
  auto r = GgufFile::open(test::fixture("stories260K/stories260K.gguf").string());
  ASSERT_TRUE(r.ok()) << r.status().message();
  const GgufFile& f = **r;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.file_size(), 1185376u);
  EXPECT_EQ(f.data_offset(), 14176u);
  EXPECT_EQ(f.metadata().size(), 19u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(f.get_int("llama.block_count"), 5);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 2);
  EXPECT_EQ(f.get_int("tokenizer.ggml.padding_token_id"), 4294967295);
  EXPECT_EQ(f.find("llama.embedding_length")->type, ValueType::UINT32);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("llama.attention.layer_norm_rms_epsilon")),
                  1e-5f);

  const Value* tokens = f.find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  ASSERT_NE(tokens->as_array(), nullptr);
  EXPECT_EQ(tokens->as_array()->elem_type, ValueType::STRING);
  ASSERT_EQ(tokens->as_array()->items.size(), 512u);
  EXPECT_EQ(*tokens->as_array()->items[0].as_string(), "<unk>");
  EXPECT_EQ(*tokens->as_array()->items[1].as_string(), "<s>");
  EXPECT_EQ(tokens->to_display(3), "[\"<unk>\", \"<s>\", \"</s>\", ... (512 items)]");
  EXPECT_EQ(f.find("tokenizer.ggml.scores")->as_array()->elem_type, ValueType::FLOAT32);
  EXPECT_EQ(f.find("tokenizer.ggml.token_type")->as_array()->items.size(), 512u);

  ASSERT_EQ(f.tensors().size(), 48u);  // embd, output_norm, output, 5 x 9 per block
  const TensorInfo* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dims, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(emb->n_elements(), 64 * 512);
  EXPECT_EQ(emb->n_rows(), 512);
  EXPECT_EQ(emb->n_bytes, 64u * 512 * 4);
  EXPECT_EQ(f.find_tensor("output_norm.weight")->dims, (std::vector<int64_t>{64}));
  EXPECT_EQ(f.find_tensor("blk.4.ffn_down.weight")->dims, (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(f.find_tensor("blk.0.attn_k.weight")->dims, (std::vector<int64_t>{64, 32}));
  for (const TensorInfo& t : f.tensors()) EXPECT_EQ(t.type, DType::F32) << t.name;

  // The embedding bytes equal those of the same model in llama2.c's format
  // (a 28-byte header, then the embedding table): an independent check of
  // the data offset.
  if (std::filesystem::exists(test::fixture("stories260K/stories260K.bin"))) {
    std::string bin = test::read_file(test::fixture("stories260K/stories260K.bin"));
    ASSERT_GE(bin.size(), 28 + emb->n_bytes);
    EXPECT_EQ(std::memcmp(emb->data, bin.data() + 28, emb->n_bytes), 0);
  }
  // Our writer reproduces the file byte for byte.
  EXPECT_TRUE(rewrite(f) == test::read_file(test::fixture("stories260K/stories260K.gguf")));
}

TEST(GgufFixtures, Stories260KTruncatedAnywhereFails) {
  SF_REQUIRE_FIXTURE("stories260K/stories260K.gguf");
  std::string bytes = test::read_file(test::fixture("stories260K/stories260K.gguf"));
  auto f = GgufFile::from_bytes(bytes);
  ASSERT_TRUE(f.ok()) << f.status().message();
  size_t end = data_end(**f);
  // Every byte of the header and metadata, then a sample of the tensor data.
  size_t header = (*f)->data_offset() + 64;
  expect_every_truncation_fails(bytes.substr(0, header), header + 1);
  expect_every_truncation_fails(bytes, end, 4099);
}

TEST(GgufFixtures, TinyModelsMatchTheManifest) {
  SF_REQUIRE_FIXTURE("models/models.json");
  auto manifest = nlohmann::json::parse(test::read_file(test::fixture("models/models.json")));
  int checked = 0;
  for (const auto& rec : manifest["files"]) {
    std::string file = rec["file"];
    SCOPED_TRACE(file);
    auto r = GgufFile::open(test::fixture("models/" + file).string());
    ASSERT_TRUE(r.ok()) << r.status().message();
    const GgufFile& f = **r;
    EXPECT_EQ(f.file_size(), rec["size_bytes"].get<size_t>());
    EXPECT_EQ(f.get_string("general.architecture"), rec["arch"].get<std::string>());
    EXPECT_EQ(f.get_int("general.file_type"), rec["file_type"].get<int64_t>());
    EXPECT_EQ(f.get_int(rec["arch"].get<std::string>() + ".embedding_length"), 256);
    EXPECT_EQ(f.find("tokenizer.ggml.tokens")->as_array()->items.size(), 512u);
    // tensor_types: {"Q4_0": ["token_embd.weight", ...], "F32": [...]}
    size_t listed = 0;
    for (const auto& [type_name, names] : rec["tensor_types"].items()) {
      auto type = type_from_name(type_name);
      ASSERT_TRUE(type.has_value()) << type_name;
      for (const auto& n : names) {
        const TensorInfo* t = f.find_tensor(n.get<std::string>());
        ASSERT_NE(t, nullptr) << n;
        EXPECT_EQ(t->type, *type) << n;
        ++listed;
      }
    }
    EXPECT_EQ(listed, f.tensors().size());
    const TensorInfo* emb = f.find_tensor("token_embd.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->dims, (std::vector<int64_t>{256, 512}));
    ++checked;
  }
  EXPECT_EQ(checked, 39);
}

TEST(GgufFixtures, LlamaCppVocabFiles) {
  SF_REQUIRE_FIXTURE("llamacpp-vocab");
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::fixture("llamacpp-vocab"))) {
    if (e.path().extension() != ".gguf") continue;
    SCOPED_TRACE(e.path().filename().string());
    auto r = GgufFile::open(e.path().string());
    ASSERT_TRUE(r.ok()) << r.status().message();
    const GgufFile& f = **r;
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_GE(f.data_offset(), f.file_size());  // these files are not padded
    EXPECT_TRUE(f.get_string("tokenizer.ggml.model").has_value());
    EXPECT_TRUE(f.get_string("general.architecture").has_value());
    const Value* tokens = f.find("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    ASSERT_NE(tokens->as_array(), nullptr);
    EXPECT_EQ(tokens->as_array()->elem_type, ValueType::STRING);
    EXPECT_GT(tokens->as_array()->items.size(), 1000u);
    if (const Value* tt = f.find("tokenizer.ggml.token_type")) {
      EXPECT_EQ(tt->as_array()->items.size(), tokens->as_array()->items.size());
    }
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

// ---------------------------------------------------------------------------
// Fuzz seed corpus (fuzz/corpus/gguf): tiny valid files made by the writer.
// SF_WRITE_FUZZ_SEEDS=1 regenerates them; normally they are checked to parse.

std::vector<std::pair<std::string, std::string>> fuzz_seeds() {
  std::vector<std::pair<std::string, std::string>> seeds;
  {
    GgufWriter w;
    w.set("general.architecture", Value::str("llama"));
    seeds.emplace_back("metadata_only.gguf", w.to_bytes());
  }
  {
    GgufWriter w;
    for (auto& [k, v] : every_value()) w.set(k, v);
    seeds.emplace_back("every_value_type.gguf", w.to_bytes());
  }
  {
    GgufWriter w;
    w.set("general.alignment", Value::u32(64));
    w.set("tokenizer.ggml.tokens", Value::str_array({"<s>", "a", "b"}));
    for (const auto& t : some_tensors())
      EXPECT_TRUE(w.add_tensor(t.name, t.type, t.dims, t.bytes.data(), t.bytes.size()).ok());
    seeds.emplace_back("tensors_aligned64.gguf", w.to_bytes());
  }
  {
    Bytes b;  // the vocab-only shape: no tensors, no padding, data section past the end
    b.header(0, 2).kv_str("tokenizer.ggml.model", "llama").key("t", ValueType::ARRAY);
    b.u32(static_cast<uint32_t>(ValueType::STRING)).u64(2).str("<s>").str("x");
    seeds.emplace_back("vocab_unpadded.gguf", b.b);
  }
  return seeds;
}

TEST(GgufFuzzCorpus, SeedsAreValidFiles) {
  std::filesystem::path dir =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" /
      "corpus" / "gguf";
  const char* regen = std::getenv("SF_WRITE_FUZZ_SEEDS");
  for (const auto& [name, bytes] : fuzz_seeds()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(GgufFile::from_bytes(bytes).ok());
    EXPECT_LT(bytes.size(), 4096u);  // libFuzzer's default -max_len
    if (regen != nullptr && std::string(regen) == "1") {
      std::filesystem::create_directories(dir);
      test::write_file(dir / name, bytes);
    }
    if (!std::filesystem::exists(dir / name)) GTEST_SKIP() << "no seed corpus at " << dir;
    auto f = GgufFile::open((dir / name).string());
    EXPECT_TRUE(f.ok()) << f.status().message();
  }
}

}  // namespace
}  // namespace sf::gguf
