#include "tokenizer/tokenizer.h"

#include <cstdio>

#include "tokenizer/byte_map.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace sf {

using tok::TokenType;

namespace {

const char* const kEogTexts[] = {
    "<|eot_id|>",      "<|eom_id|>",    "<|im_end|>",
    "<|end|>",         "<end_of_turn>", "<|endoftext|>",
    "<EOT>",           "_<EOT>",        "<｜end▁of▁sentence｜>",
    "<|end_of_text|>",
};

// "<0xAB>" -> 0xAB, or -1.
int parse_byte_token(const std::string& s) {
  if (s.size() != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= c - '0';
    } else if (c >= 'A' && c <= 'F') {
      v |= c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      v |= c - 'a' + 10;
    } else {
      return -1;
    }
  }
  return v;
}

std::string unescape_spaces(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (i + 2 < s.size() && s.compare(i, 3, "\xE2\x96\x81") == 0) {
      out.push_back(' ');
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Status Tokenizer::Impl::init() {
  const auto n = static_cast<int32_t>(spec.tokens.size());
  if (n == 0) return Status::error("tokenizer has an empty vocabulary");
  if (!spec.scores.empty() && spec.scores.size() != spec.tokens.size())
    return errorf("tokenizer: %zu scores for %d tokens", spec.scores.size(), n);
  if (!spec.types.empty() && spec.types.size() != spec.tokens.size())
    return errorf("tokenizer: %zu token types for %d tokens", spec.types.size(), n);
  spec.types.resize(spec.tokens.size(), TokenType::kNormal);
  for (int32_t* id :
       {&spec.unk_id, &spec.bos_id, &spec.eos_id, &spec.eot_id, &spec.eom_id, &spec.pad_id}) {
    if (*id < -1 || *id >= n) *id = -1;
  }
  if (spec.add_bos && spec.bos_id < 0) spec.add_bos = false;
  if (spec.add_eos && spec.eos_id < 0) spec.add_eos = false;
  for (auto& a : spec.added) {
    if (a.id < 0 || a.id >= n) return errorf("tokenizer: added token id %d out of range", a.id);
  }
  for (const auto* v : {&spec.prefix_ids, &spec.suffix_ids})
    for (int32_t id : *v)
      if (id < 0 || id >= n)
        return errorf("tokenizer: post-processor token id %d out of range", id);

  index.build(spec.tokens);

  eog.assign(spec.tokens.size(), 0);
  for (int32_t id : {spec.eos_id, spec.eot_id, spec.eom_id})
    if (id >= 0) eog[id] = 1;
  for (int32_t id : spec.eog_ids)
    if (id >= 0 && id < n) eog[id] = 1;
  for (const char* t : kEogTexts) {
    const int32_t id = index.find(t);
    if (id < 0) continue;
    const bool special_added = [&] {
      for (const auto& a : spec.added)
        if (a.id == id) return a.special;
      return false;
    }();
    if (spec.types[id] == TokenType::kControl || special_added) eog[id] = 1;
  }

  control.assign(spec.tokens.size(), 0);
  for (int32_t i = 0; i < n; ++i) {
    const TokenType t = spec.types[i];
    control[i] = t == TokenType::kControl || t == TokenType::kUnknown;
  }
  for (const auto& a : spec.added)
    if (a.special) control[a.id] = 1;

  specials.build(spec.added);
  SF_RETURN_IF_ERROR(pretok.build(spec.pretok));
  if (spec.model == tok::ModelType::kSpm) {
    spm.build(spec, &index);
  } else if (spec.model == tok::ModelType::kWpm) {
    wpm.build(spec, &index);
  } else {
    SF_RETURN_IF_ERROR(bpe.build(spec, &index));
  }

  // Decoded bytes of every token.
  pieces.resize(spec.tokens.size());
  std::vector<uint8_t> is_added(spec.tokens.size(), 0);
  for (const auto& a : spec.added) is_added[a.id] = 1;
  for (int32_t i = 0; i < n; ++i) {
    const std::string& text = spec.tokens[i];
    const TokenType t = spec.types[i];
    std::string& p = pieces[i];
    if (t == TokenType::kControl || t == TokenType::kUnknown || (is_added[i] && control[i])) {
      p = text;  // special tokens stand for their text
    } else if (is_added[i]) {
      p = spec.decode_spaces ? unescape_spaces(text) : text;
    } else if (t == TokenType::kByte || (spec.byte_fallback && parse_byte_token(text) >= 0)) {
      const int b = parse_byte_token(text);
      p = b >= 0 ? std::string(1, static_cast<char>(b)) : text;
    } else if (spec.byte_level) {
      if (t == TokenType::kUserDefined || !tok::byte_level_to_bytes(text, p)) p = text;
    } else if (spec.decode_spaces) {
      p = unescape_spaces(text);
    } else {
      p = text;
    }
  }
  return Status();
}

void Tokenizer::Impl::encode_text(std::string_view text, bool at_start,
                                  std::vector<int32_t>& out) const {
  thread_local std::string nbuf, lbuf, pbuf;
  std::string_view s = text;
  if (spec.normal_form != tok::NormalForm::kNone && tok::normalize(spec.normal_form, s, nbuf))
    s = nbuf;
  if (spec.lowercase) {
    lbuf = tok::to_lower(s);
    s = lbuf;
  }
  bool prefix = spec.space_prefix == tok::SpacePrefix::kAlways ||
                (spec.space_prefix == tok::SpacePrefix::kFirst && at_start);
  if (prefix && spec.space_prefix_if_absent && !s.empty() &&
      (s[0] == ' ' || s.substr(0, 3) == "\xE2\x96\x81"))
    prefix = false;
  if (spec.byte_level_prefix_space && (s.empty() || s[0] != ' ')) prefix = true;
  if (prefix || spec.escape_whitespace) {
    pbuf.clear();
    pbuf.reserve(s.size() + 8);
    if (prefix) pbuf += spec.escape_whitespace ? "\xE2\x96\x81" : " ";
    if (spec.escape_whitespace) {
      for (char c : s) {
        if (c == ' ')
          pbuf += "\xE2\x96\x81";
        else
          pbuf.push_back(c);
      }
    } else {
      pbuf.append(s);
    }
    s = pbuf;
  }
  if (spec.model == tok::ModelType::kSpm) {
    spm.encode(s, out);
    return;
  }
  if (spec.model == tok::ModelType::kWpm) {
    wpm.encode(s, out);
    return;
  }
  thread_local std::vector<tok::Piece> ps;
  ps.clear();
  pretok.split(s, ps);
  for (const auto& [b, e] : ps) bpe.encode(s.substr(b, e - b), out);
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_spec(tok::TokenizerSpec spec) {
  auto impl = std::make_unique<Impl>();
  impl->spec = std::move(spec);
  SF_RETURN_IF_ERROR(impl->init());
  return std::shared_ptr<const Tokenizer>(new Tokenizer(std::move(impl)));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  const Impl& m = *impl_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special) {
    if (!m.spec.prefix_ids.empty() || !m.spec.suffix_ids.empty()) {
      out.insert(out.end(), m.spec.prefix_ids.begin(), m.spec.prefix_ids.end());
    } else if (m.spec.add_bos) {
      out.push_back(m.spec.bos_id);
    }
  }
  thread_local std::vector<tok::Fragment> frags;
  frags.clear();
  m.specials.split(text, parse_special, frags);
  for (const tok::Fragment& f : frags) {
    if (f.id >= 0) {
      out.push_back(f.id);
    } else {
      m.encode_text(text.substr(f.begin, f.end - f.begin), f.begin == 0, out);
    }
  }
  if (add_special) {
    if (!m.spec.prefix_ids.empty() || !m.spec.suffix_ids.empty()) {
      out.insert(out.end(), m.spec.suffix_ids.begin(), m.spec.suffix_ids.end());
    } else if (m.spec.add_eos) {
      out.push_back(m.spec.eos_id);
    }
  }
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return std::string();
  return impl_->pieces[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  const Impl& m = *impl_;
  std::string out;
  bool first_text = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab()) continue;
    const bool ctl = m.control[id] != 0;
    if (skip_special && ctl) continue;
    const std::string& p = m.pieces[id];
    if (!ctl && first_text) {
      first_text = false;
      if (m.spec.strip_prefix_space_on_decode && !p.empty() && p[0] == ' ') {
        out.append(p, 1, std::string::npos);
        continue;
      }
    }
    out += p;
  }
  return out;
}

int32_t Tokenizer::n_vocab() const {
  return static_cast<int32_t>(impl_->spec.tokens.size());
}
int32_t Tokenizer::bos_id() const {
  return impl_->spec.bos_id;
}
int32_t Tokenizer::eos_id() const {
  return impl_->spec.eos_id;
}
int32_t Tokenizer::eot_id() const {
  return impl_->spec.eot_id;
}
int32_t Tokenizer::unk_id() const {
  return impl_->spec.unk_id;
}
bool Tokenizer::add_bos() const {
  const auto& s = impl_->spec;
  if (!s.prefix_ids.empty() || !s.suffix_ids.empty())
    return !s.prefix_ids.empty() && s.prefix_ids.front() == s.bos_id;
  return s.add_bos;
}
bool Tokenizer::add_eos() const {
  const auto& s = impl_->spec;
  if (!s.prefix_ids.empty() || !s.suffix_ids.empty())
    return !s.suffix_ids.empty() && s.suffix_ids.back() == s.eos_id;
  return s.add_eos;
}

bool Tokenizer::is_eog(int32_t id) const {
  return id >= 0 && id < n_vocab() && impl_->eog[id] != 0;
}

bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < n_vocab() && impl_->control[id] != 0;
}

tok::TokenType Tokenizer::token_type(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return TokenType::kUndefined;
  return impl_->spec.types[id];
}

const std::string& Tokenizer::token_text(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || id >= n_vocab()) return kEmpty;
  return impl_->spec.tokens[id];
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  const int32_t id = impl_->index.find(text);
  if (id < 0) return std::nullopt;
  return id;
}

std::string Tokenizer::chat_template() const {
  return impl_->spec.chat_template;
}

bool Tokenizer::strips_prefix_space() const {
  return impl_->spec.strip_prefix_space_on_decode;
}

tok::ModelType Tokenizer::model_type() const {
  return impl_->spec.model;
}

}  // namespace sf
