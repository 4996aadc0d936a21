#include "train/data_prepare.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/threadpool.h"
#include "formats/gguf.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/jinja/template.h"
#include "train/shard.h"

namespace sf::train {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

constexpr size_t kMaxListedSkips = 10;
// Templates that print today's date (Llama 3.x) would make the output depend
// on the day it was made; a fixed clock keeps preparation reproducible.
constexpr const char* kFixedDate = "2024-07-26";

uint64_t mix64(uint64_t z) {  // splitmix64's finalizer
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Deterministic per-document draw in [0, 1): depends on (seed, index) only.
double split_draw(uint64_t seed, uint64_t doc_index) {
  const uint64_t h = mix64(mix64(seed ^ 0x56414C53504C4954ull) + doc_index * 0x9E3779B97F4A7C15ull);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

std::string lower_ext(const fs::path& p) {
  std::string e = p.extension().string();
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// The ChatML layout, closing turns with <|im_end|> when the vocabulary has it
// and with the EOS text otherwise (so the end of a reply is a real token).
std::string default_chat_template(const std::string& end) {
  return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
         "message['content'] + '" +
         end +
         "' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' "
         "}}{% endif %}";
}

enum class CutMapping { kMapped, kStraddles, kNotText };

// Byte-level BPE pieces are exactly the text, so summing piece lengths gives
// each token's offset, and a text cut maps to the token index where the sum
// reaches it (one encode, no re-encoding). kStraddles: a token spans a cut;
// kNotText: the pieces do not spell the text (SentencePiece), use another way.
CutMapping map_cuts_by_pieces(const Tokenizer& tok, std::string_view text,
                              const std::vector<int32_t>& ids, const std::vector<size_t>& cuts,
                              std::vector<size_t>& tok_cuts) {
  tok_cuts.clear();
  size_t off = 0, t = 0;
  bool straddles = false;
  for (size_t c : cuts) {
    while (off < c && t < ids.size()) {
      const std::string piece = tok.token_to_piece(ids[t]);
      if (text.compare(off, piece.size(), piece) != 0) return CutMapping::kNotText;
      off += piece.size();
      ++t;
    }
    straddles |= off != c;
    tok_cuts.push_back(t);
  }
  if (off != text.size() || t != ids.size()) return CutMapping::kNotText;
  return straddles ? CutMapping::kStraddles : CutMapping::kMapped;
}

}  // namespace

// ---------------------------------------------------------------- tokenizer

Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const std::string& path,
                                                        std::string* kind) {
  std::error_code ec;
  fs::path p = path;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "tokenizer.json", ec)) {
      p = p / "tokenizer.json";
    } else {
      std::vector<fs::path> ggufs;
      for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
        if (lower_ext(it->path()) == ".gguf") ggufs.push_back(it->path());
      if (ggufs.size() != 1)
        return errorf(
            "%s: %s; give a tokenizer.json, a folder holding one, or a GGUF file with tokenizer "
            "metadata",
            path.c_str(),
            ggufs.empty() ? "no tokenizer.json or .gguf file in this folder"
                          : "several .gguf files in this folder, name one");
      p = ggufs[0];
    }
  } else if (!fs::exists(p, ec)) {
    return errorf(
        "%s: tokenizer not found (give a GGUF model, a vocab-only GGUF, a "
        "tokenizer.json or its folder)",
        path.c_str());
  }
  if (lower_ext(p) == ".json") {
    const fs::path cfg = p.parent_path() / "tokenizer_config.json";
    if (kind) *kind = "hf";
    auto tok = Tokenizer::from_hf(p.string(), fs::exists(cfg, ec) ? cfg.string() : "");
    if (!tok.ok()) return tok.status().with_context(p.string());
    return tok;
  }
  auto file = gguf::GgufFile::open(p.string());
  if (!file.ok())
    return Status::error(file.status().message() +
                         " (the tokenizer must be a GGUF file, a tokenizer.json or its folder)");
  if (kind) *kind = "gguf";
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok.ok()) return tok.status().with_context(p.string());
  return tok;
}

// ---------------------------------------------------------------- encoder

struct DocumentEncoder::State {
  std::optional<jinja::Template> tmpl;  // set by create()
  std::string bos_text, eos_text;
  std::vector<std::string> eog_texts;  // texts of end-of-generation tokens
  int32_t end_id = -1;                 // appended to every document
};

