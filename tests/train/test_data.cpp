// Token shards and the DataLoader: round trips, determinism (batch i depends
// only on the seed and i), epoch permutations, windows across shard
// boundaries, masks, and hostile shards that must fail with clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>

#include "test_util.h"
#include "train/data.h"
#include "train/shard.h"

namespace sf::train {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  fs::path d = test::tmp_path(name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Shards whose token at logical position p is p (vocab large enough), so a
// window's content tells where it came from.
fs::path counting_shards(const std::string& name, const std::vector<int>& sizes,
                         uint32_t vocab = 1 << 20) {
  fs::path d = fresh_dir(name);
  int32_t next = 0;
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::vector<int32_t> ids(sizes[s]);
    std::iota(ids.begin(), ids.end(), next);
    next += sizes[s];
    EXPECT_TRUE(
        write_shard((d / shard_file_name("train", static_cast<int>(s))).string(), vocab, ids).ok());
  }
  return d;
}

struct Batch {
  std::vector<int32_t> tokens, targets;
  std::vector<float> mask;
  bool operator==(const Batch&) const = default;
};

Batch take(DataLoader& dl, int B, int T) {
  Batch b;
  b.tokens.resize(static_cast<size_t>(B) * T);
  b.targets.resize(b.tokens.size());
  b.mask.resize(b.tokens.size());
  dl.next(b.tokens.data(), b.targets.data(), b.mask.data());
  return b;
}

std::unique_ptr<DataLoader> open_ok(const fs::path& d, int B, int T, uint64_t seed,
                                    const std::string& split = "train") {
  auto r = DataLoader::open(d.string(), split, B, T, seed);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(*r) : nullptr;
}

TEST(Shard, RoundTripWithAndWithoutMask) {
  fs::path d = fresh_dir("shard_rt");
  std::vector<int32_t> ids = {0, 5, 99, 7, 1, 42};
  std::vector<uint8_t> mask = {0, 0, 1, 1, 0, 1};
  ASSERT_TRUE(write_shard((d / "a.bin").string(), 100, ids, mask).ok());
  auto s = open_shard((d / "a.bin").string());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->n_tokens, ids.size());
  EXPECT_EQ(s->vocab_size, 100u);
  EXPECT_TRUE(s->has_mask);
  EXPECT_EQ(fs::file_size(d / "a.bin"), kShardHeaderBytes + ids.size() * 5);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(s->id(i), ids[i]);
    EXPECT_EQ(s->mask_at(i), mask[i]);
  }
  std::vector<int32_t> got(4);
  std::vector<float> m(4);
  s->copy(1, 4, got.data(), m.data());
  EXPECT_EQ(got, std::vector<int32_t>(ids.begin() + 1, ids.begin() + 5));
  EXPECT_EQ(m, (std::vector<float>{0, 1, 1, 0}));

  // An all-ones mask is not stored: the shard is unmasked and smaller.
  auto w = ShardWriter::create((d / "b.bin").string(), 100);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->append(std::span(ids).subspan(0, 2), std::vector<uint8_t>{1, 1}).ok());
  ASSERT_TRUE(w->append(std::span(ids).subspan(2)).ok());
  EXPECT_FALSE(fs::exists(d / "b.bin")) << "a shard appears only when finished";
  ASSERT_TRUE(w->finish().ok());
  EXPECT_FALSE(fs::exists(d / "b.bin.tmp"));
  auto u = open_shard((d / "b.bin").string());
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_FALSE(u->has_mask);
  EXPECT_EQ(fs::file_size(d / "b.bin"), kShardHeaderBytes + ids.size() * 4);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(u->id(i), ids[i]);
  EXPECT_EQ(u->mask_at(3), 1);

  // The writer refuses ids outside the vocabulary.
  auto bad = ShardWriter::create((d / "c.bin").string(), 10);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->append(std::vector<int32_t>{3, 10}).ok());
  EXPECT_FALSE(bad->append(std::vector<int32_t>{-1}).ok());
}

TEST(Shard, UnfinishedWriterLeavesNothing) {
  fs::path d = fresh_dir("shard_unfinished");
  {
    auto w = ShardWriter::create((d / "x.bin").string(), 10);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->append(std::vector<int32_t>{1, 2, 3}).ok());
  }
  EXPECT_TRUE(fs::is_empty(d));
}

