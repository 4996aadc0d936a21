// Tokenizer throughput (MB/s of input text, one thread) on a mixed
// Chinese/English/code text, for comparison with Hugging Face `tokenizers` on
// the same tokenizer.json and text (tools/tokenizer-bench/: make_corpus.py
// builds the text, bench_hf.mjs times the npm library, compare.py prints the
// ratio).
//
// Inputs (environment):
//   STARFIRE_TOK_CORPUS  text file (default: a built-in mixed sample, repeated)
//   STARFIRE_TOK_JSONS   comma-separated tokenizer.json paths (default: the
//                        Qwen2.5 and Llama 3 fixtures under ../shared)
//   STARFIRE_TOK_EXPECTED_IDS  optional int32 ids (bench_hf.mjs --ids) for the
//                        first tokenizer: the run fails if our ids differ.
// The text is encoded in ~64 KB blocks cut at line ends, as bench_hf.mjs does.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string builtin_sample() {
  const char* parts[] = {
      "在本节中，我们介绍如何使用分词器把文本转换为模型可以理解的标记序列。"
      "中文文本通常没有空格，因此分词器需要依靠词表中的常见词语来切分。\n",
      "The quick brown fox jumps over the lazy dog. Tokenizers split text into pieces "
      "that a language model can read; byte-level BPE never fails on unusual input.\n",
      "for (int i = 0; i < n; ++i) {\n    sum += values[i] * weights[i];  // dot product\n}\n"
      "def main(argv):\n\treturn {\"status\": 0, \"items\": [1, 2, 3]}\n",
  };
  std::string s;
  while (s.size() < (1 << 20))
    for (const char* p : parts) s += p;
  return s;
}

std::vector<std::string> blocks_of(const std::string& text) {
  std::vector<std::string> blocks;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + 65536);
    if (end < text.size()) {
      const size_t nl = text.find('\n', end);
      end = nl == std::string::npos ? text.size() : nl + 1;
    }
    blocks.push_back(text.substr(start, end - start));
    start = end;
  }
  return blocks;
}

struct Setup {
  std::string text;
  std::vector<std::string> blocks;
  std::vector<std::string> paths;
};

const Setup& setup() {
  static const Setup s = [] {
    Setup s;
    const char* corpus = std::getenv("STARFIRE_TOK_CORPUS");
    s.text = corpus ? read_all(corpus) : builtin_sample();
    s.blocks = blocks_of(s.text);
    if (const char* j = std::getenv("STARFIRE_TOK_JSONS")) {
      std::stringstream ss(j);
      std::string p;
      while (std::getline(ss, p, ','))
        if (!p.empty()) s.paths.push_back(p);
    } else {
      const fs::path fx = fs::path(__FILE__).parent_path() / "../../shared/fixtures/tokenizers";
      for (const char* d : {"qwen2_5", "llama3"})
        if (fs::exists(fx / d / "tokenizer.json"))
          s.paths.push_back((fx / d / "tokenizer.json").string());
    }
    return s;
  }();
  return s;
}

std::shared_ptr<const sf::Tokenizer> load(const std::string& path) {
  auto t = sf::Tokenizer::from_hf(path, "");
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.status().message().c_str());
    std::exit(1);
  }
  return *t;
}

void BM_Encode(benchmark::State& state, std::string path) {
  const Setup& s = setup();
  auto tok = load(path);
  size_t n_tokens = 0;
  std::vector<int32_t> all;
  for (const auto& b : s.blocks) {
    auto ids = tok->encode(b, false);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  n_tokens = all.size();
  if (const char* exp = std::getenv("STARFIRE_TOK_EXPECTED_IDS"); exp && path == s.paths.front()) {
    const std::string raw = read_all(exp);
    std::vector<int32_t> want(raw.size() / 4);
    std::memcpy(want.data(), raw.data(), want.size() * 4);
    size_t first_diff = 0;
    while (first_diff < want.size() && first_diff < all.size() &&
           want[first_diff] == all[first_diff])
      ++first_diff;
    if (want != all) {
      state.SkipWithError("ids differ from the reference");
      std::fprintf(stderr, "ids differ: ours %zu, reference %zu, first difference at %zu\n",
                   all.size(), want.size(), first_diff);
      return;
    }
  }
  for (auto _ : state) {
    size_t n = 0;
    for (const auto& b : s.blocks) n += tok->encode(b, false).size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.text.size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
  state.counters["text_bytes"] = static_cast<double>(s.text.size());
}

void BM_Decode(benchmark::State& state, std::string path) {
  const Setup& s = setup();
  auto tok = load(path);
  std::vector<std::vector<int32_t>> ids;
  for (const auto& b : s.blocks) ids.push_back(tok->encode(b, false));
  for (auto _ : state) {
    size_t n = 0;
    for (const auto& v : ids) n += tok->decode(v).size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.text.size()));
}

void BM_StreamDecode(benchmark::State& state, std::string path) {
  const Setup& s = setup();
  auto tok = load(path);
  std::vector<int32_t> ids;
  for (const auto& b : s.blocks) {
    auto v = tok->encode(b, false);
    ids.insert(ids.end(), v.begin(), v.end());
  }
  for (auto _ : state) {
    sf::StreamDecoder d(*tok);
    size_t n = 0;
    for (int32_t id : ids) n += d.push(id).size();
    n += d.flush().size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.text.size()));
}

const bool registered = [] {
  for (const auto& p : setup().paths) {
    const std::string name = fs::path(p).parent_path().filename().string();
    benchmark::RegisterBenchmark(("encode/" + name).c_str(), BM_Encode, p)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0);
    benchmark::RegisterBenchmark(("decode/" + name).c_str(), BM_Decode, p)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("stream_decode/" + name).c_str(), BM_StreamDecode, p)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
