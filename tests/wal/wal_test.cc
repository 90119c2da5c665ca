// The WAL on the simulated disk. Method: each test opens a Wal over a SimFileSystem on a seeded
// SimScheduler and drives appends from coroutines; it reaches into the SimDisk to crash it, fill
// it, fail one operation or damage a synced byte; then it reopens the log and checks what
// recovery kept against what was acknowledged (WalRig::ExpectHolds).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/buggify.h"
#include "engine/runtime/bugs.h"
#include "tests/wal/wal_test_util.h"

namespace kiln::wal {
namespace {

using simfs::CrashChoice;
using testing::Acked;
using testing::RecordOffset;
using testing::WalRig;

std::string Payload(int i, size_t size = 20) {
  std::string p = "record-" + std::to_string(i) + "-";
  p.resize(size, static_cast<char>('a' + i % 26));
  return p;
}

// Appends `n` records one at a time (each in its own batch); returns them.
std::vector<Acked> AppendEach(WalRig& rig, int n, size_t size = 20) {
  std::vector<Acked> acked;
  for (int i = 1; i <= n; ++i) {
    Result<Lsn> lsn = rig.Append(Payload(i, size));
    EXPECT_TRUE(lsn.ok()) << lsn.status().ToString();
    if (lsn.ok()) acked.push_back({*lsn, Payload(i, size)});
  }
  return acked;
}

// Spawns `n` concurrent appends of Payload(first..first+n-1); results land in `out`.
void SpawnAppends(WalRig& rig, int first, int n, std::vector<std::optional<Result<Lsn>>>* out) {
  out->resize(n);
  for (int i = 0; i < n; ++i) {
    rig.scheduler.spawn(testing::CaptureInto(rig.wal->append(1, Payload(first + i)), &(*out)[i]),
                        "appender");
  }
}

bool AllDone(const std::vector<std::optional<Result<Lsn>>>& results) {
  return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
}

TEST(Wal, AppendAckReopenRoundTrip) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  EXPECT_EQ(rig.wal->durable_lsn(), 0u);
  EXPECT_EQ(rig.wal->first_lsn(), 0u);
  std::vector<Acked> acked = AppendEach(rig, 3);
  ASSERT_EQ(acked.size(), 3u);
  for (size_t i = 0; i < acked.size(); ++i) EXPECT_EQ(acked[i].lsn, i + 1);
  EXPECT_EQ(rig.wal->durable_lsn(), 3u);
  EXPECT_EQ(rig.wal->first_lsn(), 1u);
  rig.ExpectHolds(acked, {Payload(1), Payload(2), Payload(3)});
  ASSERT_TRUE(rig.Close().ok());

  ASSERT_TRUE(rig.Open().ok());
  const RecoveryReport& report = rig.wal->recovery();
  EXPECT_EQ(report.first_lsn, 1u);
  EXPECT_EQ(report.last_lsn, 3u);
  EXPECT_EQ(report.segments, 1u);
  EXPECT_EQ(report.torn_tail_bytes, 0u);
  rig.ExpectHolds(acked, {Payload(1), Payload(2), Payload(3)});  // From disk: the cache is empty.
  Result<Lsn> next = rig.Append("after reopen", 7);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 4u);
  Result<std::vector<Record>> tail = rig.Read(4);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].type, 7);
  EXPECT_EQ((*tail)[0].payload, "after reopen");
}

TEST(Wal, GroupCommitSharesOneSyncAmongConcurrentAppends) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  const uint64_t syncs_before = rig.WalSyncs();
  std::vector<std::optional<Result<Lsn>>> results;
  SpawnAppends(rig, 1, 64, &results);
  rig.RunUntil([&results] { return AllDone(results); });
  std::set<Lsn> lsns;
  std::vector<Acked> acked;
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(results[i].has_value());
    ASSERT_TRUE(results[i]->ok()) << results[i]->status().ToString();
    lsns.insert(**results[i]);
    acked.push_back({**results[i], Payload(1 + i)});
  }
  EXPECT_EQ(lsns.size(), 64u);
  EXPECT_EQ(*lsns.begin(), 1u);
  EXPECT_EQ(*lsns.rbegin(), 64u);
  const uint64_t syncs = rig.WalSyncs() - syncs_before;
  EXPECT_GE(syncs, 2u);  // The segment's header, then at least one batch.
  EXPECT_LT(syncs, 20u) << "64 concurrent appends should share syncs";
  EXPECT_EQ(rig.knobs.syncs, syncs);
  std::vector<std::string> submitted;
  for (const Acked& a : acked) submitted.push_back(a.payload);
  rig.ExpectHolds(acked, submitted);
}