Result<DocumentEncoder> DocumentEncoder::create(std::shared_ptr<const Tokenizer> tok) {
  DocumentEncoder e;
  auto st = std::make_shared<State>();
  if (tok->bos_id() >= 0) st->bos_text = tok->token_text(tok->bos_id());
  if (tok->eos_id() >= 0) st->eos_text = tok->token_text(tok->eos_id());
  st->end_id = tok->eos_id() >= 0 ? tok->eos_id() : tok->eot_id();
  for (int32_t id = 0; id < tok->n_vocab(); ++id) {
    if (!(tok->is_eog(id) || id == tok->eos_id())) continue;
    const std::string& t = tok->token_text(id);
    if (!t.empty()) st->eog_texts.push_back(t);
  }
  std::sort(st->eog_texts.begin(), st->eog_texts.end());
  st->eog_texts.erase(std::unique(st->eog_texts.begin(), st->eog_texts.end()), st->eog_texts.end());
  std::string src = tok->chat_template();
  if (src.empty()) {
    e.default_template_ = true;
    std::string end = tok->find_token("<|im_end|>") ? "<|im_end|>" : st->eos_text;
    src = default_chat_template(end);
  }
  auto parsed = jinja::Template::parse(src);
  if (!parsed.ok())
    return Status::error("the tokenizer's chat template does not parse: " +
                         parsed.status().message());
  st->tmpl.emplace(std::move(*parsed));
  e.tok_ = std::move(tok);
  e.state_ = std::move(st);
  return e;
}

TokenizedDoc DocumentEncoder::encode_text(std::string_view text) const {
  TokenizedDoc d;
  if (tok_->add_bos() && tok_->bos_id() >= 0) d.ids.push_back(tok_->bos_id());
  // Raw text is data, not markup: "<|endoftext|>" in a web page stays text.
  std::vector<int32_t> body = tok_->encode(text, false, false);
  d.ids.insert(d.ids.end(), body.begin(), body.end());
  if (state_->end_id >= 0) d.ids.push_back(state_->end_id);
  return d;
}

