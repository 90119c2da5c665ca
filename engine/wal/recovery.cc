// Wal::Open and recovery: lock the directory, read every segment in full, classify what is found
// (segment_scan.h), then either refuse (quarantine a corrupt segment and name the LSNs at stake)
// or cut a torn tail and make what survived durable before the first new append.
#include <algorithm>
#include <cassert>

#include "engine/runtime/bugs.h"
#include "engine/wal/format.h"
#include "engine/wal/record.h"
#include "engine/wal/segment_scan.h"
#include "engine/wal/wal_state.h"

namespace kiln::wal {

KILN_DEFINE_BUG(ioerror_as_eof, "wal-ioerror-as-eof",
                "WAL recovery treats an I/O error while reading a segment as the segment's end, "
                "so the log opens shorter and the records after the error are lost");

namespace internal {
namespace {

KILN_DEFINE_BUG(trust_page_cache, "wal-trust-page-cache",
                "WAL recovery syncs the last segment without rewriting it, trusting bytes a failed "
                "sync before a restart left clean but not durable in the page cache");

constexpr size_t kReadChunkBytes = size_t{1} << 20;

std::string Join(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(name);
}

Status ValidateOptions(const WalOptions& o) {
  if (Status s = ValidatePath(o.dir); !s.ok()) return s.WithContext("wal options: dir");
  if (o.batch_bytes_max == 0) return Status::InvalidArgument("wal options: batch_bytes_max is 0");
  const uint64_t needed = format::kSegmentHeaderBytes + RecordBytes(o.record_bytes_max);
  if (o.segment_bytes < needed) {
    return Status::InvalidArgument(
        "wal options: segment_bytes " + std::to_string(o.segment_bytes) +
        " cannot hold a header and one record of record_bytes_max; needs " +
        std::to_string(needed));
  }
  return Status::Ok();
}

// Every byte of the file at `path`. An I/O error is an error, never the end of the file.
Task<Result<std::vector<std::byte>>> ReadWhole(FileSystem& fs, std::string path) {
  Result<std::unique_ptr<File>> f = co_await fs.open(path, {.read_only = true});
  if (!f.ok()) co_return f.status().WithContext("wal recovery: open " + path);
  Result<uint64_t> size = co_await (*f)->size();
  if (!size.ok()) co_return size.status().WithContext("wal recovery: size " + path);
  std::vector<std::byte> bytes(*size);
  uint64_t offset = 0;
  while (offset < bytes.size()) {  // Bounded: each pass reads at least one byte or stops.
    const size_t n = std::min<uint64_t>(kReadChunkBytes, bytes.size() - offset);
    const std::span<std::byte> into = std::span<std::byte>(bytes).subspan(offset, n);
    Result<size_t> got = co_await (*f)->read_at(offset, into);
    if (!got.ok()) {
      if (KILN_BUG(ioerror_as_eof)) {
        bytes.resize(offset);
        break;
      }
      co_return got.status().WithContext("wal recovery: read " + path);
    }
    if (*got == 0) {  // Shorter than its size said: a short read happens only at the end.
      bytes.resize(offset);
      break;
    }
    offset += *got;
  }
  static_cast<void>(co_await (*f)->close());  // Read-only: nothing to lose.
  assert(bytes.size() <= *size);
  co_return bytes;
}

std::string StakeText(Lsn lo, Lsn hi) {
  if (hi == 0 || hi < lo) return "records from LSN " + std::to_string(lo) + " on are at stake";
  return "records LSN " + std::to_string(lo) + " to " + std::to_string(hi) + " are at stake";
}

// Renames the segment out of the way (durably) and returns the Corruption that fails Open.
Task<Status> Quarantine(WalState& s, std::string path, std::string what) {
  const std::string to = path + std::string(format::kQuarantineSuffix);
  Status moved = co_await s.fs.rename(path, to);
  if (moved.ok()) moved = co_await s.fs.sync_directory(s.options.dir);
  std::string msg = "wal segment " + path + ": " + what;
  msg += moved.ok() ? "; segment moved to " + to
                    : "; could not move it to " + to + ": " + moved.ToString();
  co_return Status::Corruption(msg);
}

// The segment files in LSN order, after refusing to open past an earlier quarantine.
Task<Result<std::vector<Lsn>>> ListSegments(WalState& s) {
  Result<std::vector<std::string>> names = co_await s.fs.list(s.options.dir);
  if (!names.ok()) co_return names.status().WithContext("wal recovery: list " + s.options.dir);
  std::vector<Lsn> lsns;
  for (const std::string& name : *names) {
    if (name.ends_with(format::kQuarantineSuffix)) {
      co_return Status::Corruption("wal: " + Join(s.options.dir, name) +
                                   " holds records recovery could not vouch for; "
                                   "restore or remove it before the log can open");
    }
    if (std::optional<Lsn> lsn = ParseSegmentName(name)) lsns.push_back(*lsn);
  }
  std::sort(lsns.begin(), lsns.end());
  co_return lsns;
}

// Reads and scans one segment; a damaged-looking one is read a second time, so that a transient
// bad read (a flipped bit in transit) is not mistaken for damage on the disk.
Task<Result<SegmentScan>> ReadAndScan(WalState& s, std::string path, Lsn lsn, bool is_last,
                                      uint64_t* size_bytes) {
  SegmentScan scan;
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<std::vector<std::byte>> bytes = co_await ReadWhole(s.fs, path);
    if (!bytes.ok()) co_return bytes.status();
    *size_bytes = bytes->size();
    scan = ScanSegment(*bytes, lsn, is_last, s.options.record_bytes_max);
    if (scan.verdict == SegmentScan::Verdict::kClean) break;
  }
  co_return scan;
}

// Adds one scanned segment, or explains why the log cannot open (Corruption, quarantined).
Task<Status> AcceptSegment(WalState& s, std::string path, const SegmentScan& scan,
                           Lsn next_first_lsn) {
  using Verdict = SegmentScan::Verdict;
  if (scan.verdict == Verdict::kCorrupt) {
    Lsn hi = scan.stake_lsn_max;
    if (hi == 0 && next_first_lsn != 0) hi = next_first_lsn - 1;  // Up to the next segment.
    std::string what = scan.problem + " at offset " + std::to_string(scan.problem_offset) + "; " +
                       StakeText(scan.stake_lsn_min, hi);
    co_return co_await Quarantine(s, path, std::move(what));
  }
  if (!s.segments.empty() && scan.first_lsn != s.segments.back().last_lsn + 1) {
    const Lsn lo = s.segments.back().last_lsn + 1;
    std::string what = "first LSN " + std::to_string(scan.first_lsn) + " does not follow LSN " +
                       std::to_string(lo - 1) + " of the segment before; " +
                       StakeText(lo, scan.first_lsn - 1);
    co_return co_await Quarantine(s, path, std::move(what));
  }
  s.segments.push_back({scan.first_lsn, path, scan.last_lsn, scan.end_bytes, scan.index});
  co_return Status::Ok();
}

// Reads every segment in order and keeps the good ones. A torn rotation (the last segment's
// header never became durable) is removed.
Task<Status> ScanAll(WalState& s, const std::vector<Lsn>& lsns, Lsn* floor_lsn) {
  for (size_t i = 0; i < lsns.size(); ++i) {
    const std::string path = Join(s.options.dir, SegmentName(lsns[i]));
    const bool is_last = i + 1 == lsns.size();
    uint64_t size_bytes = 0;
    Result<SegmentScan> scan = co_await ReadAndScan(s, path, lsns[i], is_last, &size_bytes);
    if (!scan.ok()) co_return scan.status();
    if (scan->verdict == SegmentScan::Verdict::kTornHeader) {
      assert(is_last);
      Status st = co_await s.fs.remove(path);
      if (!st.ok()) co_return st.WithContext("wal recovery: remove torn segment " + path);
      s.report.torn_tail_bytes += size_bytes;
      *floor_lsn = lsns[i];  // Its name was the next LSN to write.
      continue;
    }
    const Lsn next_first = is_last ? 0 : lsns[i + 1];
    Status st = co_await AcceptSegment(s, path, *scan, next_first);
    if (!st.ok()) co_return st;
    if (is_last) s.report.torn_tail_bytes += size_bytes - scan->end_bytes;
  }
  co_return Status::Ok();
}

// Cuts the last segment at its good end and makes what survived durable (a process crash leaves
// unsynced records in the page cache: they must not be reported durable before this sync).
Task<Status> SettleLastSegment(WalState& s) {
  SegmentInfo& last = s.segments.back();
  Result<std::unique_ptr<File>> f = co_await s.fs.open(last.path, {});
  if (!f.ok()) co_return f.status().WithContext("wal recovery: open " + last.path);
  Result<uint64_t> size = co_await (*f)->size();
  if (!size.ok()) co_return size.status().WithContext("wal recovery: size " + last.path);
  if (*size > last.end_bytes) {
    Status st = co_await (*f)->truncate(last.end_bytes);
    if (!st.ok()) co_return st.WithContext("wal recovery: cut the torn tail of " + last.path);
  }
  // A sync that failed before this process started (fsyncgate) may have left these bytes clean
  // in the page cache but not on disk: reading them back proves nothing, and a sync now would
  // write nothing. So the surviving bytes are copied into a fresh file, synced, and renamed over
  // the segment (atomic: the old file stays whole until the copy is durable). Rewriting in place
  // would not do: a crash mid-rewrite could tear bytes that were durable before.
  if (!KILN_BUG(trust_page_cache) && last.end_bytes > 0) {
    std::vector<std::byte> bytes(last.end_bytes);
    Result<size_t> n = co_await (*f)->read_at(0, std::span<std::byte>(bytes));
    if (!n.ok()) co_return n.status().WithContext("wal recovery: reread " + last.path);
    if (*n != bytes.size()) {
      co_return Status::IOError("wal recovery: " + last.path + " shrank while recovering");
    }
    const std::string copy_path = last.path + ".copy";
    Result<std::unique_ptr<File>> copy =
        co_await s.fs.open(copy_path, {.create = true, .truncate = true});
    if (!copy.ok()) co_return copy.status().WithContext("wal recovery: create " + copy_path);
    Status st = co_await (*copy)->write_at(0, std::span<const std::byte>(bytes));
    if (st.ok()) st = co_await (*copy)->sync();
    if (st.ok()) st = co_await (*copy)->close();
    if (!st.ok()) co_return st.WithContext("wal recovery: copy " + last.path);
    (void)co_await (*f)->close();
    st = co_await s.fs.rename(copy_path, last.path);
    if (st.ok()) st = co_await s.fs.sync_directory(s.options.dir);
    if (!st.ok()) co_return st.WithContext("wal recovery: replace " + last.path);
    f = co_await s.fs.open(last.path, {});
    if (!f.ok()) co_return f.status().WithContext("wal recovery: reopen " + last.path);
  }
  Status st = co_await (*f)->sync();
  if (!st.ok()) co_return st.WithContext("wal recovery: sync " + last.path);
  s.current = std::move(*f);
  s.current_allocated = false;  // The writer reserves the space before its first write.
  s.write_offset = last.end_bytes;
  co_return Status::Ok();
}

}  // namespace

Task<Status> Recover(WalState& s) {
  if (Status st = ValidateOptions(s.options); !st.ok()) co_return st;
  const std::string& dir = s.options.dir;
  Status st = co_await s.fs.create_dir(dir);
  if (st.ok()) st = co_await s.fs.sync_directory(ParentDir(dir));
  if (!st.ok()) co_return st.WithContext("wal: create " + dir);
  Result<std::unique_ptr<FileLock>> lock = co_await s.fs.lock(Join(dir, format::kLockName));
  if (!lock.ok()) co_return lock.status().WithContext("wal: lock " + dir);
  s.lock = std::move(*lock);
  Result<std::vector<Lsn>> lsns = co_await ListSegments(s);
  if (!lsns.ok()) co_return lsns.status();
  Lsn floor_lsn = 1;
  st = co_await ScanAll(s, *lsns, &floor_lsn);
  if (!st.ok()) co_return st;
  if (!s.segments.empty()) {
    st = co_await SettleLastSegment(s);
    if (!st.ok()) co_return st;
  }
  st = co_await s.fs.sync_directory(dir);
  if (!st.ok()) co_return st.WithContext("wal recovery: sync " + dir);
  s.durable_lsn = s.segments.empty() ? floor_lsn - 1 : s.segments.back().last_lsn;
  s.next_lsn = s.durable_lsn + 1;
  const Lsn first = s.segments.empty() ? 0 : s.segments.front().first_lsn;
  s.report.first_lsn = first != 0 && first <= s.durable_lsn ? first : 0;
  s.report.last_lsn = s.durable_lsn;
  s.report.segments = s.segments.size();
  assert(s.next_lsn >= 1);
  co_return Status::Ok();
}

}  // namespace internal

Task<Result<std::unique_ptr<Wal>>> Wal::Open(FileSystem& fs, Scheduler& scheduler,
                                             WalOptions options) {
  auto state = std::make_shared<internal::WalState>(fs, scheduler, std::move(options));
  Status st = co_await internal::Recover(*state);
  if (!st.ok()) co_return st;
  // Spawned from the caller's coroutine, the writer joins the caller's process.
  scheduler.spawn(internal::WriterLoop(state), "wal-writer");
  co_return internal::MakeWal(std::move(state));
}

}  // namespace kiln::wal
