// Queue: named work queues with leases, built on strictly serializable transactions
// (DESIGN.md section 7, "Queue").
//
// Contract:
// - enqueue(name, payload) adds an item; ids are unique and increase in enqueue order.
// - claim(name, lease) hands out a visible item with a fresh lease: a token and an expiry
//   `lease` from now on the monotonic clock. Visible: leased with a lease that expired (these
//   first, the earliest expiry first; a lease of an older epoch before any of this one's), or
//   ready (then the oldest, in enqueue order) and not hidden by a nack's backoff. No item is
//   ever handed to two live leases: a claim reads what it takes, so two claims of one item
//   conflict and one retries. An item claimed more than `attempts_max` times goes to the dead
//   letters instead (never before), and the claim looks on. nullopt when nothing is visible
//   (among the first `claim_scan_max` expired leases and ready items).
// - ack(name, id, token) completes the item (removes it). nack(name, id, token) hands it back,
//   hidden for a backoff that doubles per attempt. Both reject a token that is not the item's
//   current lease (stale: it expired and was claimed again; foreign: never its token) or whose
//   lease expired, with InvalidArgument; NotFound if the item is gone. Nothing changes then.
// - Leases do not outlive the process that granted them: Open starts a new epoch, and every
//   lease of an older epoch counts as expired.
// - Errors of the store pass through (Unknown: the change may or may not have happened).
// - An observer given to Open sees every transaction the queue runs (txn/txn_observer.h),
//   Open's own included, each attempt of a retried one, and read-only ones (peek, stats).
// Coroutine rules: one Scheduler; the TxnStore, Clock, Random and observer outlive the queue.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/queue/queue_layout.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/random.h"
#include "engine/runtime/result.h"
#include "engine/runtime/task.h"
#include "engine/txn/txn_store.h"

namespace kiln::queue {

struct QueueOptions {
  uint32_t attempts_max = 5;                       // Claims before an item is dead-lettered.
  Duration nack_backoff_first = Duration(10'000);  // Hidden after the first nack; doubles.
  Duration nack_backoff_max = Duration(10'000'000);
  size_t payload_bytes_max = 64 << 10;
  size_t claim_scan_max = 64;  // Expired leases, and ready items, one claim looks at (each).
};

struct Claim {
  std::string id;  // 16 bytes.
  std::string payload;
  uint64_t token = 0;
  uint32_t attempt = 0;  // 1 for the first claim.
  MonoTime expires;      // When the lease ends, exactly as the queue enforces it (monotonic).
};

struct QueueStats {
  uint64_t ready = 0;   // Not leased (some may be hidden by a nack's backoff).
  uint64_t leased = 0;  // Leased (some leases may have expired).
  uint64_t dead = 0;
};

struct PeekedItem {
  std::string id;
  std::string payload;
  uint32_t attempts = 0;
};

class Queue {
 public:
  // Starts a new epoch (one transaction). `observer` may be nullptr (nothing observes).
  static Task<Result<std::unique_ptr<Queue>>> Open(txn::TxnStore& txns, const Clock& clock,
                                                   Random& random, QueueOptions options = {},
                                                   txn::TxnObserver* observer = nullptr);

  Task<Result<std::string>> enqueue(std::string name, std::string payload);
  Task<Result<std::optional<Claim>>> claim(std::string name, Duration lease);
  Task<Status> ack(std::string name, std::string id, uint64_t token);
  Task<Status> nack(std::string name, std::string id, uint64_t token);
  // Up to `limit` ready items, oldest first, without claiming them.
  Task<Result<std::vector<PeekedItem>>> peek(std::string name, size_t limit);
  Task<Result<std::vector<PeekedItem>>> dead_letters(std::string name, size_t limit);
  Task<Result<QueueStats>> stats(std::string name);

  uint64_t epoch() const { return epoch_; }

 private:
  Queue(txn::TxnStore& txns, const Clock& clock, Random& random, QueueOptions options,
        txn::TxnObserver* observer, uint64_t epoch)
      : txns_(txns),
        clock_(clock),
        random_(random),
        options_(options),
        observer_(observer),
        epoch_(epoch) {}
  int64_t now_us() const;
  // The item's lease is current: `token` is its token, its epoch is this one, and it has not
  // expired. InvalidArgument naming what is wrong otherwise.
  Status CheckLease(const Item& item, uint64_t token) const;
  // The item `id`, read in `t`, if `token` is its current lease (else NotFound or CheckLease's
  // error).
  Task<Result<Item>> LoadLeased(txn::Transaction& t, const std::string& name, const std::string& id,
                                uint64_t token) const;
  enum class Take : uint8_t { kTaken, kHidden, kDead };
  // In `t`, takes the item of the ready or lease index entry `index_key` for a lease of `lease`
  // from `now` (now_us()), and sets `claimed` (with `expires`: the same instant + lease, on the
  // monotonic clock): kTaken. kHidden if a nack's backoff hides it (nothing changes); kDead if
  // that would be a claim past attempts_max: it became a dead letter instead.
  Task<Result<Take>> TakeItem(txn::Transaction& t, const std::string& name,
                              const std::string& index_key, int64_t now, Duration lease,
                              MonoTime expires, std::optional<Claim>& claimed);
  // Runs `body` in a transaction, retrying Conflicts (txn::RunTransaction).
  Task<Status> Run(std::function<Task<Status>(txn::Transaction&)> body);
  // Up to `limit` ready ("r/") or dead ("d/") items, oldest first, in one read-only
  // transaction.
  Task<Result<std::vector<PeekedItem>>> ListItems(std::string name, std::string part, size_t limit);

  txn::TxnStore& txns_;
  const Clock& clock_;
  Random& random_;
  QueueOptions options_;
  txn::TxnObserver* observer_;  // nullptr: none.
  uint64_t epoch_;
  uint64_t next_seq_ = 0;
};

}  // namespace kiln::queue