Result<TokenizedDoc> DocumentEncoder::encode_chat(const ojson& messages) const {
  if (!messages.is_array() || messages.empty())
    return Status::error("\"messages\" must be a non-empty array");
  bool any_assistant = false;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ojson& m = messages[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return errorf("message %zu has no string \"role\"", i);
    const bool tool_call = m.contains("tool_calls");
    if (m.contains("content") ? !(m["content"].is_string() || (tool_call && m["content"].is_null()))
                              : !tool_call)
      return errorf("message %zu (%s) has no string \"content\"", i,
                    m["role"].get_ref<const std::string&>().c_str());
    any_assistant |= m["role"] == "assistant";
  }
  if (!any_assistant)
    return Status::error("no assistant message, so nothing for the loss to learn from");

  const State& st = *state_;
  auto render = [&](size_t n, bool gen) -> Result<std::string> {
    ChatTemplateInputs in;
    for (size_t i = 0; i < n; ++i) in.messages.push_back(messages[i]);
    in.add_generation_prompt = gen;
    in.bos_token = st.bos_text;
    in.eos_token = st.eos_text;
    in.extra[jinja::kNowContextKey] = kFixedDate;
    auto r = render_chat_template(*st.tmpl, in);
    if (!r.ok()) return r.status().with_context("chat template");
    return r;
  };
  SF_ASSIGN_OR_RETURN(std::string full, render(messages.size(), false));

  // Text boundaries: 0, start_1, end_1, start_2, end_2 ..., full.size().
  // Segments alternate prompt (even) and reply (odd).
  std::vector<size_t> cuts = {0};
  for (size_t k = 0; k < messages.size(); ++k) {
    if (messages[k]["role"] != "assistant") continue;
    SF_ASSIGN_OR_RETURN(std::string prompt, render(k, true));
    if (!starts_with(full, prompt) || prompt.size() < cuts.back())
      return errorf(
          "the chat template renders the conversation up to message %zu differently from the "
          "whole conversation, so the start of that assistant reply is unknown",
          k);
    const size_t begin = prompt.size();
    size_t end = std::string::npos;
    std::string upto;
    if (k + 1 == messages.size()) {
      upto = full;  // saves a render: most conversations end with the reply
    } else {
      SF_ASSIGN_OR_RETURN(upto, render(k + 1, false));
    }
    if (starts_with(full, upto) && upto.size() >= begin) {
      // The reply is what rendering message k added; it ends after the last
      // end-of-generation token in it (the "\n" after <|im_end|> is template).
      end = upto.size();
      size_t best = std::string::npos;
      for (const std::string& t : st.eog_texts) {
        const size_t at = std::string_view(upto).substr(begin).rfind(t);
        if (at != std::string::npos && (best == std::string::npos || begin + at + t.size() > best))
          best = begin + at + t.size();
      }
      if (best != std::string::npos) end = best;
    } else {
      // The template renders this turn differently once later turns follow
      // (Qwen3 drops earlier thinking): the reply ends at its first end token.
      for (const std::string& t : st.eog_texts) {
        const size_t at = full.find(t, begin);
        if (at != std::string::npos) end = std::min(end, at + t.size());
      }
      if (end == std::string::npos)
        return errorf("cannot find the end of assistant message %zu: no end-of-turn token after it",
                      k);
    }
    cuts.push_back(begin);
    cuts.push_back(end);
  }
  cuts.push_back(full.size());

  const Tokenizer& tok = *tok_;
  TokenizedDoc d;
  d.chat = true;
  std::vector<int32_t> whole = tok.encode(full, false, true);
  std::vector<size_t> tok_cuts;  // token index of each text cut
  // Segment-by-segment encoding, the fallback when a token straddles a cut.
  auto use_segments = [&] {
    d.segmented = true;
    d.ids.clear();
    tok_cuts.assign(1, 0);
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      std::vector<int32_t> seg =
          tok.encode(std::string_view(full).substr(cuts[i], cuts[i + 1] - cuts[i]), false, true);
      d.ids.insert(d.ids.end(), seg.begin(), seg.end());
      tok_cuts.push_back(d.ids.size());
    }
  };
  const CutMapping m = map_cuts_by_pieces(tok, full, whole, cuts, tok_cuts);
  if (m == CutMapping::kMapped) {
    d.ids = std::move(whole);
  } else if (m == CutMapping::kStraddles) {
    use_segments();
  } else {
    // Pieces are not the text (SentencePiece escapes spaces, adds a dummy
    // prefix): map each cut by encoding the text before it; a token prefix of
    // the whole encoding means the whole encoding splits there too.
    tok_cuts.assign(1, 0);
    bool aligned = true;
    for (size_t i = 1; i + 1 < cuts.size() && aligned; ++i) {
      std::vector<int32_t> pre = tok.encode(std::string_view(full).substr(0, cuts[i]), false, true);
      aligned = pre.size() <= whole.size() && pre.size() >= tok_cuts.back() &&
                std::equal(pre.begin(), pre.end(), whole.begin());
      tok_cuts.push_back(pre.size());
    }
    if (aligned) {
      tok_cuts.push_back(whole.size());
      d.ids = std::move(whole);
    } else {
      use_segments();
    }
  }
  d.mask.assign(d.ids.size(), 0);
  for (size_t i = 1; i + 1 < tok_cuts.size(); i += 2)
    std::fill(d.mask.begin() + static_cast<std::ptrdiff_t>(tok_cuts[i]),
              d.mask.begin() + static_cast<std::ptrdiff_t>(tok_cuts[i + 1]), 1);
  if (tok.add_bos() && tok.bos_id() >= 0 && (d.ids.empty() || d.ids[0] != tok.bos_id())) {
    d.ids.insert(d.ids.begin(), tok.bos_id());
    d.mask.insert(d.mask.begin(), 0);
  }
  if (st.end_id >= 0) {
    d.ids.push_back(st.end_id);
    d.mask.push_back(0);
  }
  return d;
}

// ---------------------------------------------------------------- prepare