TEST(Shard, ListsOnlyTheSplitSorted) {
  fs::path d = fresh_dir("shard_list");
  for (const char* n : {"train-00002.bin", "train-00000.bin", "val-00000.bin", "train-x.txt",
                        "trainer-00000.bin", "train-00001.bin.tmp", "train-00001.bin"})
    test::write_file(d / n, "");
  auto l = list_shards(d.string(), "train");
  ASSERT_TRUE(l.ok());
  std::vector<std::string> names;
  for (const auto& p : *l) names.push_back(fs::path(p).filename().string());
  EXPECT_EQ(names,
            (std::vector<std::string>{"train-00000.bin", "train-00001.bin", "train-00002.bin"}));
  EXPECT_EQ(shard_file_name("val", 12), "val-00012.bin");
  EXPECT_FALSE(list_shards((d / "nope").string(), "train").ok());
}

TEST(DataLoader, WindowsAreConsecutiveAcrossShardBoundaries) {
  // 3 shards of uneven sizes; T=7 windows straddle both boundaries.
  fs::path d = counting_shards("dl_windows", {10, 3, 20});
  const int B = 2, T = 7;
  auto dl = open_ok(d, B, T, 5);
  ASSERT_TRUE(dl);
  EXPECT_EQ(dl->n_tokens(), 33);
  EXPECT_EQ(dl->batches_per_epoch(), (33 - 1) / T / B);
  EXPECT_FALSE(dl->has_mask());
  EXPECT_EQ(dl->vocab_size(), 1 << 20);
  std::set<int32_t> starts;
  for (int i = 0; i < 20; ++i) {
    Batch b = take(*dl, B, T);
    for (int r = 0; r < B; ++r) {
      const int32_t s = b.tokens[r * T];
      EXPECT_EQ(s % T, 0) << "windows start at multiples of T";
      starts.insert(s);
      for (int t = 0; t < T; ++t) {
        EXPECT_EQ(b.tokens[r * T + t], s + t);
        EXPECT_EQ(b.targets[r * T + t], s + t + 1);
        EXPECT_EQ(b.mask[r * T + t], 1.0f);
      }
    }
  }
  EXPECT_EQ(dl->index(), 20u);
  // Every window (starts 0, 7, 14, 21) is visited over the epochs.
  EXPECT_EQ(starts, (std::set<int32_t>{0, 7, 14, 21}));
}

TEST(DataLoader, SeekEqualsFreshLoaderAndDependsOnlyOnSeedAndIndex) {
  fs::path d = counting_shards("dl_seek", {100, 57, 1, 250});
  const int B = 3, T = 8;
  auto a = open_ok(d, B, T, 42);
  ASSERT_TRUE(a);
  std::vector<Batch> seq;
  const int n = static_cast<int>(a->batches_per_epoch()) * 3 + 2;  // into a 4th epoch
  for (int i = 0; i < n; ++i) seq.push_back(take(*a, B, T));
  for (int i : {0, 1, 5, static_cast<int>(a->batches_per_epoch()), n - 1, n / 2}) {
    auto b = open_ok(d, B, T, 42);
    b->seek(static_cast<uint64_t>(i));
    EXPECT_EQ(b->index(), static_cast<uint64_t>(i));
    EXPECT_EQ(take(*b, B, T), seq[i]) << "batch " << i;
    EXPECT_EQ(b->index(), static_cast<uint64_t>(i) + 1);
    if (i + 1 < n) {
      EXPECT_EQ(take(*b, B, T), seq[i + 1]) << "batch after " << i;
    }
  }
  // Seeking backwards on a used loader works too.
  a->seek(2);
  EXPECT_EQ(take(*a, B, T), seq[2]);
  // Another seed gives another order.
  auto c = open_ok(d, B, T, 43);
  int same = 0;
  for (int i = 0; i < 10; ++i) same += take(*c, B, T) == seq[i];
  EXPECT_LT(same, 3);
}

