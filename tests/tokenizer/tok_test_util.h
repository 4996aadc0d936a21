// Helpers shared by the tokenizer tests: loading tokenizers from fixtures,
// reading llama.cpp .inp/.out vectors and JSONL goldens, printing id lists.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sf::test {

inline std::shared_ptr<const Tokenizer> load_gguf_tokenizer(const std::string& rel) {
  auto file = gguf::GgufFile::open(fixture(rel).string());
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok()) return nullptr;
  auto tok = Tokenizer::from_gguf(**file);
  EXPECT_TRUE(tok.ok()) << tok.status().message();
  return tok.ok() ? *tok : nullptr;
}

inline std::shared_ptr<const Tokenizer> load_hf_tokenizer(const std::string& dir) {
  const auto cfg = fixture(dir + "/tokenizer_config.json");
  auto tok = Tokenizer::from_hf(fixture(dir + "/tokenizer.json").string(),
                                std::filesystem::exists(cfg) ? cfg.string() : std::string());
  EXPECT_TRUE(tok.ok()) << tok.status().message();
  return tok.ok() ? *tok : nullptr;
}

inline std::string ids_str(const std::vector<int32_t>& ids) {
  std::ostringstream os;
  for (size_t i = 0; i < ids.size(); ++i) os << (i ? " " : "") << ids[i];
  return os.str();
}

// llama.cpp's test vectors: strings separated by "\n__ggml_vocab_test__\n" in
// .inp, one line of space-separated ids per string in .out.
inline std::vector<std::pair<std::string, std::vector<int32_t>>> read_vocab_vectors(
    const std::string& rel_base) {
  std::vector<std::pair<std::string, std::vector<int32_t>>> out;
  const std::string inp = read_file(fixture(rel_base + ".inp"));
  const std::string outs = read_file(fixture(rel_base + ".out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  for (;;) {
    const size_t k = inp.find(sep, pos);
    if (k == std::string::npos) break;
    texts.push_back(inp.substr(pos, k - pos));
    pos = k + sep.size();
  }
  std::vector<std::vector<int32_t>> ids;
  std::istringstream ls(outs);
  std::string line;
  while (std::getline(ls, line)) {
    std::istringstream is(line);
    std::vector<int32_t> v;
    int64_t x;
    while (is >> x) v.push_back(static_cast<int32_t>(x));
    ids.push_back(std::move(v));
  }
  EXPECT_EQ(texts.size(), ids.size()) << rel_base;
  for (size_t i = 0; i < texts.size() && i < ids.size(); ++i) out.emplace_back(texts[i], ids[i]);
  return out;
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& rel) {
  std::vector<nlohmann::json> out;
  std::istringstream is(read_file(fixture(rel)));
  std::string line;
  while (std::getline(is, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Runs every llama.cpp vector through `tok`; returns the number that match and
// reports each mismatch.
inline int check_vocab_vectors(const Tokenizer& tok, const std::string& rel_base, int* total) {
  const auto vecs = read_vocab_vectors(rel_base);
  int ok = 0;
  for (const auto& [text, expected] : vecs) {
    const auto got = tok.encode(text, /*add_special=*/false, /*parse_special=*/false);
    if (got == expected) {
      ++ok;
    } else {
      ADD_FAILURE() << rel_base << ": text '" << text << "'\n  expected " << ids_str(expected)
                    << "\n  got      " << ids_str(got);
    }
  }
  *total = static_cast<int>(vecs.size());
  return ok;
}

}  // namespace sf::test
