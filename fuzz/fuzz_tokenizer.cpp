// libFuzzer target for the tokenizer: encode/decode/stream-decode invariants
// on in-memory SPM and byte-level BPE vocabularies (and the Llama 3
// tokenizer.json when ../shared is present), plus the regex engine and the
// tokenizer.json loader on arbitrary input, and the hand-written split
// matchers against the regex engine.
//
// The first byte picks the mode and flags; the rest is the input.
// Invariants checked (abort on violation):
//  - every id is in [0, n_vocab);
//  - byte-level BPE without a normalizer: decode(encode(x)) == x for any bytes;
//  - StreamDecoder output is valid UTF-8 and equals decode() with invalid
//    sequences replaced (when no special tokens are skipped);
//  - pre-tokenizer pieces are in order, non-empty and inside the text, and
//    cover it exactly when the split keeps everything (Isolated);
//  - the fast GPT-2/Llama 3/Qwen2 matchers split exactly like the regex engine.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/byte_map.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

std::shared_ptr<const sf::Tokenizer> make_spm() {
  sf::tok::TokenizerSpec s;
  s.model = sf::tok::ModelType::kSpm;
  s.tokens = {"<unk>", "<s>", "</s>"};
  s.types = {sf::tok::TokenType::kUnknown, sf::tok::TokenType::kControl,
             sf::tok::TokenType::kControl};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    s.tokens.push_back(name);
    s.types.push_back(sf::tok::TokenType::kByte);
  }
  const char* pieces[] = {"\xE2\x96\x81",
                          "a",
                          "b",
                          "\xE2\x96\x81"
                          "a",
                          "ab",
                          "\xE2\x96\x81"
                          "ab",
                          "\xE4\xBD\xA0",
                          "\xE4\xBD\xA0\xE5\xA5\xBD",
                          "<",
                          ">",
                          "s"};
  float score = -1;
  for (const char* p : pieces) {
    s.tokens.push_back(p);
    s.types.push_back(sf::tok::TokenType::kNormal);
    s.scores.resize(s.tokens.size() - 1, 0.f);
    s.scores.push_back(score);
    score -= 0.5f;
  }
  s.scores.resize(s.tokens.size(), 0.f);
  s.unk_id = 0, s.bos_id = 1, s.eos_id = 2, s.add_bos = true;
  s.space_prefix = sf::tok::SpacePrefix::kAlways;
  s.escape_whitespace = s.decode_spaces = s.byte_fallback = s.strip_prefix_space_on_decode = true;
  for (int32_t id : {0, 1, 2}) s.added.push_back({id, s.tokens[id], true});
  auto t = sf::Tokenizer::from_spec(std::move(s));
  check(t.ok(), "tiny spm builds");
  return *t;
}

std::shared_ptr<const sf::Tokenizer> make_bpe() {
  sf::tok::TokenizerSpec s;
  s.model = sf::tok::ModelType::kBpe;
  s.byte_level = true;
  for (int b = 0; b < 256; ++b) {
    std::string t;
    sf::tok::bytes_to_byte_level(std::string(1, static_cast<char>(b)), t);
    s.tokens.push_back(t);
  }
  for (const char* t : {"ab", "abc",
                        "\xC4\xA0"
                        "a",
                        "bc", "\xC4\xA0\xC4\xA0", "<|end|>", "<x>"})
    s.tokens.push_back(t);
  s.types.assign(s.tokens.size(), sf::tok::TokenType::kNormal);
  s.types[261] = sf::tok::TokenType::kControl;
  s.types[262] = sf::tok::TokenType::kUserDefined;
  s.merges = {{"a", "b"}, {"\xC4\xA0", "a"}, {"b", "c"}, {"ab", "c"}, {"\xC4\xA0", "\xC4\xA0"}};
  sf::tok::PreTokStep step;
  step.pattern = sf::tok::kPatternLlama3;
  s.pretok.push_back(step);
  s.added.push_back({261, "<|end|>", true});
  s.added.push_back({262, "<x>", false});
  s.eos_id = 261;
  auto t = sf::Tokenizer::from_spec(std::move(s));
  check(t.ok(), "tiny bpe builds");
  return *t;
}

