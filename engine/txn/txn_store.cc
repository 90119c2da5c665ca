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

Task<Result<std::unique_ptr<Transaction>>> TxnStore::begin() {
  const MonoTime began = clock_.monotonic_now();
  Result<std::unique_ptr<kv::KvSnapshot>> view = co_await kv_.snapshot();
  if (!view.ok()) co_return view.status().WithContext("txn begin");
  co_return std::unique_ptr<Transaction>(new Transaction(*this, std::move(*view), began));
}

Task<Status> RunTransaction(TxnStore& store, Random& random,
                            std::function<Task<Status>(Transaction&)> body, RetryOptions retry) {
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
    Result<std::unique_ptr<Transaction>> txn = co_await store.begin();
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
