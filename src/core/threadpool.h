// A fixed pool of worker threads for data-parallel kernels.
//
// parallel_for splits [0, n) into chunks that threads claim atomically, so
// uneven work still finishes together; the calling thread works too. Workers
// spin briefly between jobs (ops follow each other within microseconds during
// a forward pass) and then sleep on a condition variable.
// Thread-safety: one parallel_for at a time per pool (the engine thread owns it).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sf {

class ThreadPool {
 public:
  // n_threads counts the caller; 0 or less means the number of hardware threads.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread_index) on chunks of at most `grain` items
  // covering [0, n); returns when every chunk is done.
  using ChunkFn = std::function<void(int64_t, int64_t, int)>;
  void parallel_for(int64_t n, int64_t grain, const ChunkFn& fn);

  static int default_threads();

 private:
  void worker_loop(int index);
  void run_chunks(int thread_index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};   // next unclaimed index
  std::atomic<int64_t> done_{0};   // items finished
  std::atomic<bool> open_{false};  // workers may still join the current job
  std::atomic<int> in_job_{0};     // workers inside the current job
  std::atomic<bool> stop_{false};
  const ChunkFn* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 1;
};

}  // namespace sf