namespace {

struct Source {
  std::string path;
  bool jsonl = false;
};

Result<std::vector<Source>> collect_sources(const std::vector<std::string>& inputs) {
  if (inputs.empty()) return Status::error("no inputs: give files or folders with --input");
  std::vector<Source> out;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<fs::path> files;
      fs::recursive_directory_iterator it(in, fs::directory_options::skip_permission_denied, ec),
          end;
      for (; !ec && it != end; it.increment(ec)) {
        const std::string e = lower_ext(it->path());
        if ((e == ".txt" || e == ".md" || e == ".jsonl") && it->is_regular_file(ec))
          files.push_back(it->path());
      }
      if (ec) return errorf("%s: cannot walk the folder: %s", in.c_str(), ec.message().c_str());
      if (files.empty())
        return errorf("%s: no .txt, .md or .jsonl files under this folder", in.c_str());
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) out.push_back({f.string(), lower_ext(f) == ".jsonl"});
    } else if (fs::is_regular_file(in, ec)) {
      // A file named explicitly is read as text unless it is .jsonl.
      out.push_back({in, lower_ext(in) == ".jsonl"});
    } else {
      return errorf("%s: no such file or folder", in.c_str());
    }
  }
  return out;
}

// One unit of work for the tokenizer threads.
struct Pending {
  int source = 0;
  int64_t line = 0;  // 1-based JSONL line, 0 for text files
  bool jsonl = false;
  std::string raw;
};

struct Outcome {
  TokenizedDoc doc;
  std::string error;  // non-empty: the line is skipped
  bool blank = false;
};

Outcome encode_one(const DocumentEncoder& enc, const Pending& p) {
  Outcome o;
  if (!p.jsonl) {
    o.doc = enc.encode_text(p.raw);
    return o;
  }
  auto j = ojson::parse(p.raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    o.error = "not valid JSON";
  } else if (!j.is_object()) {
    o.error = "not a JSON object";
  } else if (j.contains("messages")) {
    auto d = enc.encode_chat(j["messages"]);
    if (d.ok())
      o.doc = std::move(*d);
    else
      o.error = d.status().message();
  } else if (j.contains("text")) {
    if (!j["text"].is_string())
      o.error = "\"text\" is not a string";
    else if (j["text"].get_ref<const std::string&>().empty())
      o.error = "\"text\" is empty";
    else
      o.doc = enc.encode_text(j["text"].get_ref<const std::string&>());
  } else {
    o.error = "neither \"text\" nor \"messages\"";
  }
  return o;
}

// Writes one split's token stream as shards of at most shard_tokens tokens.
class SplitWriter {
 public:
  SplitWriter(std::string dir, std::string split, uint32_t vocab, int64_t shard_tokens,
              SplitStats* stats, std::vector<std::string>* created)
      : dir_(std::move(dir)),
        split_(std::move(split)),
        vocab_(vocab),
        shard_tokens_(static_cast<uint64_t>(shard_tokens)),
        stats_(stats),
        created_(created) {}

  Status append(const std::vector<int32_t>& ids, const std::vector<uint8_t>& mask) {
    size_t at = 0;
    while (at < ids.size()) {
      if (!open_) {
        const std::string name = shard_file_name(split_, next_index_++);
        SF_ASSIGN_OR_RETURN(cur_, ShardWriter::create((fs::path(dir_) / name).string(), vocab_));
        open_ = true;
        stats_->shards.push_back(name);
        created_->push_back(cur_.path());
      }
      const size_t take =
          static_cast<size_t>(std::min<uint64_t>(ids.size() - at, shard_tokens_ - cur_.n_tokens()));
      std::span<const uint8_t> m;
      if (!mask.empty()) m = std::span<const uint8_t>(mask).subspan(at, take);
      SF_RETURN_IF_ERROR(cur_.append(std::span<const int32_t>(ids).subspan(at, take), m));
      at += take;
      if (cur_.n_tokens() == shard_tokens_) SF_RETURN_IF_ERROR(close());
    }
    return {};
  }

  Status close() {
    if (!open_) return {};
    open_ = false;
    return cur_.finish();
  }

 private:
  std::string dir_, split_;
  uint32_t vocab_;
  uint64_t shard_tokens_;
  SplitStats* stats_;
  std::vector<std::string>* created_;
  ShardWriter cur_;
  bool open_ = false;
  int next_index_ = 0;
};