TEST(Wal, LsnsStayInOrderAcrossSegmentRotations) {
  WalRig rig;
  rig.options.segment_bytes = 512;
  rig.options.record_bytes_max = 64;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<Acked> acked;
  std::vector<std::string> submitted;
  for (int wave = 0; wave < 5; ++wave) {
    std::vector<std::optional<Result<Lsn>>> results;
    SpawnAppends(rig, wave * 20 + 1, 20, &results);
    rig.RunUntil([&results] { return AllDone(results); });
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(results[i]->ok()) << results[i]->status().ToString();
      acked.push_back({**results[i], Payload(wave * 20 + 1 + i)});
      submitted.push_back(Payload(wave * 20 + 1 + i));
    }
  }
  EXPECT_EQ(rig.wal->durable_lsn(), 100u);
  EXPECT_GT(rig.Segments().size(), 5u);
  rig.ExpectHolds(acked, submitted);
  ASSERT_TRUE(rig.Close().ok());
  ASSERT_TRUE(rig.Open().ok());
  EXPECT_EQ(rig.wal->recovery().segments, rig.Segments().size());
  rig.ExpectHolds(acked, submitted);
  // A window in the middle, read from disk.
  Result<std::vector<Record>> mid = rig.Read(37, 5);
  ASSERT_TRUE(mid.ok());
  ASSERT_EQ(mid->size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ((*mid)[i].lsn, 37 + i);
}

// A client appending `n` records one after another; what was acknowledged lands in `acked`.
Task<void> Client(Wal* wal, int id, int n, std::vector<Acked>* acked) {
  for (int k = 0; k < n; ++k) {
    const std::string payload = Payload(id * 1000 + k, 20 + (id * 7 + k) % 30);
    Result<Lsn> r = co_await wal->append(1, payload);
    if (!r.ok()) co_return;
    acked->push_back({*r, payload});
  }
}

// The disk keeps an arbitrary part of what was not synced (a prefix, any subset of sectors, torn
// sectors, lost directory operations); recovery must keep every acknowledged record, never
// invent one, open, and be idempotent.
TEST(Wal, PowerLossKeepsEveryAcknowledgedRecord) {
  const CrashChoice choices[] = {CrashChoice::kKeepNone, CrashChoice::kKeepAll,
                                 CrashChoice::kKeepPrefix, CrashChoice::kKeepSubset};
  const simfs::DirCrashMode modes[] = {simfs::DirCrashMode::kJournal, simfs::DirCrashMode::kPrefix,
                                       simfs::DirCrashMode::kAnySubset};
  constexpr int kClients = 6;
  constexpr int kRecordsPerClient = 25;
  uint64_t torn_tails = 0;
  uint64_t unacked_kept = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    simfs::DiskFaults faults;
    faults.crash_tears_sectors = true;
    faults.sector_bytes = 64;
    faults.dir_crash_mode = modes[seed % 3];
    WalRig rig(faults, seed);
    rig.options.segment_bytes = 2048;
    rig.options.record_bytes_max = 64;
    ASSERT_TRUE(rig.Open().ok());
    std::vector<std::string> submitted;
    std::vector<Acked> acked;
    for (int id = 1; id <= kClients; ++id) {
      for (int k = 0; k < kRecordsPerClient; ++k) {
        submitted.push_back(Payload(id * 1000 + k, 20 + (id * 7 + k) % 30));
      }
      rig.scheduler.spawn(Client(rig.wal.get(), id, kRecordsPerClient, &acked), "client");
    }
    // Run a seeded while (the whole workload takes about 290 steps), then pull the plug.
    rig.scheduler.run_until(nullptr, 10 + rig.sched_random.uniform(280));
    rig.CrashAndReboot(choices[seed % 4]);
    ASSERT_TRUE(rig.Open().ok());
    torn_tails += rig.wal->recovery().torn_tail_bytes > 0 ? 1 : 0;
    unacked_kept += rig.wal->durable_lsn() > acked.size() ? 1 : 0;
    rig.ExpectHolds(acked, submitted);
    const Lsn durable = rig.wal->durable_lsn();
    ASSERT_TRUE(rig.Close().ok());
    ASSERT_TRUE(rig.Open().ok());  // Recovery twice = recovery once.
    EXPECT_EQ(rig.wal->durable_lsn(), durable);
    EXPECT_EQ(rig.wal->recovery().torn_tail_bytes, 0u);
    rig.ExpectHolds(acked, submitted);
    Result<Lsn> next = rig.Append(Payload(999));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(*next, durable + 1);
  }
  // The test must have reached the cases it is for.
  EXPECT_GT(torn_tails, 10u);
  EXPECT_GT(unacked_kept, 10u);
}

