// The Wal object: append() hands records to the group-commit writer (writer.cc) and waits for its
// verdict; reads come from the in-memory cache of recent durable records or from the segment
// files (reader.cc); truncate_before() deletes old segments. Open and recovery: recovery.cc.
#include <algorithm>
#include <cassert>

#include "engine/runtime/event.h"
#include "engine/wal/format.h"
#include "engine/wal/wal_state.h"

namespace kiln::wal::internal {
namespace {

class WalImpl final : public Wal {
 public:
  explicit WalImpl(std::shared_ptr<WalState> state) : state_(std::move(state)) {
    assert(state_ != nullptr);
  }
  // Without close(), the writer still finishes what is queued and then returns.
  ~WalImpl() override {
    state_->closing = true;
    state_->wake.set();
  }

  Task<Result<Lsn>> append(uint8_t type, std::string payload) override;
  Task<Result<std::vector<Record>>> read_from(Lsn from, size_t records_max) override;
  Lsn durable_lsn() const override { return state_->durable_lsn; }
  Lsn first_lsn() const override;
  const RecoveryReport& recovery() const override { return state_->report; }
  Task<Status> truncate_before(Lsn lsn) override;
  Status failure() const override { return state_->failure; }
  Task<Status> close() override;

 private:
  std::shared_ptr<WalState> state_;
};

Task<Result<Lsn>> WalImpl::append(uint8_t type, std::string payload) {
  const std::shared_ptr<WalState> s = state_;  // The frame keeps the state alive.
  if (payload.size() > s->options.record_bytes_max) {
    co_return Status::InvalidArgument("wal: payload of " + std::to_string(payload.size()) +
                                      " bytes is over record_bytes_max " +
                                      std::to_string(s->options.record_bytes_max));
  }
  if (!s->failure.ok()) {
    co_return Status::Unavailable("wal is fail-stopped until it is reopened: " +
                                  s->failure.ToString());
  }
  if (s->closing) co_return Status::Unavailable("wal is closed");
  auto pending = std::make_shared<PendingAppend>(s->scheduler, type, std::move(payload));
  s->queue.push_back(pending);
  s->wake.set();
  co_await pending->done.wait();
  if (!pending->status.ok()) co_return pending->status;
  assert(pending->lsn >= 1);
  assert(pending->lsn <= s->durable_lsn);
  co_return pending->lsn;
}

Task<Result<std::vector<Record>>> WalImpl::read_from(Lsn from, size_t records_max) {
  const std::shared_ptr<WalState> s = state_;
  from = std::max<Lsn>(from, 1);
  if (records_max == 0 || from > s->durable_lsn) co_return std::vector<Record>{};
  if (!s->cache.empty() && from >= s->cache.front().lsn) {
    assert(s->cache.back().lsn == s->durable_lsn);
    const size_t skip = from - s->cache.front().lsn;
    const size_t n = std::min(records_max, s->cache.size() - skip);
    std::vector<Record> out(s->cache.begin() + skip, s->cache.begin() + skip + n);
    assert(out.empty() || out.front().lsn == from);
    co_return out;
  }
  co_return co_await ReadFromSegments(s, from, records_max);
}

Lsn WalImpl::first_lsn() const {
  const WalState& s = *state_;
  if (s.segments.empty()) return 0;
  const Lsn first = s.segments.front().first_lsn;
  return first <= s.durable_lsn ? first : 0;
}

Task<Status> WalImpl::truncate_before(Lsn lsn) {
  const std::shared_ptr<WalState> s = state_;
  // Oldest first, one at a time, each removal made durable before the next: a crash (even one
  // that keeps any subset of unsynced directory operations) leaves no hole in the LSNs. A
  // segment whose removal failed goes back to the front of the list, so the next call starts
  // with it again; a hole left by skipping it was found by spine (seed 236).
  while (s->segments.size() >= 2 && s->segments[1].first_lsn <= lsn) {  // Never the last.
    SegmentInfo segment = std::move(s->segments.front());
    s->segments.pop_front();  // No new read starts on it.
    Status st = co_await s->fs.remove(segment.path);
    // NotFound: an earlier attempt removed it but could not sync the directory.
    if (st.IsNotFound()) st = Status::Ok();
    if (st.ok()) st = co_await s->fs.sync_directory(s->options.dir);
    if (!st.ok()) {
      const std::string path = segment.path;
      s->segments.push_front(std::move(segment));
      co_return st.WithContext("wal: truncate_before: remove " + path);
    }
  }
  const Lsn first = s->segments.empty() ? 0 : s->segments.front().first_lsn;
  while (!s->cache.empty() && s->cache.front().lsn < first) {
    s->cache_bytes -= s->cache.front().payload.size();
    s->cache.pop_front();
  }
  assert(s->segments.empty() || s->segments.size() == 1 || s->segments[1].first_lsn > lsn);
  co_return Status::Ok();
}

Task<Status> WalImpl::close() {
  const std::shared_ptr<WalState> s = state_;
  s->closing = true;
  s->wake.set();
  co_await s->writer_exited.wait();  // It finishes every queued append first.
  Status st;
  if (s->current != nullptr) {
    st = co_await s->current->close();
    s->current.reset();
  }
  s->lock.reset();
  assert(s->queue.empty());
  co_return st;
}

}  // namespace

std::unique_ptr<Wal> MakeWal(std::shared_ptr<WalState> state) {
  return std::make_unique<WalImpl>(std::move(state));
}

}  // namespace kiln::wal::internal