bool is_prepared_file(const std::string& name) {
  auto ends = [&](std::string_view s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return name == "meta.json" || ((starts_with(name, "train-") || starts_with(name, "val-")) &&
                                 (ends(".bin") || ends(".bin.tmp")));
}

Status prepare_out_dir(const PrepareOptions& o) {
  std::error_code ec;
  if (o.out_dir.empty()) return Status::error("no output folder: give -o OUTDIR");
  if (fs::exists(o.out_dir, ec) && !fs::is_directory(o.out_dir, ec))
    return errorf("%s: exists and is not a folder", o.out_dir.c_str());
  fs::create_directories(o.out_dir, ec);
  if (ec) return errorf("%s: cannot create: %s", o.out_dir.c_str(), ec.message().c_str());
  std::vector<fs::path> old;
  for (fs::directory_iterator it(o.out_dir, ec), end; !ec && it != end; it.increment(ec))
    if (is_prepared_file(it->path().filename().string())) old.push_back(it->path());
  if (old.empty()) return {};
  std::sort(old.begin(), old.end());
  if (!o.overwrite)
    return errorf(
        "%s already holds prepared data (%s); choose an empty folder or pass --overwrite to "
        "replace it",
        o.out_dir.c_str(), old[0].filename().string().c_str());
  for (const fs::path& p : old) {
    fs::remove(p, ec);
    if (ec) return errorf("%s: cannot remove: %s", p.string().c_str(), ec.message().c_str());
  }
  return {};
}

Status validate(const PrepareOptions& o) {
  if (!(o.val_fraction >= 0.0 && o.val_fraction < 1.0))
    return errorf("val fraction %g is out of range: give a value in [0, 1), e.g. 0.01",
                  o.val_fraction);
  if (o.shard_tokens < 1)
    return errorf("shard size %lld tokens must be at least 1",
                  static_cast<long long>(o.shard_tokens));
  if (o.max_documents < 0) return Status::error("max documents must be 0 (all) or positive");
  if (o.tokenizer.empty()) return Status::error("no tokenizer: give --tokenizer PATH");
  return {};
}

ojson split_json(const SplitStats& s) {
  ojson j;
  j["documents"] = s.documents;
  j["tokens"] = s.tokens;
  j["loss_tokens"] = s.loss_tokens;
  j["shards"] = s.shards;
  return j;
}

Status write_text_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!f) return errorf("%s: write failed: %s", tmp.string().c_str(), std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return errorf("%s: cannot write: %s", path.string().c_str(), ec.message().c_str());
  return {};
}

// Reads documents from the sources in order and hands them to `sink` in
// batches (one batch is tokenized in parallel). Returns early when `sink`
// says enough. Text files are read whole; JSONL files line by line.
class DocumentReader {
 public:
  DocumentReader(const std::vector<Source>& sources, std::vector<SourceStats>& stats)
      : sources_(sources), stats_(stats) {}

  // Fills `batch` with up to ~kBatchBytes of documents; false when all input is read.
  Result<bool> fill(std::vector<Pending>& batch) {
    batch.clear();
    size_t bytes = 0;
    while (bytes < kBatchBytes && batch.size() < kBatchDocs) {
      if (!text_docs_.empty()) {
        bytes += text_docs_.front().raw.size();
        batch.push_back(std::move(text_docs_.front()));
        text_docs_.pop_front();
        continue;
      }
      if (jsonl_.is_open()) {
        Pending p;
        if (!std::getline(jsonl_, p.raw)) {
          if (jsonl_.bad())
            return errorf("%s: read error: %s", sources_[cur_].path.c_str(), std::strerror(errno));
          jsonl_.close();
          continue;
        }
        ++line_;
        stats_[cur_].bytes += static_cast<int64_t>(p.raw.size()) + 1;
        if (!p.raw.empty() && p.raw.back() == '\r') p.raw.pop_back();
        if (p.raw.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
        p.source = cur_;
        p.line = line_;
        p.jsonl = true;
        bytes += p.raw.size();
        batch.push_back(std::move(p));
        continue;
      }
      if (next_ >= static_cast<int>(sources_.size())) break;
      cur_ = next_++;
      SF_RETURN_IF_ERROR(open_source());
    }
    return !batch.empty();
  }

 private:
  static constexpr size_t kBatchBytes = 4 << 20;
  static constexpr size_t kBatchDocs = 8192;

  Status open_source() {
    const Source& s = sources_[cur_];
    if (s.jsonl) {
      line_ = 0;
      jsonl_.open(s.path, std::ios::binary);
      if (!jsonl_) return errorf("%s: cannot open: %s", s.path.c_str(), std::strerror(errno));
      return {};
    }
    std::ifstream f(s.path, std::ios::binary);
    if (!f) return errorf("%s: cannot open: %s", s.path.c_str(), std::strerror(errno));
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) return errorf("%s: read error: %s", s.path.c_str(), std::strerror(errno));
    stats_[cur_].bytes = static_cast<int64_t>(text.size());
    split_text(text);
    return {};
  }

