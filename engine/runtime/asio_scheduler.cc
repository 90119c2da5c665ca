#include "engine/runtime/asio_scheduler.h"

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>

namespace kiln {
namespace {

namespace asio = boost::asio;

std::string DescribeException(std::exception_ptr e) {
  assert(e);
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

[[noreturn]] void DieOfException(std::string_view where, std::exception_ptr e) {
  const std::string what = DescribeException(e);
  std::fprintf(stderr, "kiln: %.*s threw: %s (a bug: engine code reports failures by Status)\n",
               static_cast<int>(where.size()), where.data(), what.c_str());
  std::fflush(stderr);
  std::abort();
}

// One blocking call, shared by the loop (which may withdraw it) and the pool (which runs it).
// The loop thread never touches `work` once it has been queued.
struct BlockingJob {
  enum class State { kQueued, kRunning, kDone, kCancelled };

  std::mutex mu;
  std::condition_variable done_cv;
  State state = State::kQueued;  // Guarded by mu.
  std::function<void()> work;
};

}  // namespace

struct AsioScheduler::Impl {
  struct Waiter {
    std::coroutine_handle<> handle;
    const char* what = "";  // Names the wait, for a debugger looking at a stall.
    bool parked = false;
    std::unique_ptr<asio::steady_timer> timer;  // For a positive delay.
    std::shared_ptr<BlockingJob> job;           // For a blocking call.
  };
  struct Root {
    detail::RootTask::Handle handle;
    std::string name;
  };

  // A pool of zero threads would never run blocking work: clamp, as well as assert.
  explicit Impl(const AsioSchedulerOptions& options)
      : pool(std::max<size_t>(1, options.blocking_threads)) {}

  bool on_loop_thread() const { return !running || std::this_thread::get_id() == loop_thread; }

  Ticket arm(std::coroutine_handle<> h, const char* what);
  void post_resume(Ticket ticket);
  void resume(Ticket ticket);
  void run_job(Ticket ticket, const std::shared_ptr<BlockingJob>& job);
  void finish_root(uint64_t root_id, std::exception_ptr e);
  void reap_finished();
  void withdraw_job(BlockingJob& job);
  void destroy_roots();