TEST(Wal, TornTailIsCutAndTheLogGoesOnFromItsGoodEnd) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<Acked> acked = AppendEach(rig, 3);
  ASSERT_TRUE(rig.Close().ok());
  // A half-written record after the last good one, as a crash mid-write leaves it.
  const std::string path = rig.SegmentPath(1);
  Result<simfs::FileHandle> h = rig.disk.open(path, {});
  ASSERT_TRUE(h.ok());
  std::vector<std::byte> rec;
  EncodeRecord(4, 3, 1, testing::Bytes(Payload(4)), &rec);
  rec.resize(rec.size() / 2);
  ASSERT_TRUE(rig.disk.write(*h, RecordOffset(1, 4, 20), rec).ok());
  ASSERT_TRUE(rig.disk.sync(*h).ok());
  ASSERT_TRUE(rig.disk.close(*h).ok());

  ASSERT_TRUE(rig.Open().ok());
  EXPECT_EQ(rig.wal->durable_lsn(), 3u);
  EXPECT_EQ(rig.wal->recovery().torn_tail_bytes, rec.size());
  rig.ExpectHolds(acked, {Payload(1), Payload(2), Payload(3)});
  Result<Lsn> next = rig.Append(Payload(5));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 4u);
  acked.push_back({4, Payload(5)});
  ASSERT_TRUE(rig.Close().ok());
  ASSERT_TRUE(rig.Open().ok());
  rig.ExpectHolds(acked, {Payload(1), Payload(2), Payload(3), Payload(5)});
}

TEST(Wal, CorruptionBeforeTheTailQuarantinesAndNamesTheLsns) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  AppendEach(rig, 5);
  ASSERT_TRUE(rig.Close().ok());
  const std::string path = rig.SegmentPath(1);
  rig.FlipByte(path, RecordOffset(1, 2, 20) + format::kRecordHeaderBytes + 3);

  Status st = rig.Open();
  ASSERT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find(path), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("LSN 2 to 5"), std::string::npos) << st.ToString();
  EXPECT_TRUE(*rig.disk.exists(path + ".quarantine"));
  EXPECT_FALSE(*rig.disk.exists(path));
  // It stays refused: a quarantined segment must be dealt with, not skipped.
  st = rig.Open();
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find(".quarantine"), std::string::npos) << st.ToString();
}

TEST(Wal, DamageInAnEarlierSegmentIsCorruption) {
  WalRig rig;
  rig.options.segment_bytes = 256;
  rig.options.record_bytes_max = 64;
  ASSERT_TRUE(rig.Open().ok());
  AppendEach(rig, 12);
  ASSERT_GE(rig.Segments().size(), 2u);
  ASSERT_TRUE(rig.Close().ok());
  // The last record of the first segment: what a torn tail would look like, were it last.
  const std::optional<Lsn> second = ParseSegmentName(rig.Segments()[1]);
  ASSERT_TRUE(second.has_value());
  rig.FlipByte(rig.SegmentPath(1), RecordOffset(1, *second - 1, 20) + 30);
  Status st = rig.Open();
  ASSERT_TRUE(st.IsCorruption()) << st.ToString();
  const std::string range =
      "LSN " + std::to_string(*second - 1) + " to " + std::to_string(*second - 1);
  EXPECT_NE(st.message().find(range), std::string::npos) << st.ToString();
}

