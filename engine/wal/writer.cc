// The group-commit writer: one coroutine per log takes every queued append (up to
// batch_bytes_max, and what fits in the segment), writes them with ONE write and ONE sync, and
// only then resolves them. While a sync is in flight new appends queue up, so under load each
// sync carries many records. A failed write or sync fail-stops the log (wal.h); running out of
// space is met only when a segment is preallocated, so it fails one batch and nothing else.
#include <algorithm>
#include <cassert>

#include "engine/runtime/buggify.h"
#include "engine/runtime/bugs.h"
#include "engine/wal/format.h"
#include "engine/wal/record.h"
#include "engine/wal/segment_scan.h"
#include "engine/wal/wal_state.h"

namespace kiln::wal {

KILN_DEFINE_BUG(partial_record_kept, "wal-partial-record-kept",
                "after a failed WAL write the log keeps going, appending after the partial bytes "
                "instead of fail-stopping");
KILN_DEFINE_BUG(sync_retried, "wal-sync-retried",
                "a failed WAL sync is retried, and if the retry succeeds the batch is "
                "acknowledged although its data may never have reached the disk");

namespace internal {
namespace {

using Batch = std::vector<std::shared_ptr<PendingAppend>>;

void Resolve(const Batch& batch, const Status& status) {
  assert(!status.ok());
  for (const std::shared_ptr<PendingAppend>& p : batch) {
    p->status = status;
    p->done.set();
  }
}

Status Unavailable(const WalState& s) {
  assert(!s.failure.ok());
  return Status::Unavailable("wal is fail-stopped until it is reopened: " + s.failure.ToString());
}

// Stops the log for good (until reopened): every append still queued is Unavailable.
void FailStop(WalState& s, const Status& cause) {
  assert(!cause.ok());
  if (s.failure.ok()) s.failure = cause;
  Batch rest(s.queue.begin(), s.queue.end());
  s.queue.clear();
  if (!rest.empty()) Resolve(rest, Unavailable(s));
  assert(s.queue.empty());
}

// The next batch off the queue: at least one append, then more while they fit both
// batch_bytes_max and `room_bytes`.
Batch TakeBatch(WalState& s, uint64_t room_bytes) {
  assert(!s.queue.empty());
  Batch batch;
  uint64_t bytes = 0;
  const bool just_one = BUGGIFY;  // Rare but legal: a batch of one record.
  while (!s.queue.empty()) {      // Bounded by the queue's length.
    const uint64_t n = RecordBytes(s.queue.front()->payload.size());
    const bool fits = bytes + n <= s.options.batch_bytes_max && bytes + n <= room_bytes;
    if (!batch.empty() && (just_one || !fits)) break;
    bytes += n;
    batch.push_back(std::move(s.queue.front()));
    s.queue.pop_front();
  }
  assert(!batch.empty());
  return batch;
}

// Fails the next batch without writing it. NoSpace leaves the log usable (nothing was written,
// a later append tries again); anything else fail-stops it.
void FailBatchUnwritten(WalState& s, const Status& st) {
  Batch batch = TakeBatch(s, UINT64_MAX);
  if (!st.IsNoSpace()) FailStop(s, st);
  Resolve(batch, st);
}

bool NeedsRotation(const WalState& s, uint64_t first_record_bytes) {
  if (s.current == nullptr) return true;
  const SegmentInfo& seg = s.segments.back();
  // An empty segment always has room for one record (Open checks segment_bytes), and a new
  // segment would take its very name.
  if (s.next_lsn == seg.first_lsn) return false;
  if (s.write_offset + first_record_bytes > s.options.segment_bytes) return true;
  return BUGGIFY;  // Rare but legal: rotate before the segment is full.
}

// Creates the segment that starts at next_lsn: preallocated, its header synced, and its name
// durable (directory synced) before any record in it can be acknowledged.
Task<Status> Rotate(WalState& s) {
  const Lsn first = s.next_lsn;
  const std::string path = s.options.dir + "/" + SegmentName(first);
  assert(s.segments.empty() || s.segments.back().first_lsn < first);
  Result<std::unique_ptr<File>> f = co_await s.fs.open(path, {.create = true, .truncate = true});
  if (!f.ok()) co_return f.status().WithContext("wal: create segment " + path);
  Status st = co_await (*f)->allocate(0, s.options.segment_bytes);
  if (st.IsNoSpace()) {
    // Nothing of the log was written: drop the empty file and let a later append try again.
    // Its removal must be durable before the log writes on in the current segment: were the
    // empty file to come back after a crash, the current segment would no longer be the last,
    // and recovery would take its torn tail for corruption (found by spine, seed 162). If the
    // removal cannot be made durable, the log fail-stops (IOError).
    static_cast<void>(co_await (*f)->close());
    Status removed = co_await s.fs.remove(path);
    if (removed.ok()) removed = co_await s.fs.sync_directory(s.options.dir);
    if (!removed.ok()) {
      co_return Status::IOError("wal: remove the segment " + path +
                                " that could not be preallocated (" + st.ToString() +
                                "): " + removed.ToString());
    }
    co_return st.WithContext("wal: preallocate segment " + path);
  }
  const std::array<std::byte, format::kSegmentHeaderBytes> header = EncodeSegmentHeader(first);
  if (st.ok()) st = co_await (*f)->write_at(0, std::span<const std::byte>(header));
  if (st.ok()) st = co_await (*f)->sync();
  if (st.ok()) st = co_await s.fs.sync_directory(s.options.dir);
  if (!st.ok()) co_return st.WithContext("wal: create segment " + path);
  if (s.current != nullptr) static_cast<void>(co_await s.current->close());  // All synced.
  s.current = std::move(*f);
  s.current_allocated = true;
  s.write_offset = format::kSegmentHeaderBytes;
  s.segments.push_back({first, path, first - 1, format::kSegmentHeaderBytes, {}});
  assert(s.segments.back().first_lsn == s.next_lsn);
  co_return Status::Ok();
}

void CachePut(WalState& s, Record record) {
  if (!s.cache.empty() && s.cache.back().lsn + 1 != record.lsn) {
    s.cache.clear();  // Only consecutive records, so a hit never hides a gap.
    s.cache_bytes = 0;
  }
  s.cache_bytes += record.payload.size();
  s.cache.push_back(std::move(record));
  while (s.cache.size() > kCacheRecordsMax || s.cache_bytes > kCacheBytesMax) {
    s.cache_bytes -= s.cache.front().payload.size();
    s.cache.pop_front();
  }
}

// The batch at `offset` is durable: publish it to readers, then acknowledge it.
void Commit(WalState& s, const Batch& batch, Lsn first_lsn, uint64_t offset, uint64_t bytes) {
  SegmentInfo& seg = s.segments.back();
  uint64_t at = offset;
  for (size_t i = 0; i < batch.size(); ++i) {
    PendingAppend& p = *batch[i];
    const Lsn lsn = first_lsn + i;
    if ((lsn - seg.first_lsn) % kIndexStride == 0) seg.index.emplace_back(lsn, at);
    at += RecordBytes(p.payload.size());
    CachePut(s, Record{lsn, p.type, std::move(p.payload)});
  }
  assert(at == offset + bytes);
  const Lsn last = first_lsn + batch.size() - 1;
  s.write_offset = offset + bytes;
  seg.end_bytes = s.write_offset;
  seg.last_lsn = last;
  s.durable_lsn = last;
  s.next_lsn = last + 1;
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i]->lsn = first_lsn + i;
    batch[i]->done.set();
  }
}

std::string LsnRange(Lsn first, size_t n) {
  return "LSN " + std::to_string(first) + ".." + std::to_string(first + n - 1);
}

// Writes and syncs one batch into the current segment, which has room for it.
Task<void> WriteAndSync(WalState& s, Batch batch) {
  std::vector<std::byte> buf;
  const Lsn first_lsn = s.next_lsn;
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::string& payload = batch[i]->payload;
    EncodeRecord(first_lsn + i, s.durable_lsn, batch[i]->type,
                 std::as_bytes(std::span<const char>(payload.data(), payload.size())), &buf);
  }
  const uint64_t offset = s.write_offset;
  const std::string where = s.segments.back().path;
  Status st = co_await s.current->write_at(offset, std::span<const std::byte>(buf));
  if (!st.ok()) {
    const Status failed =
        st.WithContext("wal: write " + LsnRange(first_lsn, batch.size()) + " to " + where);
    if (KILN_BUG(partial_record_kept)) {  // Wrong: goes on after the partial bytes.
      s.write_offset += buf.size();
      s.next_lsn += batch.size();
    } else {
      FailStop(s, failed);
    }
    // The bytes may have landed whole (and a crash may keep them): the outcome is unknown, not
    // "failed". Recovery decides.
    Resolve(batch, Status::Unknown(failed.ToString() + "; the records may or may not be durable"));
    co_return;
  }
  if (BUGGIFY) co_await s.scheduler.yield();  // Rare but legal: others run before the sync.
  st = co_await s.current->sync();
  if (!st.ok() && KILN_BUG(sync_retried)) st = co_await s.current->sync();  // Wrong: see bug.
  if (!st.ok()) {
    // The data may or may not have reached the disk, and a retried sync proves nothing.
    FailStop(s, st.WithContext("wal: sync " + where));
    Resolve(batch, Status::Unknown("wal: sync of " + LsnRange(first_lsn, batch.size()) +
                                   " failed, so they may or may not be durable: " + st.ToString()));
    co_return;
  }
  Commit(s, batch, first_lsn, offset, buf.size());
}

