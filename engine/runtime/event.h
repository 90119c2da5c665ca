// Event: a manual-reset event for coroutines on one Scheduler. wait() suspends until set();
// set() wakes every waiter (each through the scheduler, never inline) and stays set until
// reset(). This is how code waits for a condition ("applied up to LSN n") instead of sleeping.
#pragma once

#include <algorithm>
#include <cassert>
#include <coroutine>
#include <vector>

#include "engine/runtime/scheduler.h"

namespace kiln {

class Event {
 public:
  explicit Event(Scheduler& scheduler, const char* name = "event")
      : scheduler_(scheduler), name_(name) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  // REQUIRES: no coroutine is waiting (their frames must go first).
  ~Event() { assert(waiters_.empty()); }

  bool is_set() const { return set_; }
  void set();
  void reset() { set_ = false; }
  size_t waiter_count() const { return waiters_.size(); }

  class Awaiter {
   public:
    explicit Awaiter(Event& event) : event_(event) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter();
    bool await_ready() const noexcept { return event_.set_; }
    void await_suspend(std::coroutine_handle<> h);
    void await_resume() noexcept { ticket_ = 0; }

   private:
    friend class Event;
    Event& event_;
    bool listed_ = false;           // In event_.waiters_.
    Scheduler::Ticket ticket_ = 0;  // Parked or woken, not yet resumed.
  };

  // Awaitable: returns at once if set, else when set() is next called.
  Awaiter wait() { return Awaiter(*this); }

 private:
  Scheduler& scheduler_;
  const char* name_;
  bool set_ = false;
  std::vector<Awaiter*> waiters_;  // In arrival order.
};

inline void Event::set() {
  set_ = true;
  std::vector<Awaiter*> woken;
  woken.swap(waiters_);
  for (Awaiter* a : woken) {
    a->listed_ = false;
    scheduler_.unpark(a->ticket_);
  }
}

inline void Event::Awaiter::await_suspend(std::coroutine_handle<> h) {
  ticket_ = event_.scheduler_.park(h, event_.name_);
  listed_ = true;
  event_.waiters_.push_back(this);
}

inline Event::Awaiter::~Awaiter() {
  if (listed_) {
    auto& w = event_.waiters_;
    w.erase(std::find(w.begin(), w.end(), this));
  }
  if (ticket_ != 0) event_.scheduler_.cancel(ticket_);
}

}  // namespace kiln
