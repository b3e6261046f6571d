// The run's one task pool (include/probity/task_pool.hpp): every item runs once, at most N
// threads run at any time even when a pool task starts a for_each of its own (the unpack
// driver's containers and squashfs's readers), nothing deadlocks, errors reach the caller.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "probity/task_pool.hpp"

namespace probity {
namespace {

/// Counts threads inside probity work at once; remembers the most.
struct Busy {
  std::atomic<int> now{0}, most{0};
  void enter() {
    const int n = ++now;
    for (int m = most.load(); n > m && !most.compare_exchange_weak(m, n);) {
    }
  }
  void leave() { --now; }
};

TEST(TaskPool, ForEachRunsEveryItemOnceWithDistinctSlots) {
  for (unsigned n : {1u, 2u, 4u, 7u}) {
    TaskPool pool(n);
    EXPECT_EQ(pool.concurrency(), n);
    std::vector<std::atomic<int>> hits(1000);
    std::mutex mu;
    std::set<std::pair<unsigned, std::thread::id>> slots;
    pool.for_each(hits.size(), [&](unsigned slot, std::size_t i) {
      ASSERT_LT(slot, n);
      ++hits[i];
      std::lock_guard lock(mu);
      slots.emplace(slot, std::this_thread::get_id());
    });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    // One slot is one thread: no two threads share a slot within a call.
    std::set<unsigned> slot_ids;
    for (const auto& [s, id] : slots) EXPECT_TRUE(slot_ids.insert(s).second) << "slot " << s;
  }
}

TEST(TaskPool, NestedWorkNeverExceedsTheConcurrency) {
  // A group of container tasks, each starting a for_each (squashfs's readers inside the driver):
  // with N = 3 never more than 3 threads are busy, and everything finishes.
  for (unsigned n : {1u, 2u, 3u}) {
    TaskPool pool(n);
    Busy busy;
    std::atomic<int> items{0};
    {
      TaskGroup group(pool);
      for (int c = 0; c < 6; ++c)
        group.submit([&] {
          busy.enter();
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          busy.leave();
          // The caller of for_each is busy in it: count it only inside items.
          pool.for_each(20, [&](unsigned, std::size_t) {
            busy.enter();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            ++items;
            busy.leave();
          });
        });
      group.wait();
    }
    EXPECT_EQ(items.load(), 6 * 20);
    EXPECT_LE(busy.most.load(), int(n)) << "concurrency " << n;
    if (n > 1) {
      EXPECT_GT(busy.most.load(), 1) << "the pool never ran two things at once";
    }
  }
}

TEST(TaskPool, TasksMaySubmitTasksAndTheWaiterWorks) {
  TaskPool pool(1);  // no worker thread: the waiting thread must run everything
  std::atomic<int> ran{0};
  TaskGroup group(pool);
  std::function<void(int)> spawn = [&](int depth) {
    ++ran;
    if (depth >= 4) return;
    for (int k = 0; k < 2; ++k) group.submit([&, depth] { spawn(depth + 1); });
  };
  group.submit([&] { spawn(0); });
  group.wait();
  EXPECT_EQ(ran.load(), 31);  // 1 + 2 + 4 + 8 + 16
}

TEST(TaskPool, ErrorsReachTheCaller) {
  TaskPool pool(3);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.for_each(100,
                             [&](unsigned, std::size_t i) {
                               ++ran;
                               if (i == 10) throw std::runtime_error("bad item");
                             }),
               std::runtime_error);
  EXPECT_LE(ran.load(), 100);
  TaskGroup group(pool);
  group.submit([] { throw std::runtime_error("bad task"); });
  EXPECT_THROW(group.wait(), std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> after{0};
  pool.for_each(50, [&](unsigned, std::size_t) { ++after; });
  EXPECT_EQ(after.load(), 50);
}

}  // namespace
}  // namespace probity
