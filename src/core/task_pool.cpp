#include "probity/task_pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace probity {

struct TaskPool::Impl {
  std::mutex mu;
  /// One condition for everything: work queued, a task finished, closing. Few threads wait on
  /// it (at most concurrency()), so notify_all is cheap and no wake-up is lost.
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool closing = false;
  std::vector<std::thread> workers;
};

TaskPool::TaskPool(unsigned threads) : impl_(std::make_unique<Impl>()) {
  concurrency_ = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < concurrency_; ++i)
    impl_->workers.emplace_back([this] {
      for (;;) {
        std::function<void()> task;
        {
          std::unique_lock lock(impl_->mu);
          impl_->cv.wait(lock, [this] { return impl_->closing || !impl_->queue.empty(); });
          if (impl_->queue.empty()) return;  // closing and drained
          task = std::move(impl_->queue.front());
          impl_->queue.pop_front();
        }
        task();
        ++tasks_run_;
      }
    });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->closing = true;
  }
  impl_->cv.notify_all();
  for (auto& t : impl_->workers) t.join();
  // With no workers (concurrency 1) queued tasks are run by their group's wait; anything left
  // here belongs to a for_each that already finished (joiners that found no item): drop it.
}

void TaskPool::enqueue(std::function<void()> task) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->queue.push_back(std::move(task));
  }
  impl_->cv.notify_all();
}

bool TaskPool::run_one() {
  std::function<void()> task;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->queue.empty()) return false;
    task = std::move(impl_->queue.front());
    impl_->queue.pop_front();
  }
  task();
  ++tasks_run_;
  return true;
}

namespace {

struct ForEachJob {
  std::size_t count = 0;
  /// Valid only while the caller of for_each waits: a participant dereferences it only after
  /// it took an item, and the caller returns only when every taken item is done.
  const std::function<void(unsigned, std::size_t)>* fn = nullptr;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::atomic<unsigned> slots{1};  ///< slot 0 is the caller's
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::exception_ptr error;
};

/// Takes items until none is left; returns true when this call finished the last one.
bool participate(ForEachJob& job, unsigned slot) {
  bool last = false;
  for (std::size_t i; (i = job.next.fetch_add(1)) < job.count;) {
    if (!job.failed.load(std::memory_order_relaxed)) {
      try {
        (*job.fn)(slot, i);
      } catch (...) {
        std::lock_guard lock(job.error_mu);
        if (!job.error) job.error = std::current_exception();
        job.failed = true;
      }
    }
    if (job.done.fetch_add(1) + 1 == job.count) last = true;
  }
  return last;
}

}  // namespace

void TaskPool::for_each(std::size_t count,
                        const std::function<void(unsigned slot, std::size_t i)>& fn) {
  if (count == 0) return;
  if (concurrency_ == 1 || count == 1) {
    for (std::size_t i = 0; i < count; ++i) fn(0, i);
    return;
  }
  auto job = std::make_shared<ForEachJob>();
  job->count = count;
  job->fn = &fn;
  const std::size_t helpers = std::min<std::size_t>(concurrency_ - 1, count - 1);
  for (std::size_t h = 0; h < helpers; ++h)
    enqueue([this, job] {
      if (job->next.load() >= job->count) return;  // all taken already: fn may be gone
      if (participate(*job, job->slots.fetch_add(1))) {
        std::lock_guard lock(impl_->mu);
        impl_->cv.notify_all();
      }
    });
  participate(*job, 0);
  {
    // Items other participants took are running on threads that are not waiting for us.
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait(lock, [&] { return job->done.load() >= count; });
  }
  if (job->error) std::rethrow_exception(job->error);
}

struct TaskGroup::State {
  std::atomic<std::size_t> pending{0};
  std::mutex error_mu;
  std::exception_ptr error;
};

TaskGroup::TaskGroup(TaskPool& pool) : pool_(pool), state_(std::make_shared<State>()) {}

TaskGroup::~TaskGroup() {
  try {
    wait();
  } catch (...) {
    // A destructor must not throw; wait() was the place to see it.
  }
}

void TaskGroup::submit(std::function<void()> task) {
  ++state_->pending;
  pool_.enqueue([pool = &pool_, state = state_, task = std::move(task)] {
    try {
      task();
    } catch (...) {
      std::lock_guard lock(state->error_mu);
      if (!state->error) state->error = std::current_exception();
    }
    if (--state->pending == 0) {
      std::lock_guard lock(pool->impl_->mu);
      pool->impl_->cv.notify_all();
    }
  });
}

void TaskGroup::wait() {
  for (;;) {
    if (state_->pending.load() == 0) break;
    if (pool_.run_one()) continue;  // the waiting thread is one of the pool's N
    std::unique_lock lock(pool_.impl_->mu);
    pool_.impl_->cv.wait(
        lock, [&] { return state_->pending.load() == 0 || !pool_.impl_->queue.empty(); });
  }
  std::exception_ptr e;
  {
    std::lock_guard lock(state_->error_mu);
    std::swap(e, state_->error);
  }
  if (e) std::rethrow_exception(e);
}

}  // namespace probity