TEST(Wal, FailedSyncIsUnknownThenUnavailable) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<Acked> acked = AppendEach(rig, 2);
  simfs::DiskFaults faults;
  faults.sync_error_p = 1;
  rig.disk.set_faults(faults);
  Result<Lsn> r = rig.Append(Payload(3));
  EXPECT_TRUE(r.status().IsUnknown()) << r.status().ToString();
  EXPECT_TRUE(rig.wal->failure().IsIOError()) << rig.wal->failure().ToString();
  rig.disk.set_faults({});
  r = rig.Append(Payload(4));
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
  EXPECT_EQ(rig.wal->durable_lsn(), 2u);
  rig.ExpectHolds(acked, {Payload(1), Payload(2)});  // Reads go on.
  // After a restart, recovery decides: LSN 3 may or may not be there; the log works again.
  rig.CrashAndReboot(CrashChoice::kKeepNone);
  ASSERT_TRUE(rig.Open().ok());
  rig.ExpectHolds(acked, {Payload(1), Payload(2), Payload(3)});
  EXPECT_TRUE(rig.Append(Payload(5)).ok());
}

// A failed write's bytes may have landed whole: its outcome is Unknown, never "failed".
TEST(Wal, FailedWriteIsUnknownThenUnavailable) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<Acked> acked = AppendEach(rig, 2);
  simfs::DiskFaults faults;
  faults.write_error_p = 1;
  rig.disk.set_faults(faults);
  Result<Lsn> r = rig.Append(Payload(3));
  EXPECT_TRUE(r.status().IsUnknown()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("IOError"), std::string::npos) << r.status().ToString();
  rig.disk.set_faults({});
  r = rig.Append(Payload(4));
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
  EXPECT_TRUE(rig.wal->failure().IsIOError());
  ASSERT_TRUE(rig.Close().ok());
  ASSERT_TRUE(rig.Open().ok());
  rig.ExpectHolds(acked, {Payload(1), Payload(2), Payload(3)});
  EXPECT_TRUE(rig.Append(Payload(5)).ok());
}

TEST(Wal, TornWriteIsNeverFollowedByAnotherRecord) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<Acked> acked = AppendEach(rig, 1);
  rig.knobs.tear_next_write_bytes = 30;
  EXPECT_TRUE(rig.Append(Payload(2)).status().IsUnknown());
  EXPECT_TRUE(rig.Append(Payload(3)).status().IsUnavailable());
  ASSERT_TRUE(rig.Close().ok());
  ASSERT_TRUE(rig.Open().ok());
  EXPECT_EQ(rig.wal->durable_lsn(), 1u);
  EXPECT_EQ(rig.wal->recovery().torn_tail_bytes, 30u);
  rig.ExpectHolds(acked, {Payload(1)});
}

TEST(Wal, NoSpaceAtRotationWritesNothingAndTheLogGoesOn) {
  WalRig rig;
  rig.options.segment_bytes = 512;
  rig.options.record_bytes_max = 64;
  simfs::DiskFaults faults;
  faults.capacity_bytes = 700;  // One segment, not two.
  rig.disk.set_faults(faults);
  ASSERT_TRUE(rig.Open().ok());
  std::vector<Acked> acked;
  std::vector<std::string> submitted;
  Result<Lsn> r = Status::Unknown("not yet");
  for (int i = 1; i <= 100; ++i) {
    r = rig.Append(Payload(i));
    if (!r.ok()) break;
    acked.push_back({*r, Payload(i)});
    submitted.push_back(Payload(i));
  }
  ASSERT_TRUE(r.status().IsNoSpace()) << r.status().ToString();
  const Lsn durable = rig.wal->durable_lsn();
  EXPECT_EQ(durable, acked.size());
  EXPECT_EQ(rig.Segments().size(), 1u) << "nothing of the new segment may be left";
  EXPECT_TRUE(rig.wal->failure().ok()) << "NoSpace at rotation does not fail-stop";
  EXPECT_TRUE(rig.Append(Payload(500)).status().IsNoSpace());
  rig.ExpectHolds(acked, submitted);

  faults.capacity_bytes = UINT64_MAX;
  rig.disk.set_faults(faults);
  r = rig.Append(Payload(501));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, durable + 1) << "a failed append consumes no LSN";
  acked.push_back({*r, Payload(501)});
  submitted.push_back(Payload(501));
  EXPECT_EQ(rig.Segments().size(), 2u);
  ASSERT_TRUE(rig.Close().ok());
  ASSERT_TRUE(rig.Open().ok());
  rig.ExpectHolds(acked, submitted);
}