  // Splits at lines that are exactly "<|endoftext|>" (whitespace aside).
  void split_text(std::string_view text) {
    if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte-order mark
    size_t doc_begin = 0, pos = 0;
    auto emit = [&](size_t b, size_t e) {
      std::string_view d = text.substr(b, e - b);
      while (!d.empty() && (d.front() == '\n' || d.front() == '\r')) d.remove_prefix(1);
      while (!d.empty() && (d.back() == '\n' || d.back() == '\r')) d.remove_suffix(1);
      if (d.find_first_not_of(" \t\r\n") == std::string_view::npos) return;
      Pending p;
      p.source = cur_;
      p.raw = std::string(d);
      text_docs_.push_back(std::move(p));
    };
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      const size_t line_end = eol == std::string_view::npos ? text.size() : eol;
      std::string_view line = text.substr(pos, line_end - pos);
      const size_t a = line.find_first_not_of(" \t\r");
      const size_t b = line.find_last_not_of(" \t\r");
      if (a != std::string_view::npos && line.substr(a, b - a + 1) == "<|endoftext|>") {
        emit(doc_begin, pos);
        doc_begin = line_end == text.size() ? text.size() : line_end + 1;
      }
      pos = line_end == text.size() ? text.size() : line_end + 1;
    }
    emit(doc_begin, text.size());
  }

  const std::vector<Source>& sources_;
  std::vector<SourceStats>& stats_;
  int next_ = 0, cur_ = -1;
  std::ifstream jsonl_;
  int64_t line_ = 0;
  std::deque<Pending> text_docs_;
};

}  // namespace