TEST(DataLoader, EachEpochIsAPermutationOfAllWindows) {
  // 48 windows in two shards, B=4: 12 batches per epoch.
  const int B = 4, T = 5, n_windows = 48;
  fs::path d = counting_shards("dl_epochs", {n_windows * T / 2, n_windows * T / 2 + 1});
  auto dl = open_ok(d, B, T, 7);
  ASSERT_TRUE(dl);
  ASSERT_EQ(dl->batches_per_epoch(), n_windows / B);
  std::vector<std::vector<int32_t>> orders;
  for (int e = 0; e < 3; ++e) {
    std::vector<int32_t> order;
    for (int i = 0; i < dl->batches_per_epoch(); ++i) {
      Batch b = take(*dl, B, T);
      for (int r = 0; r < B; ++r) order.push_back(b.tokens[r * T] / T);
    }
    std::vector<int32_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int32_t> all(n_windows);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(sorted, all) << "epoch " << e << " visits every window exactly once";
    orders.push_back(order);
  }
  EXPECT_NE(orders[0], orders[1]);
  EXPECT_NE(orders[1], orders[2]);
  std::vector<int32_t> identity(n_windows);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(orders[0], identity) << "shuffled";
}

TEST(DataLoader, LeftoverWindowsAreVisitedAtMostOncePerEpoch) {
  const int B = 3, T = 4;  // 10 windows: 3 batches per epoch, 1 window left over
  fs::path d = counting_shards("dl_leftover", {10 * T + 1});
  auto dl = open_ok(d, B, T, 1);
  ASSERT_EQ(dl->batches_per_epoch(), 3);
  std::set<int32_t> seen_union;
  for (int e = 0; e < 6; ++e) {
    std::set<int32_t> seen;
    for (int i = 0; i < 3; ++i) {
      Batch b = take(*dl, B, T);
      for (int r = 0; r < B; ++r) EXPECT_TRUE(seen.insert(b.tokens[r * T] / T).second);
    }
    seen_union.insert(seen.begin(), seen.end());
  }
  EXPECT_EQ(seen_union.size(), 10u) << "the dropped window changes between epochs";
}

TEST(DataLoader, OrderIsPinned) {
  // The permutation is our own (splitmix64 + Fisher-Yates), so it must not
  // change with the standard library or between releases: checkpoints store
  // only the batch index.
  fs::path d = counting_shards("dl_golden", {8 * 4 + 1});
  auto dl = open_ok(d, 2, 4, 1234);
  std::vector<int32_t> order;
  for (int i = 0; i < 4; ++i) {
    Batch b = take(*dl, 2, 4);
    order.push_back(b.tokens[0] / 4);
    order.push_back(b.tokens[4] / 4);
  }
  EXPECT_EQ(order, (std::vector<int32_t>{5, 3, 4, 0, 2, 7, 6, 1}));
}

TEST(DataLoader, MaskComesFromTheTargetPositions) {
  fs::path d = fresh_dir("dl_mask");
  // One masked shard, one unmasked (all targets count there).
  std::vector<int32_t> a(9), b(8);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 9);
  std::vector<uint8_t> ma(9);
  for (int i = 0; i < 9; ++i) ma[i] = i % 3 == 0;
  ASSERT_TRUE(write_shard((d / "train-00000.bin").string(), 100, a, ma).ok());
  ASSERT_TRUE(write_shard((d / "train-00001.bin").string(), 100, b).ok());
  const int T = 4;
  auto dl = open_ok(d, 1, T, 3);
  ASSERT_TRUE(dl);
  EXPECT_TRUE(dl->has_mask());
  for (int i = 0; i < 12; ++i) {
    Batch x = take(*dl, 1, T);
    for (int t = 0; t < T; ++t) {
      const int32_t pos = x.targets[t];
      const float want = pos < 9 ? static_cast<float>(ma[pos]) : 1.0f;
      EXPECT_EQ(x.mask[t], want) << "target position " << pos;
    }
  }
  // A null mask pointer is allowed (callers that ignore the mask).
  std::vector<int32_t> tk(T), tg(T);
  dl->next(tk.data(), tg.data(), nullptr);
}

TEST(DataLoader, ErrorsForBadArgumentsAndTooLittleData) {
  fs::path d = counting_shards("dl_small", {20});
  auto r = DataLoader::open(d.string(), "train", 4, 5, 1);  // needs 21 tokens
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too few"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("21"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("hint"), std::string::npos) << r.status().message();
  EXPECT_TRUE(DataLoader::open(d.string(), "train", 1, 19, 1).ok());
  EXPECT_FALSE(DataLoader::open(d.string(), "train", 0, 5, 1).ok());
  EXPECT_FALSE(DataLoader::open(d.string(), "train", 1, 0, 1).ok());
  auto v = DataLoader::open(d.string(), "val", 1, 4, 1);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("no val-*.bin"), std::string::npos) << v.status().message();
  EXPECT_FALSE(DataLoader::open((d / "missing").string(), "train", 1, 4, 1).ok());

  // Shards from different tokenizers do not mix.
  std::vector<int32_t> ids = {1, 2, 3};
  ASSERT_TRUE(write_shard((d / "train-00001.bin").string(), 50, ids).ok());
  auto m = DataLoader::open(d.string(), "train", 1, 4, 1);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("vocabulary size"), std::string::npos)
      << m.status().message();
}

