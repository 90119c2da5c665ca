// The WAL's known bugs (engine/runtime/bugs.h). Method: each test runs one small scenario on the
// simulated disk twice, first with every bug off (the default), where the contract holds, then
// with one bug enabled by name, where the scenario must misbehave in exactly the way the bug's
// name says. So a bug that stopped changing behaviour, or leaked into the default, fails here.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/runtime/bugs.h"
#include "tests/wal/wal_test_util.h"

namespace kiln::wal {
namespace {

using testing::RecordOffset;
using testing::WalRig;

constexpr size_t kPayloadBytes = 20;

std::string Payload(int i) {
  std::string p = "payload-" + std::to_string(i) + "-";
  p.resize(kPayloadBytes, '.');
  return p;
}

// Enables one bug for a scope.
class BugScope {
 public:
  explicit BugScope(const char* name) {
    Status st = BugRegistry::Instance().enable(name);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  ~BugScope() { BugRegistry::Instance().disable_all(); }
};

void AppendEach(WalRig& rig, int n) {
  for (int i = 1; i <= n; ++i) ASSERT_TRUE(rig.Append(Payload(i)).ok());
}

TEST(WalBugs, EachIsRegisteredAndOffByDefault) {
  const char* names[] = {"wal-crc-unchecked", "wal-midlog-corruption-truncated",
                         "wal-partial-record-kept", "wal-sync-retried", "wal-ioerror-as-eof"};
  for (const char* name : names) {
    bool found = false;
    for (const BugRegistry::Bug* bug : BugRegistry::Instance().list()) {
      if (bug->name != name) continue;
      found = true;
      EXPECT_FALSE(bug->enabled) << name;
      EXPECT_FALSE(bug->description.empty()) << name;
    }
    EXPECT_TRUE(found) << name << " is not registered";
  }
}

// Five synced records, then one payload byte of LSN 2 damaged on the disk.
Status OpenAfterMidLogDamage(WalRig& rig) {
  EXPECT_TRUE(rig.Open().ok());
  AppendEach(rig, 5);
  EXPECT_TRUE(rig.Close().ok());
  rig.FlipByte(rig.SegmentPath(1), RecordOffset(1, 2, kPayloadBytes) + 30);
  return rig.Open();
}

TEST(WalBugs, CrcUncheckedAppliesADamagedRecord) {
  {
    WalRig rig;
    EXPECT_TRUE(OpenAfterMidLogDamage(rig).IsCorruption());
  }
  BugScope bug("wal-crc-unchecked");
  WalRig rig;
  ASSERT_TRUE(OpenAfterMidLogDamage(rig).ok()) << "the damage goes unnoticed";
  Result<std::vector<Record>> records = rig.Read(1);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 5u);
  EXPECT_NE((*records)[1].payload, Payload(2)) << "LSN 2 is read back damaged";
}

TEST(WalBugs, MidLogCorruptionTruncatedDropsAcknowledgedRecords) {
  {
    WalRig rig;
    EXPECT_TRUE(OpenAfterMidLogDamage(rig).IsCorruption());
    EXPECT_TRUE(*rig.disk.exists(rig.SegmentPath(1) + ".quarantine"));
  }
  BugScope bug("wal-midlog-corruption-truncated");
  WalRig rig;
  ASSERT_TRUE(OpenAfterMidLogDamage(rig).ok()) << "the log opens silently";
  EXPECT_EQ(rig.wal->durable_lsn(), 1u) << "acknowledged LSN 2..5 are gone";
  EXPECT_FALSE(*rig.disk.exists(rig.SegmentPath(1) + ".quarantine"));
}

// LSN 1 synced; the write of LSN 2 lands 30 bytes and fails; then one more append. Returns that
// append's result; `rig` is reopened afterwards.
Result<Lsn> AppendAfterTornWrite(WalRig& rig) {
  EXPECT_TRUE(rig.Open().ok());
  AppendEach(rig, 1);
  rig.knobs.tear_next_write_bytes = 30;
  EXPECT_TRUE(rig.Append(Payload(2)).status().IsUnknown());
  Result<Lsn> next = rig.Append(Payload(3));
  EXPECT_TRUE(rig.Close().ok());
  EXPECT_TRUE(rig.Open().ok());
  return next;
}

TEST(WalBugs, PartialRecordKeptLosesTheRecordsAfterIt) {
  {
    WalRig rig;
    EXPECT_TRUE(AppendAfterTornWrite(rig).status().IsUnavailable());
    EXPECT_EQ(rig.wal->durable_lsn(), 1u);
  }
  BugScope bug("wal-partial-record-kept");
  WalRig rig;
  Result<Lsn> next = AppendAfterTornWrite(rig);
  ASSERT_TRUE(next.ok()) << "the log went on after the partial record";
  EXPECT_LT(rig.wal->durable_lsn(), *next) << "the acknowledged record after it is lost";
}

// LSN 1 synced; the sync of LSN 2 fails once (a retry would "succeed": Linux marks the pages
// clean). Returns the append's result; then power is lost and the log reopened.
Result<Lsn> AppendWithFailedSyncThenPowerLoss(WalRig& rig) {
  EXPECT_TRUE(rig.Open().ok());
  AppendEach(rig, 1);
  simfs::DiskFaults faults;
  faults.sync_error_p = 1;
  rig.disk.set_faults(faults);
  rig.trace.set_fault_mask({rig.trace.fault_candidates() + 1});  // Only the next sync fails.
  Result<Lsn> r = rig.Append(Payload(2));
  rig.disk.set_faults({});
  rig.CrashAndReboot(simfs::CrashChoice::kKeepNone);
  EXPECT_TRUE(rig.Open().ok());
  return r;
}

TEST(WalBugs, SyncRetriedAcknowledgesRecordsThatAreNotDurable) {
  {
    WalRig rig;
    EXPECT_TRUE(AppendWithFailedSyncThenPowerLoss(rig).status().IsUnknown());
  }
  BugScope bug("wal-sync-retried");
  WalRig rig;
  Result<Lsn> r = AppendWithFailedSyncThenPowerLoss(rig);
  ASSERT_TRUE(r.ok()) << "the retried sync acknowledged the record";
  EXPECT_EQ(*r, 2u);
  EXPECT_EQ(rig.wal->durable_lsn(), 1u) << "the acknowledged LSN 2 was never durable";
}

// Four synced records; then every read fails while the log is opened.
Status OpenWhileReadsFail(WalRig& rig) {
  EXPECT_TRUE(rig.Open().ok());
  AppendEach(rig, 4);
  EXPECT_TRUE(rig.Close().ok());
  simfs::DiskFaults faults;
  faults.read_error_p = 1;
  rig.disk.set_faults(faults);
  Status st = rig.Open();
  rig.disk.set_faults({});
  return st;
}

TEST(WalBugs, IOErrorAsEofOpensAShorterLog) {
  {
    WalRig rig;
    EXPECT_TRUE(OpenWhileReadsFail(rig).IsIOError());
  }
  BugScope bug("wal-ioerror-as-eof");
  WalRig rig;
  ASSERT_TRUE(OpenWhileReadsFail(rig).ok()) << "the read error was taken for the end";
  EXPECT_LT(rig.wal->durable_lsn(), 4u) << "acknowledged records are gone";
}

}  // namespace
}  // namespace kiln::wal
