#include "engine/txn/txn_store.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace kiln::txn {

TxnStore::TxnStore(kv::KvStore& kv, Scheduler& scheduler, const Clock& clock, TxnOptions options)
    : kv_(kv),
      scheduler_(scheduler),
      clock_(clock),
      options_(options),
      window_(options.window_commits_max) {}

Task<Result<std::unique_ptr<Transaction>>> TxnStore::begin(TxnObserver* observer) {
  // Told before the snapshot is taken: everything acknowledged before this call is in it.
  const uint64_t tag = observer == nullptr ? 0 : observer->invoked();
  // Until the transaction exists, a failed begin (or this coroutine destroyed, its process
  // killed) ends it here: it never read or wrote anything.
  struct Unborn {
    TxnObserver* observer;
    uint64_t tag;
    ~Unborn() {
      if (observer != nullptr) observer->ended(tag, TxnObserver::Outcome::kAborted, 0, 0);
    }
  } unborn{observer, tag};
  const MonoTime began = clock_.monotonic_now();
  Result<std::unique_ptr<kv::KvSnapshot>> view = co_await kv_.snapshot();
  if (!view.ok()) co_return view.status().WithContext("txn begin");
  std::unique_ptr<Transaction> t(new Transaction(*this, std::move(*view), began));
  unborn.observer = nullptr;  // From here on the transaction tells its own end.
  if (observer != nullptr) {
    t->observer_ = observer;
    t->tag_ = tag;
    observer->began(tag, t->read_version());
  }
  co_return t;
}

Task<Status> RunTransaction(TxnStore& store, Random& random,
                            std::function<Task<Status>(Transaction&)> body, RetryOptions retry,
                            TxnObserver* observer) {
  assert(retry.attempts_max >= 1);
  Duration backoff = retry.backoff_first;
  Status last;
  for (int attempt = 0; attempt < retry.attempts_max; ++attempt) {
    if (attempt > 0) {
      // Full jitter: somewhere in [0, backoff], so that clients that collided spread out.
      const auto us = static_cast<uint64_t>(std::max<int64_t>(backoff.count(), 1));
      co_await store.scheduler().sleep_for(Duration(static_cast<int64_t>(random.uniform(us + 1))));
      backoff = std::min(backoff * 2, retry.backoff_max);
    }
    Result<std::unique_ptr<Transaction>> txn = co_await store.begin(observer);
    if (!txn.ok()) co_return txn.status();
    Status s = co_await body(**txn);
    if (!s.ok()) {
      (*txn)->abort();
      co_return s;
    }
    last = co_await (*txn)->commit();
    if (!last.IsConflict()) co_return last;
  }
  co_return last;
}

}  // namespace kiln::txn