class HostileShard : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("hostile");
    std::vector<int32_t> ids = {3, 1, 4, 1, 5, 9, 2, 6};
    std::vector<uint8_t> mask = {0, 1, 1, 0, 1, 1, 0, 1};
    ASSERT_TRUE(write_shard((dir_ / "good.bin").string(), 10, ids, mask).ok());
    good_ = test::read_file(dir_ / "good.bin");
  }
  // Writes `bytes` as the only train shard; returns the loader's error ("" if it opened).
  std::string open_error(const std::string& bytes) {
    fs::path d = dir_ / "case";
    fs::remove_all(d);
    fs::create_directories(d);
    test::write_file(d / "train-00000.bin", bytes);
    auto r = DataLoader::open(d.string(), "train", 1, 2, 1);
    if (r.ok()) return "";
    EXPECT_NE(r.status().message().find("train-00000.bin"), std::string::npos)
        << "the error names the file: " << r.status().message();
    return r.status().message();
  }
  std::string patched(size_t offset, const void* v, size_t n) {
    std::string b = good_;
    std::memcpy(b.data() + offset, v, n);
    return b;
  }
  fs::path dir_;
  std::string good_;
};

TEST_F(HostileShard, GoodShardOpens) {
  EXPECT_EQ(open_error(good_), "");
}

TEST_F(HostileShard, BadMagic) {
  std::string e = open_error(patched(0, "GGUF", 4));
  EXPECT_NE(e.find("bad magic"), std::string::npos) << e;
}

TEST_F(HostileShard, TruncatedAtEveryByte) {
  for (size_t n = 0; n < good_.size(); ++n) {
    std::string e = open_error(good_.substr(0, n));
    EXPECT_NE(e, "") << "truncated to " << n << " bytes";
  }
  std::string e = open_error(good_.substr(0, good_.size() - 3));
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST_F(HostileShard, TrailingBytes) {
  std::string e = open_error(good_ + "xyz");
  EXPECT_NE(e.find("trailing"), std::string::npos) << e;
}

TEST_F(HostileShard, IdOutOfRange) {
  const uint32_t id = 10;  // == vocab
  std::string e = open_error(patched(kShardHeaderBytes + 4 * 5, &id, 4));
  EXPECT_NE(e.find("token 5 has id 10"), std::string::npos) << e;
  const uint32_t neg = 0xFFFFFFFFu;
  EXPECT_NE(open_error(patched(kShardHeaderBytes, &neg, 4)), "");
}

TEST_F(HostileShard, AbsurdHeaderValues) {
  const uint64_t huge = ~0ull;
  std::string e = open_error(patched(8, &huge, 8));
  EXPECT_NE(e.find("size mismatch"), std::string::npos) << e;
  const uint64_t big = (~0ull) / 5 + 1;  // n*5 would overflow
  EXPECT_NE(open_error(patched(8, &big, 8)), "");
  const uint32_t v2 = 2;
  EXPECT_NE(open_error(patched(4, &v2, 4)).find("version 2"), std::string::npos);
  const uint32_t zero = 0;
  EXPECT_NE(open_error(patched(16, &zero, 4)).find("vocabulary size"), std::string::npos);
  const uint32_t flags = 6;
  EXPECT_NE(open_error(patched(20, &flags, 4)).find("unknown shard flags"), std::string::npos);
  const uint32_t nomask = 0;  // flag cleared: the mask bytes become a size mismatch
  EXPECT_NE(open_error(patched(20, &nomask, 4)).find("size mismatch"), std::string::npos);
  const uint8_t two = 2;
  EXPECT_NE(open_error(patched(good_.size() - 1, &two, 1)).find("mask value 2"), std::string::npos);
}

}  // namespace
}  // namespace sf::train