Result<PrepareReport> prepare_data(const PrepareOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  SF_RETURN_IF_ERROR(validate(opts));
  SF_ASSIGN_OR_RETURN(std::vector<Source> sources, collect_sources(opts.inputs));
  PrepareReport rep;
  SF_ASSIGN_OR_RETURN(auto tok, load_tokenizer(opts.tokenizer, &rep.tokenizer_kind));
  SF_ASSIGN_OR_RETURN(DocumentEncoder enc, DocumentEncoder::create(tok));
  rep.default_chat_template = enc.default_template();
  SF_RETURN_IF_ERROR(prepare_out_dir(opts));
  // The rate counts the work on the data, not loading a large tokenizer.json.
  const auto t1 = std::chrono::steady_clock::now();
  rep.load_seconds = std::chrono::duration<double>(t1 - t0).count();

  for (const Source& s : sources) {
    SourceStats st;
    st.path = s.path;
    st.kind = s.jsonl ? "jsonl" : "text";
    rep.sources.push_back(st);
  }
  std::vector<std::string> created;  // removed again if preparation fails
  auto run = [&]() -> Status {
    const uint32_t vocab = static_cast<uint32_t>(tok->n_vocab());
    SplitWriter train(opts.out_dir, "train", vocab, opts.shard_tokens, &rep.train, &created);
    SplitWriter val(opts.out_dir, "val", vocab, opts.shard_tokens, &rep.val, &created);
    DocumentReader reader(sources, rep.sources);
    ThreadPool pool(std::max(1, opts.threads));
    std::vector<Pending> batch;
    std::vector<Outcome> results;
    int64_t doc_index = 0;
    bool done = false;
    while (!done) {
      SF_ASSIGN_OR_RETURN(bool more, reader.fill(batch));
      if (!more) break;
      results.assign(batch.size(), Outcome{});
      pool.parallel_for(static_cast<int64_t>(batch.size()), 1, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) results[i] = encode_one(enc, batch[i]);
      });
      // In input order, so the output does not depend on the threads.
      for (size_t i = 0; i < batch.size() && !done; ++i) {
        const Pending& p = batch[i];
        Outcome& o = results[i];
        SourceStats& src = rep.sources[p.source];
        if (!o.error.empty()) {
          if (opts.strict)
            return errorf("%s:%lld: %s (without --strict such lines are skipped and counted)",
                          src.path.c_str(), static_cast<long long>(p.line), o.error.c_str());
          ++rep.skipped_lines;
          ++src.skipped_lines;
          if (rep.first_skipped.size() < kMaxListedSkips)
            rep.first_skipped.push_back({src.path, p.line, o.error});
          continue;
        }
        const TokenizedDoc& d = o.doc;
        const bool is_val =
            split_draw(opts.seed, static_cast<uint64_t>(doc_index)) < opts.val_fraction;
        ++doc_index;
        SplitStats& ss = is_val ? rep.val : rep.train;
        SF_RETURN_IF_ERROR((is_val ? val : train).append(d.ids, d.mask));
        const int64_t n = static_cast<int64_t>(d.ids.size());
        ++ss.documents;
        ss.tokens += n;
        ss.loss_tokens += d.mask.empty() ? n : std::count(d.mask.begin(), d.mask.end(), 1);
        ++src.documents;
        src.tokens += n;
        if (d.chat) {
          ++src.chat_documents;
          ++rep.chat_documents;
          rep.chat_segmented += d.segmented;
        } else {
          ++rep.text_documents;
        }
        done = opts.max_documents > 0 && doc_index >= opts.max_documents;
      }
    }
    SF_RETURN_IF_ERROR(train.close());
    SF_RETURN_IF_ERROR(val.close());
    if (doc_index == 0)
      return errorf("no documents found in the inputs (%lld lines skipped as malformed)",
                    static_cast<long long>(rep.skipped_lines));
    return {};
  };
  if (Status s = run(); !s.ok()) {
    std::error_code ec;
    for (const std::string& p : created) fs::remove(p, ec);
    return s;
  }
  for (const SourceStats& s : rep.sources) rep.input_bytes += s.bytes;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();

  std::error_code ec;
  ojson meta;
  meta["format"] = "starfire-token-shards";
  meta["version"] = kShardVersion;
  ojson& t = meta["tokenizer"];
  t["path"] = fs::absolute(opts.tokenizer, ec).string();
  t["kind"] = rep.tokenizer_kind;
  t["n_vocab"] = tok->n_vocab();
  t["bos_id"] = tok->bos_id();
  t["eos_id"] = tok->eos_id();
  t["chat_template"] = rep.default_chat_template ? "chatml (default)" : "tokenizer";
  meta["splits"]["train"] = split_json(rep.train);
  meta["splits"]["val"] = split_json(rep.val);
  meta["documents"] = {{"text", rep.text_documents},
                       {"chat", rep.chat_documents},
                       {"chat_segmented", rep.chat_segmented}};
  ojson srcs = ojson::array();
  for (const SourceStats& s : rep.sources)
    srcs.push_back({{"path", s.path},
                    {"kind", s.kind},
                    {"bytes", s.bytes},
                    {"documents", s.documents},
                    {"chat_documents", s.chat_documents},
                    {"tokens", s.tokens},
                    {"skipped_lines", s.skipped_lines}});
  meta["sources"] = srcs;
  ojson skipped = ojson::array();
  for (const SkippedLine& s : rep.first_skipped)
    skipped.push_back({{"file", s.file}, {"line", s.line}, {"reason", s.reason}});
  meta["skipped_lines"] = {{"count", rep.skipped_lines}, {"first", skipped}};
  ojson ins = ojson::array();
  for (const std::string& i : opts.inputs) ins.push_back(i);
  meta["options"] = {{"inputs", ins},
                     {"val_fraction", opts.val_fraction},
                     {"shard_tokens", opts.shard_tokens},
                     {"seed", opts.seed},
                     {"max_documents", opts.max_documents},
                     {"strict", opts.strict}};
  const std::string text =
      meta.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (Status s = write_text_atomic(fs::path(opts.out_dir) / "meta.json", text); !s.ok()) {
    for (const std::string& p : created) fs::remove(p, ec);
    return s;
  }
  rep.meta = std::move(meta);
  return rep;
}

}  // namespace sf::train