TEST(Wal, IOErrorWhileRecoveringFailsOpenRatherThanShorteningTheLog) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<Acked> acked = AppendEach(rig, 4);
  ASSERT_TRUE(rig.Close().ok());
  simfs::DiskFaults faults;
  faults.read_error_p = 1;
  rig.disk.set_faults(faults);
  Status st = rig.Open();
  EXPECT_TRUE(st.IsIOError()) << st.ToString();
  EXPECT_EQ(rig.wal, nullptr);
  rig.disk.set_faults({});
  ASSERT_TRUE(rig.Open().ok());  // Nothing was lost by the failed attempt.
  EXPECT_EQ(rig.wal->durable_lsn(), 4u);
  rig.ExpectHolds(acked, {Payload(1), Payload(2), Payload(3), Payload(4)});
}

TEST(Wal, TruncateBeforeDeletesOnlyWholeOldSegments) {
  WalRig rig;
  rig.options.segment_bytes = 256;
  rig.options.record_bytes_max = 64;
  ASSERT_TRUE(rig.Open().ok());
  AppendEach(rig, 30);
  const std::vector<std::string> before = rig.Segments();
  ASSERT_GE(before.size(), 4u);
  const Lsn third = *ParseSegmentName(before[2]);
  // Everything below `third + 1`: the first two segments go; the third holds `third` itself.
  ASSERT_TRUE(rig.Run(rig.wal->truncate_before(third + 1)).ok());
  std::vector<std::string> after = rig.Segments();
  ASSERT_EQ(after.size(), before.size() - 2);
  EXPECT_EQ(after[0], before[2]);
  EXPECT_EQ(rig.wal->first_lsn(), third);
  Result<std::vector<Record>> records = rig.Read(1);
  ASSERT_TRUE(records.ok());
  ASSERT_FALSE(records->empty());
  EXPECT_EQ(records->front().lsn, third);
  EXPECT_EQ(records->back().lsn, 30u);
  // Never the segment being written.
  ASSERT_TRUE(rig.Run(rig.wal->truncate_before(1000)).ok());
  after = rig.Segments();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0], before.back());
  ASSERT_TRUE(rig.Close().ok());
  ASSERT_TRUE(rig.Open().ok());
  EXPECT_EQ(rig.wal->first_lsn(), *ParseSegmentName(before.back()));
  EXPECT_EQ(rig.wal->durable_lsn(), 30u);
  Result<Lsn> next = rig.Append("31");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 31u);
}

// Found by spine (seed 236): a removal that failed dropped the segment from the list anyway, so
// the next truncate_before removed the ones after it and left a hole in the LSNs on disk.
TEST(Wal, ASegmentWhoseRemovalFailedIsRemovedFirstNextTime) {
  WalRig rig;
  rig.options.segment_bytes = 256;
  rig.options.record_bytes_max = 64;
  ASSERT_TRUE(rig.Open().ok());
  AppendEach(rig, 30);
  const std::vector<std::string> before = rig.Segments();
  ASSERT_GE(before.size(), 4u);
  simfs::DiskFaults faults;
  faults.metadata_error_p = 1;
  rig.disk.set_faults(faults);
  EXPECT_FALSE(rig.Run(rig.wal->truncate_before(1000)).ok());
  rig.disk.set_faults({});
  rig.disk.clear_sticky_errors();
  EXPECT_EQ(rig.Segments(), before);
  EXPECT_EQ(rig.wal->first_lsn(), 1u);
  const Lsn third = *ParseSegmentName(before[2]);
  ASSERT_TRUE(rig.Run(rig.wal->truncate_before(third)).ok());
  std::vector<std::string> after = rig.Segments();
  ASSERT_EQ(after.size(), before.size() - 2);
  EXPECT_EQ(after[0], before[2]) << "oldest first: no hole";
  ASSERT_TRUE(rig.Close().ok());
  ASSERT_TRUE(rig.Open().ok());
  EXPECT_EQ(rig.wal->durable_lsn(), 30u);
}

TEST(Wal, ATornRotationIsRemoved) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<Acked> acked = AppendEach(rig, 3);
  ASSERT_TRUE(rig.Close().ok());
  // The next segment was being created: its name is durable, its header is not.
  Result<simfs::FileHandle> h = rig.disk.open(rig.SegmentPath(4), {.create = true});
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(rig.disk.write(*h, 0, testing::Bytes("KILNW")).ok());
  ASSERT_TRUE(rig.disk.sync(*h).ok());
  ASSERT_TRUE(rig.disk.close(*h).ok());
  ASSERT_TRUE(rig.disk.sync_dir("wal").ok());
  ASSERT_TRUE(rig.Open().ok());
  EXPECT_EQ(rig.Segments().size(), 1u);
  rig.ExpectHolds(acked, {Payload(1), Payload(2), Payload(3)});
  Result<Lsn> next = rig.Append(Payload(4));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 4u);
}

