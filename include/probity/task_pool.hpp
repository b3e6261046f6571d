// One task pool for a whole run: `--threads N` bounds every stage (unpack's containers, the
// formats that extract in parallel such as squashfs, inventory, identify and the checks), because
// every stage takes its threads from the same pool instead of starting its own.
//
// A pool of concurrency N owns N-1 worker threads; the thread that waits (TaskGroup::wait, or the
// caller of for_each) works too, so at most N threads run probity code at any time. Nested use
// is safe: a for_each called from inside a pool task runs on its caller plus whichever workers
// are idle, and never waits for a worker that is busy elsewhere (no deadlock, no oversubscription).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

namespace probity {

class TaskPool {
 public:
  /// `threads`: total concurrency including the caller (0: every core).
  explicit TaskPool(unsigned threads = 0);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  /// Total concurrency (worker threads + the waiting caller), ≥ 1.
  unsigned concurrency() const { return concurrency_; }

  /// Runs fn(slot, i) for every i in [0, count), on the calling thread and up to
  /// concurrency()-1 idle workers. `slot` (< concurrency()) is distinct for each thread taking
  /// part in this call, so per-slot state needs no lock. Returns when every i is done; the first
  /// exception thrown by fn is rethrown here (the remaining items are skipped).
  void for_each(std::size_t count, const std::function<void(unsigned slot, std::size_t i)>& fn);

  /// Pool-wide count of tasks run so far (for tests and statistics).
  std::uint64_t tasks_run() const { return tasks_run_.load(); }

 private:
  friend class TaskGroup;
  struct Impl;
  void enqueue(std::function<void()> task);
  /// Runs one queued task on the calling thread if there is one; false when the queue is empty.
  bool run_one();
  std::unique_ptr<Impl> impl_;
  unsigned concurrency_ = 1;
  std::atomic<std::uint64_t> tasks_run_{0};
};

/// Tasks that may submit more tasks, and one wait for all of them (the unpack driver: every
/// container found becomes a task). The waiting thread runs queued tasks while it waits.
class TaskGroup {
 public:
  explicit TaskGroup(TaskPool& pool);
  ~TaskGroup();  ///< waits
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void submit(std::function<void()> task);
  /// Blocks until every task submitted to this group (also by its tasks) has finished. The
  /// first exception a task threw is rethrown here.
  void wait();

 private:
  struct State;
  TaskPool& pool_;
  std::shared_ptr<State> state_;
};

}  // namespace probity
