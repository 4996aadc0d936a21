#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "core/threadpool.h"

namespace sf {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 7, 64, 1000, 4097}) {
    for (int64_t grain : {1, 3, 16, 5000}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, grain, [&](int64_t b, int64_t e, int) {
        EXPECT_LE(e - b, grain);
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ThreadPool, UsesSeveralThreadsAndManyJobsInARow) {
  ThreadPool pool(2);
  std::atomic<int> mask{0};
  for (int rep = 0; rep < 2000; ++rep) {
    std::atomic<int64_t> sum{0};
    pool.parallel_for(100, 1, [&](int64_t b, int64_t e, int t) {
      mask |= 1 << t;
      for (int64_t i = b; i < e; ++i) sum += i;
    });
    ASSERT_EQ(sum.load(), 4950);
  }
  EXPECT_EQ(pool.size(), 2);
  EXPECT_EQ(mask.load() & 1, 1);  // the caller always works too
}

TEST(ThreadPool, ZeroWorkIsANoOp) {
  ThreadPool pool(2);
  bool called = false;
  pool.parallel_for(0, 1, [&](int64_t, int64_t, int) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace sf
