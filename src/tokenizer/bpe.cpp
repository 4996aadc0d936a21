#include "tokenizer/bpe.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <limits>
#include <queue>
#include <string>

#include "tokenizer/byte_map.h"
#include "tokenizer/unicode.h"

namespace sf::tok {

namespace {

std::atomic<uint64_t> g_next_instance{1};

// Per-thread cache of encoded pieces (words repeat a lot in real text; the
// merge loop and its hash lookups are the expensive part). Keyed by the
// model's instance id, so a different model on the same thread starts from an
// empty cache. Once full it stops taking new pieces, like the cache of HF's
// `tokenizers`. No locks: every thread has its own.
class PieceCache {
 public:
  static constexpr size_t kSlots = 1 << 16;       // power of two
  static constexpr size_t kMaxPiece = 48;         // longer pieces are not cached
  static constexpr size_t kMaxFill = kSlots / 2;  // then no more inserts (as HF's cache)

  const int32_t* find(uint64_t owner, std::string_view key, uint64_t h, size_t* n) {
    if (owner != owner_) reset(owner);
    for (size_t i = h & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      const Slot& s = slots_[i];
      if (s.key_len == 0) return nullptr;
      if (s.hash == h && s.key_len == key.size() &&
          std::memcmp(pool_.data() + s.key_off, key.data(), key.size()) == 0) {
        *n = s.n_ids;
        return ids_.data() + s.ids_off;
      }
    }
  }
  void insert(std::string_view key, uint64_t h, const int32_t* ids, size_t n) {
    if (fill_ >= kMaxFill) return;
    size_t i = h & (kSlots - 1);
    while (slots_[i].key_len != 0) i = (i + 1) & (kSlots - 1);
    Slot& s = slots_[i];
    s.hash = h;
    s.key_off = static_cast<uint32_t>(pool_.size());
    s.key_len = static_cast<uint16_t>(key.size());
    s.ids_off = static_cast<uint32_t>(ids_.size());
    s.n_ids = static_cast<uint16_t>(n);
    pool_.append(key);
    ids_.insert(ids_.end(), ids, ids + n);
    ++fill_;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_off = 0, ids_off = 0;
    uint16_t key_len = 0, n_ids = 0;
  };
  void reset(uint64_t owner) {
    owner_ = owner;
    slots_.assign(kSlots, Slot{});
    pool_.clear();
    ids_.clear();
    fill_ = 0;
  }
  uint64_t owner_ = 0;
  std::vector<Slot> slots_ = std::vector<Slot>(kSlots);
  std::string pool_;
  std::vector<int32_t> ids_;
  size_t fill_ = 0;
};

thread_local PieceCache tl_cache;

}  // namespace

Status BpeModel::build(const TokenizerSpec& spec, const TokenIndex* index) {
  index_ = index;
  instance_id_ = g_next_instance.fetch_add(1);
  byte_level_ = spec.byte_level;
  byte_fallback_ = spec.byte_fallback;
  ignore_merges_ = spec.ignore_merges;
  fuse_unk_ = spec.fuse_unk;
  unk_id_ = spec.unk_id;
  byte_ids_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    std::string name;
    if (byte_level_) {
      bytes_to_byte_level(std::string_view(reinterpret_cast<const char*>(&b), 1), name);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", b);
      name = buf;
    }
    byte_ids_[b] = index->find(name);
  }

  size_t cap = 16;
  while (cap < spec.merges.size() * 2 + 1) cap <<= 1;
  mask_ = cap - 1;
  table_.assign(cap, Merge{});
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [a, b] = spec.merges[rank];
    const int32_t ia = index->find(a), ib = index->find(b);
    joined.assign(a);
    joined += b;
    const int32_t im = index->find(joined);
    if (ia < 0 || ib < 0 || im < 0) continue;  // as the references do: unusable merge
    const uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(ia)) << 32) | static_cast<uint32_t>(ib);
    size_t i = mix(key) & mask_;
    while (table_[i].id >= 0 && table_[i].key != key) i = (i + 1) & mask_;
    if (table_[i].id >= 0) continue;  // duplicate merge: the first (lowest) rank wins
    table_[i] = {key, static_cast<uint32_t>(rank), im};
  }
  return Status();
}

