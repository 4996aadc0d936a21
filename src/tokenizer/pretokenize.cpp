#include "tokenizer/pretokenize.h"

#include "tokenizer/unicode.h"

namespace sf::tok {

const char* const kPatternGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kPatternLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kPatternQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

namespace {

// A run of code points [b, e) that a step produced; `match` says whether the
// step's pattern matched it (as opposed to the text between matches).
struct Seg {
  uint32_t b, e;
  bool match;
};

void emit(const std::vector<Seg>& segs, PreTokStep::Behavior behavior, std::vector<Piece>& out) {
  using B = PreTokStep::Behavior;
  switch (behavior) {
    case B::kIsolated:
      for (const Seg& s : segs) out.push_back({s.b, s.e});
      break;
    case B::kRemoved:
      for (const Seg& s : segs)
        if (!s.match) out.push_back({s.b, s.e});
      break;
    case B::kMergedWithPrevious: {
      bool prev_open = false;  // can the previous piece take a following match
      for (const Seg& s : segs) {
        if (s.match && prev_open) {
          out.back().second = s.e;
          prev_open = false;
        } else {
          out.push_back({s.b, s.e});
          prev_open = !s.match;
        }
      }
      break;
    }
    case B::kMergedWithNext: {
      bool pending = false;
      uint32_t pb = 0;
      for (const Seg& s : segs) {
        if (s.match) {
          if (pending) out.push_back({pb, s.b});
          pending = true;
          pb = s.b;
        } else if (pending) {
          out.push_back({pb, s.e});
          pending = false;
        } else {
          out.push_back({s.b, s.e});
        }
      }
      if (pending) out.push_back({pb, segs.back().e});
      break;
    }
    case B::kContiguous:
      for (size_t i = 0; i < segs.size(); ++i) {
        if (i > 0 && segs[i].match && segs[i - 1].match) {
          out.back().second = segs[i].e;
        } else {
          out.push_back({segs[i].b, segs[i].e});
        }
      }
      break;
  }
}

}  // namespace

Status PreTokenizer::build(const std::vector<PreTokStep>& steps, bool allow_fast) {
  steps_.clear();
  for (const PreTokStep& s : steps) {
    Step st;
    st.spec = s;
    if (s.kind == PreTokStep::Kind::kSplit) {
      auto re = Regex::compile(s.pattern);
      if (!re.ok()) return re.status().with_context("pre-tokenizer split");
      st.re = std::move(re).value();
      if (allow_fast) st.fast = fast_pattern_for(s.pattern);
    }
    steps_.push_back(std::move(st));
  }
  return Status();
}

void PreTokenizer::split(std::string_view text, std::vector<Piece>& out) const {
  if (text.empty()) return;
  if (steps_.empty()) {
    out.push_back({0, static_cast<uint32_t>(text.size())});
    return;
  }
  thread_local CodepointText ct;
  thread_local std::vector<Piece> cur, next;
  thread_local std::vector<Seg> segs;
  ct.assign(text);
  const uint32_t* cps = ct.cps.data();
  cur.clear();
  cur.push_back({0, static_cast<uint32_t>(ct.cps.size())});

  for (const Step& step : steps_) {
    next.clear();
    for (const Piece& pc : cur) {
      segs.clear();
      const uint32_t b = pc.first, e = pc.second;
      uint32_t gap = b;  // start of the text not yet covered by a segment
      auto add_match = [&](uint32_t mb, uint32_t me) {
        if (mb > gap) segs.push_back({gap, mb, false});
        if (me > mb) segs.push_back({mb, me, true});  // an empty match only splits
        gap = me;
      };
      switch (step.spec.kind) {
        case PreTokStep::Kind::kSplit: {
          // Bounded work per piece: a pathological pattern stops matching
          // (the rest of the piece stays one piece) instead of hanging.
          uint64_t budget = 1000000 + uint64_t{2000} * (e - b);
          uint32_t from = b;
          while (from < e) {
            uint32_t p = from, mlen = 0;
            bool found = false, out_of_steps = false;
            for (; p < e; ++p) {
              const int64_t len = step.fast != FastPattern::kNone
                                      ? fast_match(step.fast, cps, b, e, p)
                                      : step.re.match_at(cps, b, e, p, &budget);
              if (len == Regex::kOutOfSteps) {
                out_of_steps = true;
                break;
              }
              if (len >= 0) {
                found = true;
                mlen = static_cast<uint32_t>(len);
                break;
              }
            }
            if (!found || out_of_steps) break;
            add_match(p, p + mlen);
            from = mlen > 0 ? p + mlen : p + 1;
          }
          break;
        }
        case PreTokStep::Kind::kDigits: {
          uint32_t i = b;
          while (i < e) {
            if (!cp_is_number(cps[i])) {
              ++i;
              continue;
            }
            uint32_t j = i + 1;
            if (!step.spec.individual_digits)
              while (j < e && cp_is_number(cps[j])) ++j;
            add_match(i, j);
            i = j;
          }
          break;
        }
        case PreTokStep::Kind::kMetaspace: {
          for (uint32_t i = b; i < e; ++i)
            if (cps[i] == 0x2581) add_match(i, i + 1);
          break;
        }
      }
      if (e > gap) segs.push_back({gap, e, false});
      if (step.spec.invert)
        for (Seg& s : segs) s.match = !s.match;
      PreTokStep::Behavior behavior = step.spec.behavior;
      if (step.spec.kind == PreTokStep::Kind::kMetaspace)
        behavior = PreTokStep::Behavior::kMergedWithNext;
      if (step.spec.kind == PreTokStep::Kind::kDigits) behavior = PreTokStep::Behavior::kIsolated;
      emit(segs, behavior, next);
    }
    cur.swap(next);
  }
  for (const Piece& pc : cur) {
    if (pc.second > pc.first) out.push_back({ct.offsets[pc.first], ct.offsets[pc.second]});
  }
}

namespace {

PreTokStep split_step(const char* pattern) {
  PreTokStep s;
  s.kind = PreTokStep::Kind::kSplit;
  s.pattern = pattern;
  return s;
}

}  // namespace

Status pretok_steps_for_gguf_pre(const std::string& pre, std::vector<PreTokStep>* steps,
                                 NormalForm* normal_form, bool* ignore_merges) {
  steps->clear();
  *normal_form = NormalForm::kNone;
  *ignore_merges = false;
  auto is = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (pre == n) return true;
    return false;
  };
  auto add = [&](std::initializer_list<const char*> patterns) {
    for (const char* p : patterns) steps->push_back(split_step(p));
  };
  // llama.cpp's gpt2 list has no trailing \s+ alternative; whitespace it leaves
  // unmatched still forms its own piece, which is the same split.
  const char* gpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