TEST(Wal, TheLockKeepsASecondWalOut) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::unique_ptr<Wal> first = std::move(rig.wal);
  Status st = rig.Open();
  EXPECT_TRUE(st.IsUnavailable()) << st.ToString();
  rig.wal = std::move(first);
  ASSERT_TRUE(rig.Close().ok());
  EXPECT_TRUE(rig.Open().ok());
}

TEST(Wal, BadArgumentsAreInvalidArgument) {
  WalRig rig;
  rig.options.segment_bytes = 100;  // Cannot hold a header and a record of record_bytes_max.
  EXPECT_TRUE(rig.Open().IsInvalidArgument());
  rig.options.segment_bytes = 64 << 10;
  ASSERT_TRUE(rig.Open().ok());
  EXPECT_TRUE(
      rig.Append(std::string(rig.options.record_bytes_max + 1, 'x')).status().IsInvalidArgument());
  EXPECT_TRUE(rig.Append(std::string(rig.options.record_bytes_max, 'x')).ok());
  EXPECT_TRUE(rig.Append("").ok());
}

TEST(Wal, CloseWaitsForQueuedAppendsThenRefusesNewOnes) {
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<std::optional<Result<Lsn>>> results;
  SpawnAppends(rig, 1, 10, &results);
  Status closed = rig.Run(rig.wal->close());
  EXPECT_TRUE(closed.ok()) << closed.ToString();
  rig.RunUntil([&results] { return AllDone(results); });
  for (const auto& r : results) EXPECT_TRUE(r->ok()) << r->status().ToString();
  EXPECT_TRUE(rig.Append("late").status().IsUnavailable());
  rig.wal.reset();
  ASSERT_TRUE(rig.Open().ok());
  EXPECT_EQ(rig.wal->durable_lsn(), 10u);
}

// Fires every BUGGIFY site: tiny batches, early rotations, a yield before each sync.
class AlwaysBuggify final : public BuggifyContext {
 public:
  bool fire(const char*, int) override { return true; }
};

// Installs a BUGGIFY context for one scope.
class BuggifyScope {
 public:
  explicit BuggifyScope(BuggifyContext* context) { SetBuggify(context); }
  ~BuggifyScope() { SetBuggify(nullptr); }
};

TEST(Wal, BuggifiedPathsKeepTheContract) {
  AlwaysBuggify always;
  BuggifyScope scope(&always);
  WalRig rig;
  ASSERT_TRUE(rig.Open().ok());
  std::vector<std::optional<Result<Lsn>>> results;
  SpawnAppends(rig, 1, 30, &results);
  rig.RunUntil([&results] { return AllDone(results); });
  std::vector<Acked> acked;
  std::vector<std::string> submitted;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(results[i]->ok());
    acked.push_back({**results[i], Payload(1 + i)});
    submitted.push_back(Payload(1 + i));
  }
  EXPECT_GE(rig.WalSyncs(), 30u) << "tiny batches: one sync per record";
  EXPECT_GE(rig.Segments().size(), 10u) << "early rotations";
  ASSERT_TRUE(rig.Close().ok());
  ASSERT_TRUE(rig.Open().ok());
  rig.ExpectHolds(acked, submitted);
}

// The log under the simulator is deterministic: the same seed gives the same trace.
TEST(Wal, TheSameSeedGivesTheSameTrace) {
  uint64_t hashes[2] = {0, 0};
  for (uint64_t& hash : hashes) {
    WalRig rig({}, 7);
    ASSERT_TRUE(rig.Open().ok());
    std::vector<std::optional<Result<Lsn>>> results;
    SpawnAppends(rig, 1, 30, &results);
    rig.RunUntil([&results] { return AllDone(results); });
    ASSERT_TRUE(rig.Close().ok());
    hash = rig.trace.hash();
  }
  EXPECT_EQ(hashes[0], hashes[1]);
}

}  // namespace
}  // namespace kiln::wal