void BpeModel::initial_symbols(std::string_view piece, std::vector<int32_t>& syms) const {
  if (byte_level_) {
    for (char c : piece) {
      const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
      if (id >= 0) {
        syms.push_back(id);
      } else if (unk_id_ >= 0 && !(fuse_unk_ && !syms.empty() && syms.back() == unk_id_)) {
        syms.push_back(unk_id_);
      }
    }
    return;
  }
  size_t i = 0;
  while (i < piece.size()) {
    int len;
    utf8_decode(piece, i, &len);
    const std::string_view ch = piece.substr(i, static_cast<size_t>(len));
    i += static_cast<size_t>(len);
    const int32_t id = index_->find(ch);
    if (id >= 0) {
      syms.push_back(id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : ch) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        for (char c : ch) syms.push_back(byte_ids_[static_cast<uint8_t>(c)]);
        continue;
      }
    }
    if (unk_id_ >= 0 && !(fuse_unk_ && !syms.empty() && syms.back() == unk_id_))
      syms.push_back(unk_id_);
  }
}

void BpeModel::merge_small(std::vector<int32_t>& syms) const {
  constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  size_t n = syms.size();
  // ranks[i]: rank of merging (syms[i], syms[i+1]); merged[i]: its result.
  uint32_t ranks[256];
  int32_t merged[256];
  auto eval = [&](size_t i) {
    const Merge* m = find_merge(syms[i], syms[i + 1]);
    ranks[i] = m ? m->rank : kNone;
    merged[i] = m ? m->id : -1;
  };
  for (size_t i = 0; i + 1 < n; ++i) eval(i);
  while (n > 1) {
    uint32_t best = kNone;
    size_t at = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (ranks[i] < best) {
        best = ranks[i];
        at = i;
      }
    }
    if (best == kNone) break;
    syms[at] = merged[at];
    for (size_t i = at + 1; i + 1 < n; ++i) {
      syms[i] = syms[i + 1];
      ranks[i] = ranks[i + 1];
      merged[i] = merged[i + 1];
    }
    --n;
    if (at + 1 < n) eval(at);
    if (at > 0) eval(at - 1);
  }
  syms.resize(n);
}

void BpeModel::merge_heap(std::vector<int32_t>& syms) const {
  const auto n = static_cast<int32_t>(syms.size());
  std::vector<int32_t> prev(n), next(n);
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Cand {
    uint32_t rank;
    int32_t pos;
    int32_t left, right;  // ids at the time of pushing, to detect stale entries
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> q;
  auto push = [&](int32_t i) {
    if (i < 0 || next[i] < 0) return;
    const Merge* m = find_merge(syms[i], syms[next[i]]);
    if (m) q.push({m->rank, i, syms[i], syms[next[i]]});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  std::vector<uint8_t> dead(n, 0);
  while (!q.empty()) {
    const Cand c = q.top();
    q.pop();
    if (dead[c.pos] || next[c.pos] < 0) continue;
    const int32_t r = next[c.pos];
    if (syms[c.pos] != c.left || syms[r] != c.right) continue;
    const Merge* m = find_merge(c.left, c.right);
    syms[c.pos] = m->id;
    dead[r] = 1;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i >= 0 && i < n; i = next[i]) out.push_back(syms[i]);
  syms.swap(out);
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (piece.size() > PieceCache::kMaxPiece) {
    encode_uncached(piece, out);
    return;
  }
  const uint64_t h = hash_bytes(piece.data(), piece.size()) | 1;
  size_t n = 0;
  if (const int32_t* ids = tl_cache.find(instance_id_, piece, h, &n)) {
    out.insert(out.end(), ids, ids + n);
    return;
  }
  const size_t start = out.size();
  encode_uncached(piece, out);
  tl_cache.insert(piece, h, out.data() + start, out.size() - start);
}

void BpeModel::encode_uncached(std::string_view piece, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    int32_t id;
    if (byte_level_) {
      thread_local std::string buf;
      buf.clear();
      bytes_to_byte_level(piece, buf);
      id = index_->find(buf);
    } else {
      id = index_->find(piece);
    }
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  thread_local std::vector<int32_t> syms;
  syms.clear();
  initial_symbols(piece, syms);
  if (syms.size() <= 256) {
    merge_small(syms);
  } else {
    merge_heap(syms);
  }
  out.insert(out.end(), syms.begin(), syms.end());
}

}  // namespace sf::tok