std::shared_ptr<const sf::Tokenizer> load_llama3() {
  std::string path;
  if (const char* p = std::getenv("STARFIRE_FUZZ_TOKENIZER_JSON")) {
    path = p;
  } else {
    path = (std::filesystem::path(__FILE__).parent_path() /
            "../../shared/fixtures/tokenizers/llama3/tokenizer.json")
               .string();
  }
  if (!std::filesystem::exists(path)) return nullptr;
  auto t = sf::Tokenizer::from_hf(path, "");
  return t.ok() ? *t : nullptr;
}

void check_stream(const sf::Tokenizer& tok, const std::vector<int32_t>& ids) {
  sf::StreamDecoder d(tok, /*print_special=*/true);
  std::string streamed;
  for (int32_t id : ids) {
    const std::string part = d.push(id);
    check(sf::tok::utf8_is_valid(part), "stream output is valid UTF-8");
    streamed += part;
  }
  streamed += d.flush();
  check(sf::tok::utf8_is_valid(streamed), "flushed stream is valid UTF-8");
  if (!tok.strips_prefix_space()) {
    std::string whole = tok.decode(ids);
    std::string expect = sf::take_complete_utf8(whole);
    if (!whole.empty()) expect += "\xEF\xBF\xBD";
    check(streamed == expect, "stream equals sanitized decode");
  }
}

void run_tokenizer(const sf::Tokenizer& tok, std::string_view text, bool add_special,
                   bool parse_special, bool exact_round_trip) {
  const auto ids = tok.encode(text, add_special, parse_special);
  for (int32_t id : ids) check(id >= 0 && id < tok.n_vocab(), "id in range");
  if (exact_round_trip && !add_special) check(tok.decode(ids) == text, "decode(encode(x)) == x");
  (void)tok.decode(ids, /*skip_special=*/true);
  check_stream(tok, ids);
}

void run_regex(std::string_view data) {
  const size_t cut = data.find('\0');
  if (cut == std::string_view::npos) return;
  const std::string pattern(data.substr(0, cut));
  const std::string_view text = data.substr(cut + 1);
  sf::tok::PreTokStep step;
  step.pattern = pattern;
  sf::tok::PreTokenizer p;
  if (!p.build({step}).ok()) return;
  std::vector<sf::tok::Piece> ps;
  p.split(text, ps);
  uint32_t at = 0;
  for (const auto& [b, e] : ps) {
    check(b == at && e > b && e <= text.size(), "pieces tile the text");
    at = e;
  }
  check(at == text.size(), "pieces cover the text");
}

// The hand-written matchers against the regex engine, on the same text.
void run_fast_vs_regex(std::string_view text) {
  static const auto pairs = [] {
    std::vector<std::pair<sf::tok::PreTokenizer, sf::tok::PreTokenizer>> v;
    for (const char* pat :
         {sf::tok::kPatternGpt2, sf::tok::kPatternLlama3, sf::tok::kPatternQwen2,
          "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"}) {
      sf::tok::PreTokStep step;
      step.pattern = pat;
      check(sf::tok::fast_pattern_for(pat) != sf::tok::FastPattern::kNone, "fast pattern known");
      v.emplace_back();
      check(v.back().first.build({step}, true).ok(), "fast builds");
      check(v.back().second.build({step}, false).ok(), "regex builds");
    }
    return v;
  }();
  for (const auto& [fast, slow] : pairs) {
    std::vector<sf::tok::Piece> a, b;
    fast.split(text, a);
    slow.split(text, b);
    check(a == b, "fast matcher == regex engine");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto spm = make_spm();
  static const auto bpe = make_bpe();
  static const auto llama3 = load_llama3();
  if (size == 0 || size > 4096) return 0;
  const uint8_t mode = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool add_special = mode & 0x10;
  const bool parse_special = mode & 0x20;
  switch (mode & 0x7) {
    case 0:
    case 1:
      run_tokenizer(*spm, text, add_special, parse_special, false);
      break;
    case 2:
    case 3:
      run_tokenizer(*bpe, text, add_special, parse_special, true);
      break;
    case 4:
      if (llama3) run_tokenizer(*llama3, text, add_special, parse_special, true);
      break;
    case 5:
      run_regex(text);
      break;
    case 6: {
      auto t = sf::Tokenizer::from_hf_json(text);
      if (t.ok()) run_tokenizer(**t, "Hello, 世界! \xF0\x9F\x99\x82 <s>", true, true, false);
      break;
    }
    default:
      run_fast_vs_regex(text);
      break;
  }
  return 0;
}
