#include "engine/queue/queue.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/kv/kv_store.h"
#include "engine/runtime/bugs.h"

namespace kiln::queue {

KILN_DEFINE_BUG(claim_without_conflict, "queue-claim-without-conflict",
                "claim finds its item through a read outside its transaction, so two concurrent "
                "claims of one item do not conflict and both get a lease");
KILN_DEFINE_BUG(lease_wall_clock, "queue-lease-wall-clock",
                "lease expiry is measured on the wall clock, so a clock jump expires live leases "
                "(and the item goes to a second worker)");

namespace {

// The end of the range of keys that start with `prefix`.
std::string PrefixEnd(std::string prefix) {
  assert(!prefix.empty() && prefix.back() != '\xff');
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

}  // namespace

Task<Result<std::unique_ptr<Queue>>> Queue::Open(txn::TxnStore& txns, const Clock& clock,
                                                 Random& random, QueueOptions options,
                                                 txn::TxnObserver* observer) {
  assert(options.attempts_max >= 1);
  uint64_t epoch = 0;
  auto bump = [&epoch](txn::Transaction& t) -> Task<Status> {
    Result<std::optional<std::string>> v = co_await t.get(std::string(kEpochKey));
    if (!v.ok()) co_return v.status();
    int64_t n = 0;
    if (v->has_value() && (!kv::ParseInt64(**v, &n) || n < 0)) {
      co_return Status::Corruption("queue: q/.epoch is not a count");
    }
    epoch = static_cast<uint64_t>(n) + 1;
    co_return t.put(std::string(kEpochKey), std::to_string(epoch));
  };
  Status s = co_await txn::RunTransaction(txns, random, bump, {}, observer);
  if (!s.ok()) co_return s.WithContext("queue open");
  co_return std::unique_ptr<Queue>(new Queue(txns, clock, random, options, observer, epoch));
}

int64_t Queue::now_us() const {
  if (KILN_BUG(lease_wall_clock)) return ToMicros(clock_.wall_now());  // Wrong: it jumps.
  return ToMicros(clock_.monotonic_now());
}

Task<Status> Queue::Run(std::function<Task<Status>(txn::Transaction&)> body) {
  co_return co_await txn::RunTransaction(txns_, random_, std::move(body), {}, observer_);
}

Status Queue::CheckLease(const Item& item, uint64_t token) const {
  if (!item.leased || item.token != token) {
    return Status::InvalidArgument("queue: stale or foreign token (the item's lease is not it)");
  }
  if (item.lease_epoch != epoch_ || item.lease_expiry_us <= now_us()) {
    return Status::InvalidArgument("queue: the lease expired");
  }
  return Status::Ok();
}

Task<Result<std::string>> Queue::enqueue(std::string name, std::string payload) {
  if (Status s = ValidateName(name); !s.ok()) co_return s;
  if (payload.size() > options_.payload_bytes_max) {
    co_return Status::InvalidArgument("queue: payload of " + std::to_string(payload.size()) +
                                      " bytes is over payload_bytes_max");
  }
  const std::string id = BigEndian64(epoch_) + BigEndian64(next_seq_++);
  Item item;
  item.payload = std::move(payload);
  const std::string encoded = EncodeItem(item);
  Status s = co_await Run([&name, &id, &encoded](txn::Transaction& t) -> Task<Status> {
    if (Status p = t.put(ItemKey(name, id), encoded); !p.ok()) co_return p;
    co_return t.put(ReadyKey(name, id), "");
  });
  if (!s.ok()) co_return s;
  co_return id;
}

Task<Result<Queue::Take>> Queue::TakeItem(txn::Transaction& t, const std::string& name,
                                          const std::string& index_key, int64_t now, Duration lease,
                                          MonoTime expires, std::optional<Claim>& claimed) {
  const std::string id = IdOf(index_key);
  // Under the known bug this read is blind too: the item is taken without reading it.
  Result<std::optional<std::string>> raw = std::optional<std::string>{};
  if (KILN_BUG(claim_without_conflict)) {
    Result<std::unique_ptr<txn::Transaction>> peek = co_await txns_.begin(observer_);
    if (!peek.ok()) co_return peek.status();
    raw = co_await (*peek)->get(ItemKey(name, id));
  } else {
    raw = co_await t.get(ItemKey(name, id));
  }
  if (!raw.ok()) co_return raw.status();
  if (!raw->has_value()) co_return Status::Corruption("queue: an index entry for a missing item");
  Result<Item> item = DecodeItem(**raw);
  if (!item.ok()) co_return item.status();
  const bool hidden = !item->leased && item->visible_epoch == epoch_ && item->visible_at_us > now;
  if (hidden) co_return Take::kHidden;  // Backing off after a nack.
  if (Status d = t.del(index_key); !d.ok()) co_return d;
  ++item->attempts;
  if (item->attempts > options_.attempts_max) {
    item->leased = false;
    if (Status d = t.del(ItemKey(name, id)); !d.ok()) co_return d;
    if (Status p = t.put(DeadKey(name, id), EncodeItem(*item)); !p.ok()) co_return p;
    co_return Take::kDead;
  }
  item->leased = true;
  item->token = random_.next_u64() | 1;  // Never 0.
  item->lease_epoch = epoch_;
  item->lease_expiry_us = now + lease.count();
  if (Status p = t.put(ItemKey(name, id), EncodeItem(*item)); !p.ok()) co_return p;
  if (Status p = t.put(LeaseKey(name, epoch_, item->lease_expiry_us, id), ""); !p.ok()) {
    co_return p;
  }
  claimed = Claim{id, item->payload, item->token, item->attempts, expires};
  assert(claimed->attempt >= 1 && claimed->attempt <= options_.attempts_max);
  co_return Take::kTaken;
}

Task<Result<std::optional<Claim>>> Queue::claim(std::string name, Duration lease) {
  if (Status s = ValidateName(name); !s.ok()) co_return s;
  if (lease.count() <= 0) co_return Status::InvalidArgument("queue: a lease must be positive");
  std::optional<Claim> claimed;
  Queue* self = this;
  Status s = co_await Run([self, &name, lease, &claimed](txn::Transaction& t) -> Task<Status> {
    claimed.reset();
    const int64_t now = self->now_us();
    // What the worker is told: when the lease expires, measured from the same instant as the
    // expiry the queue enforces (a later instant would tell the worker its lease lasts longer
    // than it does, and a second worker could be handed the item while the first still thinks
    // it holds it: found by the queue scenario, seeds 1167 and 1616).
    const MonoTime expires = self->clock_.monotonic_now() + lease;
    const std::string prefix = Prefix(name);
    // Expired leases first, the earliest expiry first (an older epoch's first: all of those
    // expired), one at a time: after one is dead-lettered, its index key is deleted in this
    // transaction and the same scan finds the next. A dead letter never ends the search.
    const std::string leases = prefix + "l/";
    const std::string expired_end = leases + BigEndian64(self->epoch_) + BigEndian64(now + 1);
    for (size_t looked = 0; looked < self->options_.claim_scan_max; ++looked) {
      Result<kv::KeyValues> expired = co_await t.scan_range(leases, expired_end, 1);
      if (!expired.ok()) co_return expired.status();
      if (expired->empty()) break;
      Result<Take> took =
          co_await self->TakeItem(t, name, expired->front().first, now, lease, expires, claimed);
      if (!took.ok()) co_return took.status();
      if (*took == Take::kTaken) co_return Status::Ok();
      // kDead: look on. kHidden cannot be (an item in the lease index is leased, and a leased
      // item is never hidden); if it were, the same scan would find it again: stop.
      if (*took == Take::kHidden) break;
    }
    // Then the oldest ready items that no nack's backoff hides.
    const std::string ready = prefix + "r/";
    Result<kv::KeyValues> rows = kv::KeyValues{};
    if (KILN_BUG(claim_without_conflict)) {
      // Wrong: found outside the transaction, so its read set does not hold it.
      Result<std::unique_ptr<txn::Transaction>> peek = co_await self->txns_.begin(self->observer_);
      if (!peek.ok()) co_return peek.status();
      rows = co_await (*peek)->scan_range(ready, PrefixEnd(ready), self->options_.claim_scan_max);
    } else {
      rows = co_await t.scan_range(ready, PrefixEnd(ready), self->options_.claim_scan_max);
    }
    if (!rows.ok()) co_return rows.status();
    for (const auto& [index_key, value] : *rows) {
      Result<Take> took = co_await self->TakeItem(t, name, index_key, now, lease, expires, claimed);
      if (!took.ok()) co_return took.status();
      if (*took == Take::kTaken) break;
    }
    co_return Status::Ok();
  });
  if (!s.ok()) co_return s;
  co_return claimed;
}

Task<Result<Item>> Queue::LoadLeased(txn::Transaction& t, const std::string& name,
                                     const std::string& id, uint64_t token) const {
  Result<std::optional<std::string>> raw = co_await t.get(ItemKey(name, id));
  if (!raw.ok()) co_return raw.status();
  if (!raw->has_value()) co_return Status::NotFound("queue: no such item (acked or dead)");
  Result<Item> item = DecodeItem(**raw);
  if (!item.ok()) co_return item.status();
  if (Status c = CheckLease(*item, token); !c.ok()) co_return c;
  co_return item;
}

Task<Status> Queue::ack(std::string name, std::string id, uint64_t token) {
  if (Status s = ValidateName(name); !s.ok()) co_return s;
  if (id.size() != kIdBytes) co_return Status::InvalidArgument("queue: an id is 16 bytes");
  Queue* self = this;
  co_return co_await Run([self, &name, &id, token](txn::Transaction& t) -> Task<Status> {
    Result<Item> item = co_await self->LoadLeased(t, name, id, token);
    if (!item.ok()) co_return item.status();
    if (Status d = t.del(ItemKey(name, id)); !d.ok()) co_return d;
    co_return t.del(LeaseKey(name, item->lease_epoch, item->lease_expiry_us, id));
  });
}

Task<Status> Queue::nack(std::string name, std::string id, uint64_t token) {
  if (Status s = ValidateName(name); !s.ok()) co_return s;
  if (id.size() != kIdBytes) co_return Status::InvalidArgument("queue: an id is 16 bytes");
  Queue* self = this;
  co_return co_await Run([self, &name, &id, token](txn::Transaction& t) -> Task<Status> {
    Result<Item> item = co_await self->LoadLeased(t, name, id, token);
    if (!item.ok()) co_return item.status();
    if (Status d = t.del(LeaseKey(name, item->lease_epoch, item->lease_expiry_us, id)); !d.ok()) {
      co_return d;
    }
    Duration backoff = self->options_.nack_backoff_first;
    for (uint32_t i = 1; i < item->attempts && backoff < self->options_.nack_backoff_max; ++i) {
      backoff *= 2;
    }
    backoff = std::min(backoff, self->options_.nack_backoff_max);
    item->leased = false;
    item->token = 0;
    item->visible_epoch = self->epoch_;
    item->visible_at_us = self->now_us() + backoff.count();
    if (Status p = t.put(ItemKey(name, id), EncodeItem(*item)); !p.ok()) co_return p;
    co_return t.put(ReadyKey(name, id), "");
  });
}

Task<Result<std::vector<PeekedItem>>> Queue::ListItems(std::string name, std::string part,
                                                       size_t limit) {
  assert(part == "r/" || part == "d/");
  const bool values_are_items = part == "d/";  // Dead letters hold their item; ready: "".
  const std::string from = Prefix(name) + part;
  Result<std::unique_ptr<txn::Transaction>> t = co_await txns_.begin(observer_);
  if (!t.ok()) co_return t.status();
  Result<kv::KeyValues> rows = co_await (*t)->scan_range(from, PrefixEnd(from), limit);
  if (!rows.ok()) co_return rows.status();
  std::vector<PeekedItem> out;
  for (const auto& [k, v] : *rows) {
    std::string raw = v;
    if (!values_are_items) {
      Result<std::optional<std::string>> got = co_await (*t)->get(ItemKey(name, IdOf(k)));
      if (!got.ok()) co_return got.status();
      if (!got->has_value())
        co_return Status::Corruption("queue: an index entry for a missing item");
      raw = **got;
    }
    Result<Item> item = DecodeItem(raw);
    if (!item.ok()) co_return item.status();
    out.push_back(PeekedItem{IdOf(k), std::move(item->payload), item->attempts});
  }
  // Read-only: commits at once, and an observer then checks what it read.
  if (Status c = co_await (*t)->commit(); !c.ok()) co_return c;
  co_return out;
}

Task<Result<std::vector<PeekedItem>>> Queue::peek(std::string name, size_t limit) {
  if (Status s = ValidateName(name); !s.ok()) co_return s;
  co_return co_await ListItems(std::move(name), "r/", limit);
}

Task<Result<std::vector<PeekedItem>>> Queue::dead_letters(std::string name, size_t limit) {
  if (Status s = ValidateName(name); !s.ok()) co_return s;
  co_return co_await ListItems(std::move(name), "d/", limit);
}

Task<Result<QueueStats>> Queue::stats(std::string name) {
  if (Status s = ValidateName(name); !s.ok()) co_return s;
  Result<std::unique_ptr<txn::Transaction>> t = co_await txns_.begin(observer_);
  if (!t.ok()) co_return t.status();
  QueueStats stats;
  for (const char* part : {"r/", "l/", "d/"}) {
    const std::string from = Prefix(name) + part;
    Result<kv::KeyValues> rows = co_await (*t)->scan_range(from, PrefixEnd(from), SIZE_MAX);
    if (!rows.ok()) co_return rows.status();
    const uint64_t n = rows->size();
    if (part[0] == 'r') stats.ready = n;
    if (part[0] == 'l') stats.leased = n;
    if (part[0] == 'd') stats.dead = n;
  }
  if (Status c = co_await (*t)->commit(); !c.ok()) co_return c;  // Read-only: at once.
  co_return stats;
}

}  // namespace kiln::queue
