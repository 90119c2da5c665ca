// Reading durable records back from the segment files: find the segment and the indexed offset
// at or before the wanted LSN, then read forward in chunks, decoding each record with the one
// decoder. Only bytes below a segment's durable end are read, so no unsynced record is seen.
#include <algorithm>
#include <cassert>
#include <optional>

#include "engine/wal/format.h"
#include "engine/wal/record.h"
#include "engine/wal/segment_scan.h"
#include "engine/wal/wal_state.h"

namespace kiln::wal::internal {
namespace {

constexpr uint64_t kReadChunkBytes = uint64_t{64} << 10;

// What a read needs of a segment, copied: the writer and truncate_before change the list while
// the read is suspended.
struct ReadPlan {
  std::string path;
  uint64_t start_offset = 0;
  Lsn start_lsn = 0;  // The LSN of the record at start_offset.
  Lsn last_lsn = 0;   // Read no further than this.
  uint64_t end_bytes = 0;
};

// The plan for reading from `from`: the last segment whose first LSN is at most `from`, from its
// index entry at or before `from`. nullopt if no segment holds `from`.
std::optional<ReadPlan> Plan(const WalState& s, Lsn from, Lsn durable) {
  for (auto it = s.segments.rbegin(); it != s.segments.rend(); ++it) {
    if (it->first_lsn > from) continue;
    if (from > it->last_lsn || it->index.empty()) return std::nullopt;
    auto entry = std::upper_bound(it->index.begin(), it->index.end(), from,
                                  [](Lsn lsn, const auto& e) { return lsn < e.first; });
    assert(entry != it->index.begin());
    --entry;
    assert(entry->first <= from);
    return ReadPlan{it->path, entry->second, entry->first, std::min(it->last_lsn, durable),
                    it->end_bytes};
  }
  return std::nullopt;
}

// A window of a file's bytes: buf holds [offset, offset + buf.size()).
struct Window {
  std::vector<std::byte> buf;
  uint64_t offset = 0;

  bool covers(uint64_t at, uint64_t n) const {
    return at >= offset && at + n <= offset + buf.size();
  }
  std::span<const std::byte> from(uint64_t at) const {
    assert(at >= offset && at <= offset + buf.size());
    return std::span<const std::byte>(buf).subspan(at - offset);
  }
};

// Makes `w` cover [at, at + n), reading at least a chunk; never past `end`.
Task<Status> Fill(File& file, const ReadPlan& plan, uint64_t at, uint64_t n, Window* w) {
  assert(at + n <= plan.end_bytes);
  if (w->covers(at, n)) co_return Status::Ok();
  const uint64_t want = std::min(std::max(n, kReadChunkBytes), plan.end_bytes - at);
  w->buf.assign(want, std::byte{0});
  w->offset = at;
  uint64_t got = 0;
  while (got < want) {  // Bounded: each pass reads at least one byte or returns.
    const std::span<std::byte> into = std::span<std::byte>(w->buf).subspan(got);
    Result<size_t> r = co_await file.read_at(at + got, into);
    if (!r.ok()) co_return r.status().WithContext("wal: read " + plan.path);
    if (*r == 0) {
      w->buf.clear();
      co_return Status::Corruption("wal: " + plan.path + " ends at " + std::to_string(at + got) +
                                   ", before its durable end " + std::to_string(plan.end_bytes));
    }
    got += *r;
  }
  assert(w->covers(at, n));
  co_return Status::Ok();
}

// Decodes the record at `at`, reading what it needs into `w`.
Task<Result<DecodedRecord>> ReadRecord(File& file, const ReadPlan& plan, uint64_t at, Lsn lsn,
                                       uint32_t record_bytes_max, Window* w) {
  const uint64_t left = plan.end_bytes - at;
  Status st =
      co_await Fill(file, plan, at, std::min<uint64_t>(format::kRecordHeaderBytes, left), w);
  if (!st.ok()) co_return st;
  if (left >= format::kRecordHeaderBytes) {
    const uint64_t length = LoadU32(w->from(at), format::kRecordLengthOffset);
    st = co_await Fill(file, plan, at, std::min<uint64_t>(RecordBytes(length), left), w);
    if (!st.ok()) co_return st;
  }
  const std::span<const std::byte> bytes =
      w->from(at).first(std::min<uint64_t>(left, w->offset + w->buf.size() - at));
  co_return DecodeRecord(bytes, lsn, record_bytes_max);
}

// Appends records [from, plan.last_lsn] (up to records_max in all) to `out`; returns the next LSN
// to read.
Task<Result<Lsn>> ReadSegment(WalState& s, const ReadPlan& plan, Lsn from, size_t records_max,
                              std::vector<Record>* out) {
  Result<std::unique_ptr<File>> f = co_await s.fs.open(plan.path, {.read_only = true});
  if (!f.ok()) co_return f.status().WithContext("wal: read_from");
  Window w;
  uint64_t at = plan.start_offset;
  Lsn lsn = plan.start_lsn;
  while (lsn <= plan.last_lsn && out->size() < records_max) {  // Bounded by last_lsn.
    Result<DecodedRecord> r =
        co_await ReadRecord(**f, plan, at, lsn, s.options.record_bytes_max, &w);
    if (!r.ok() && r.status().IsCorruption()) {  // Read once more: a bad read is not bad data.
      w.buf.clear();
      r = co_await ReadRecord(**f, plan, at, lsn, s.options.record_bytes_max, &w);
    }
    if (r.ok() && r->end) r = Status::Corruption("the record is missing (zeros)");
    if (!r.ok()) {
      const std::string where = "wal: " + plan.path + " at offset " + std::to_string(at) +
                                ", durable LSN " + std::to_string(lsn);
      // An I/O error stays an I/O error (it may pass); only bad bytes are Corruption.
      if (!r.status().IsCorruption()) co_return r.status().WithContext(where);
      co_return Status::Corruption(where + ": " + r.status().ToString());
    }
    if (lsn >= from) {
      const auto* chars = reinterpret_cast<const char*>(r->payload.data());
      out->push_back(Record{lsn, r->type, std::string(chars, r->payload.size())});
    }
    at += r->size_bytes;
    ++lsn;
  }
  static_cast<void>(co_await (*f)->close());  // Read-only: nothing to lose.
  co_return lsn;
}

}  // namespace

Task<Result<std::vector<Record>>> ReadFromSegments(std::shared_ptr<WalState> state, Lsn from,
                                                   size_t records_max) {
  WalState& s = *state;
  std::vector<Record> out;
  const Lsn durable = s.durable_lsn;
  if (!s.segments.empty()) from = std::max(from, s.segments.front().first_lsn);
  while (out.size() < records_max && from <= durable) {  // Each pass moves `from` on or stops.
    std::optional<ReadPlan> plan = Plan(s, from, durable);
    if (!plan) break;  // Truncated away while we read.
    Result<Lsn> next = co_await ReadSegment(s, *plan, from, records_max, &out);
    if (!next.ok()) co_return next.status();
    assert(*next > from);
    from = *next;
  }
  assert(out.size() <= records_max);
  co_return out;
}

}  // namespace kiln::wal::internal