  // Declaration order is destruction order reversed: waiters (timers) go before the pool, and
  // the pool (whose jobs post to io) before io.
  asio::io_context io;
  asio::thread_pool pool;
  std::map<Ticket, Waiter> waiters;  // Every armed ticket.
  std::map<uint64_t, Root> roots;    // Live spawned tasks, by id (spawn order).
  std::vector<uint64_t> finished;    // Roots that ended during the current handler.
  Ticket next_ticket = 1;
  uint64_t next_root_id = 1;
  bool running = false;
  std::thread::id loop_thread;
};

Scheduler::Ticket AsioScheduler::Impl::arm(std::coroutine_handle<> h, const char* what) {
  assert(h);
  assert(on_loop_thread());
  const Ticket t = next_ticket++;
  auto [it, inserted] = waiters.try_emplace(t);
  assert(inserted);
  it->second.handle = h;
  it->second.what = what;
  return t;
}

void AsioScheduler::Impl::post_resume(Ticket ticket) {
  assert(ticket != 0);
  asio::post(io, [this, ticket] { resume(ticket); });
}

void AsioScheduler::Impl::resume(Ticket ticket) {
  assert(std::this_thread::get_id() == loop_thread);
  // A withdrawn ticket (cancelled, or its frame destroyed) has left the map: nothing to do.
  auto node = waiters.extract(ticket);
  if (node.empty()) return;
  assert(!node.mapped().parked);
  const std::coroutine_handle<> h = node.mapped().handle;
  node = {};  // Drops the fired timer or finished job before the coroutine runs on.
  h.resume();
  reap_finished();
}

void AsioScheduler::Impl::run_job(Ticket ticket, const std::shared_ptr<BlockingJob>& job) {
  {
    std::lock_guard lock(job->mu);
    if (job->state == BlockingJob::State::kCancelled) return;
    assert(job->state == BlockingJob::State::kQueued);
    job->state = BlockingJob::State::kRunning;
  }
  try {
    job->work();
  } catch (...) {
    DieOfException("a blocking call", std::current_exception());
  }
  job->work = nullptr;  // Its captures may refer to the awaiting frame: drop them here.
  {
    std::lock_guard lock(job->mu);
    job->state = BlockingJob::State::kDone;
  }
  job->done_cv.notify_all();
  post_resume(ticket);
}

void AsioScheduler::Impl::withdraw_job(BlockingJob& job) {
  std::unique_lock lock(job.mu);
  if (job.state == BlockingJob::State::kQueued) {
    job.state = BlockingJob::State::kCancelled;
    return;
  }
  // Running work refers to the awaiting frame, which is about to be destroyed: wait it out.
  job.done_cv.wait(lock, [&job] { return job.state == BlockingJob::State::kDone; });
  assert(job.state == BlockingJob::State::kDone);
}

void AsioScheduler::Impl::finish_root(uint64_t root_id, std::exception_ptr e) {
  auto it = roots.find(root_id);
  assert(it != roots.end());
  if (e) DieOfException("task '" + it->second.name + "'", e);
  finished.push_back(root_id);
}

void AsioScheduler::Impl::reap_finished() {
  // Never from inside on_done: the root frame is suspended at its final point by now.
  std::vector<uint64_t> done;
  done.swap(finished);
  for (uint64_t id : done) {
    auto node = roots.extract(id);
    assert(!node.empty());
    assert(node.mapped().handle.done());
    node.mapped().handle.destroy();
  }
  assert(finished.empty());
}

void AsioScheduler::Impl::destroy_roots() {
  // Newest first: a later task may hold awaiters on state an earlier one owns.
  while (!roots.empty()) {
    auto node = roots.extract(std::prev(roots.end()));
    node.mapped().handle.destroy();
  }
  finished.clear();
}

AsioScheduler::AsioScheduler(AsioSchedulerOptions options)
    : impl_(std::make_unique<Impl>(options)) {
  assert(options.blocking_threads >= 1);
}

AsioScheduler::~AsioScheduler() {
  assert(!impl_->running);
  impl_->destroy_roots();
  // Every job left is withdrawn or finished; joining waits for the pool to notice.
  impl_->pool.join();
  impl_->waiters.clear();
}

void AsioScheduler::spawn(Task<void> task, std::string_view name) {
  assert(task.valid());
  assert(impl_->on_loop_thread());
  const uint64_t id = impl_->next_root_id++;
  detail::RootTask root = detail::MakeRootTask(std::move(task));
  auto handle = root.release();
  handle.promise().on_done = [impl = impl_.get(), id](std::exception_ptr e) {
    impl->finish_root(id, std::move(e));
  };
  impl_->roots.emplace(id, Impl::Root{handle, std::string(name)});
  // The task starts on a later loop iteration, like any woken waiter.
  impl_->post_resume(impl_->arm(handle, "start"));
}

Scheduler::Ticket AsioScheduler::schedule(std::coroutine_handle<> h, Duration delay,
                                          const char* what) {
  assert(delay >= Duration::zero());
  const Ticket t = impl_->arm(h, what);
  if (delay <= Duration::zero()) {
    impl_->post_resume(t);
    return t;
  }
  auto timer = std::make_unique<asio::steady_timer>(impl_->io, delay);
  timer->async_wait([impl = impl_.get(), t](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;  // Cancelled: the ticket is gone.
    impl->resume(t);
  });
  impl_->waiters.at(t).timer = std::move(timer);
  return t;
}

Scheduler::Ticket AsioScheduler::schedule_blocking(std::coroutine_handle<> h,
                                                   std::function<void()> work) {
  assert(work);
  const Ticket t = impl_->arm(h, "blocking");
  auto job = std::make_shared<BlockingJob>();
  job->work = std::move(work);
  impl_->waiters.at(t).job = job;
  // The guard keeps run() from returning while the call is in flight; the pool drops it only
  // after posting the resume.
  auto guard = asio::make_work_guard(impl_->io);
  asio::post(impl_->pool,
             [impl = impl_.get(), t, job = std::move(job), guard = std::move(guard)]() mutable {
               impl->run_job(t, job);
               guard.reset();
             });
  return t;
}

Scheduler::Ticket AsioScheduler::park(std::coroutine_handle<> h, const char* what) {
  const Ticket t = impl_->arm(h, what);
  impl_->waiters.at(t).parked = true;
  return t;
}

void AsioScheduler::unpark(Ticket ticket) {
  assert(impl_->on_loop_thread());
  auto it = impl_->waiters.find(ticket);
  if (it == impl_->waiters.end() || !it->second.parked) return;
  it->second.parked = false;
  impl_->post_resume(ticket);
}

void AsioScheduler::cancel(Ticket ticket) {
  assert(impl_->on_loop_thread());
  auto node = impl_->waiters.extract(ticket);
  if (node.empty()) return;
  // Destroying the timer aborts its wait; a posted resume finds the ticket gone.
  if (node.mapped().job) impl_->withdraw_job(*node.mapped().job);
}

void AsioScheduler::run() {
  assert(!impl_->running);
  impl_->running = true;
  impl_->loop_thread = std::this_thread::get_id();
  impl_->io.restart();
  impl_->io.run();
  impl_->running = false;
  impl_->loop_thread = std::thread::id();
  assert(impl_->finished.empty());
}

void AsioScheduler::stop() {
  impl_->io.stop();
}

size_t AsioScheduler::live_tasks() const {
  return impl_->roots.size();
}

size_t AsioScheduler::armed_tickets() const {
  return impl_->waiters.size();
}

}  // namespace kiln