  if (is({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "llama4",
          "midm-2.0", "lfm2"})) {
    add({kPatternLlama3});
    *ignore_merges = true;
  } else if (is({"dbrx", "smaug-bpe", "chatglm-bpe"})) {
    add({kPatternLlama3});
  } else if (is({"qwen2", "deepseek-r1-qwen", "megrez", "stablelm2", "hunyuan", "grok-2"})) {
    add({kPatternQwen2});
    if (pre != "stablelm2" && pre != "hunyuan" && pre != "grok-2") *normal_form = NormalForm::kNFC;
  } else if (pre == "deepseek-llm") {
    add({"[\r\n]",
         "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
         "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
         "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-"
         "\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
         "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-"
         "\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}"
         "\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}"
         "\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}"
         "\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-"
         "\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}"
         "\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}"
         "\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}"
         "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-"
         "\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"
         "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
         "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
         "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
         "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"});
  } else if (pre == "deepseek-coder") {
    add({"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"});
  } else if (is({"deepseek-v3", "hunyuan-dense"})) {
    add({"\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
         "[!\"#$%&'()*+,\\-./"
         ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{"
         "M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"});
  } else if (pre == "falcon") {
    add({"[\\p{P}\\$\\+<=>\\^~\\|`]+", gpt2, "[0-9][0-9][0-9]"});
  } else if (is({"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone",
                 "minerva-7b"})) {
    add({"\\p{N}", gpt2});
  } else if (is({"gpt-2", "gpt2", "mpt", "olmo", "jais", "phi-2", "jina-es", "jina-de", "gigachat",
                 "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe",
                 "trillion", "granite-docling"})) {
    add({gpt2});
  } else if (is({"poro-chat", "bloom", "gpt3-finnish"})) {
    add({" ?[^(\\s|.,!?…。，、।۔،)]+"});
  } else if (pre == "viking") {
    add({" ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}"});
  } else if (pre == "tekken") {
    add(
        {"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
         "|"
         "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
         "|"
         "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"});
    *ignore_merges = true;
  } else if (is({"gpt-4o", "minimax-m2"})) {
    add(
        {"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
         "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
         "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| "
         "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"});
  } else if (pre == "chameleon") {
    add({"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
         "[\\p{P}!-/:-@\\[-`{-~]", gpt2});
  } else if (pre == "superbpe") {
    add({"\\p{N}+", "(?=(\\d{3})+(?!\\d))"});
  } else if (is({"bailingmoe", "llada-moe"})) {
    add(
        {"'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}| "
         "?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"});
  } else if (pre == "seed-coder") {
    add(
        {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| "
         "?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"});
  } else if (pre == "default" || pre.empty()) {
    add({"[\\p{P}\\$\\+<=>\\^~\\|]+", gpt2, "\\p{N}+", "[0-9][0-9][0-9]"});
  } else {
    return Status::error("unsupported tokenizer.ggml.pre '" + pre +
                         "' (the pre-tokenizer decides how text is split; guessing would give "
                         "wrong ids)");
  }
  return Status();
}

}  // namespace sf::tok