Task<void> WriteNextBatch(WalState& s) {
  assert(!s.queue.empty());
  if (!s.failure.ok()) {
    FailStop(s, s.failure);
    co_return;
  }
  if (NeedsRotation(s, RecordBytes(s.queue.front()->payload.size()))) {
    Status st = co_await Rotate(s);
    if (!st.ok()) {
      FailBatchUnwritten(s, st);
      co_return;
    }
  }
  if (!s.current_allocated) {  // A recovered segment: reserve its space before writing into it.
    Status st = co_await s.current->allocate(0, s.options.segment_bytes);
    if (!st.ok()) {
      FailBatchUnwritten(s, st.WithContext("wal: preallocate " + s.segments.back().path));
      co_return;
    }
    s.current_allocated = true;
  }
  const uint64_t room = s.options.segment_bytes - std::min(s.options.segment_bytes, s.write_offset);
  Batch batch = TakeBatch(s, room);
  co_await WriteAndSync(s, std::move(batch));
}

}  // namespace

Task<void> WriterLoop(std::shared_ptr<WalState> state) {
  WalState& s = *state;
  for (;;) {  // Bounded by the log's life: returns once it is closing and the queue is empty.
    if (s.queue.empty()) {
      if (s.closing) break;
      s.wake.reset();
      co_await s.wake.wait();
      continue;
    }
    co_await WriteNextBatch(s);
  }
  assert(s.queue.empty());
  s.writer_exited.set();
}

}  // namespace internal
}  // namespace kiln::wal
