// Tests of the strict serializability checker. Hand-written histories: valid ones that must pass
// (read-your-writes, adds, scans, read-only transactions at older versions, unknown commits
// resolved either way), and the classic anomalies (write skew, lost update, read skew, phantom,
// aborted read, stale read, an unknown commit seen half, duplicate versions, a lost add) that
// must fail with a message naming them: a checker that cannot fail proves nothing. Properties
// then generate random histories from a model of optimistic concurrency control (with lost
// outcomes), which must pass, and corrupt one committed read, which must then fail.
#include "properties/serializability.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

namespace kiln::properties {
namespace {

using Outcome = TxnRecord::Outcome;
using Rows = std::vector<std::pair<std::string, std::string>>;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// One transaction being recorded: steps chain, then one call completes it.
class Txn {
 public:
  Txn(TxnHistory& h, uint64_t from, uint64_t client = 0) : h_(h), i_(h.begin(client, from)) {}
  Txn& get(std::string k, std::optional<std::string> v) {
    h_.read(i_, std::move(k), std::move(v));
    return *this;
  }
  Txn& scan(std::string b, std::string e, size_t limit, Rows rows) {
    h_.scan(i_, std::move(b), std::move(e), limit, std::move(rows));
    return *this;
  }
  Txn& put(std::string k, std::string v) {
    h_.put(i_, std::move(k), std::move(v));
    return *this;
  }
  Txn& del(std::string k) {
    h_.del(i_, std::move(k));
    return *this;
  }
  Txn& add(std::string k, int64_t d) {
    h_.add(i_, std::move(k), d);
    return *this;
  }
  void commit(uint64_t read_version, uint64_t commit_version, uint64_t to) {
    h_.complete(i_, Outcome::kCommitted, read_version, commit_version, to);
  }
  void abort(uint64_t read_version, uint64_t to) {
    h_.complete(i_, Outcome::kAborted, read_version, 0, to);
  }
  void unknown(uint64_t read_version, uint64_t to) {
    h_.complete(i_, Outcome::kUnknown, read_version, 0, to);
  }
  // A pending transaction is simply never completed.

 private:
  TxnHistory& h_;
  size_t i_;
};

// x = 1, y = 1 at version 1, acknowledged at step 2.
TxnHistory Seeded() {
  TxnHistory h;
  Txn(h, 1).put("x", "1").put("y", "1").commit(0, 1, 2);
  return h;
}

TEST(Serializability, EmptyHistoryPasses) {
  TxnHistory h;
  EXPECT_TRUE(CheckSerializable(h).ok);
}

TEST(Serializability, SerialHistoryPasses) {
  TxnHistory h = Seeded();
  Txn(h, 3).get("x", "1").put("x", "2").commit(1, 2, 4);
  Txn(h, 5).get("x", "2").get("y", "1").get("z", std::nullopt).commit(2, 0, 6);
  Txn(h, 7).del("y").commit(2, 3, 8);
  Txn(h, 9).get("y", std::nullopt).commit(3, 0, 10);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, ReadYourWritesPasses) {
  TxnHistory h = Seeded();
  Txn(h, 3)
      .put("x", "mine")
      .get("x", "mine")
      .del("y")
      .get("y", std::nullopt)
      .scan("", "", 10, {{"x", "mine"}})
      .put("a", "new")
      .scan("", "", 10, {{"a", "new"}, {"x", "mine"}})
      .commit(1, 2, 4);
  Txn(h, 5).scan("", "", 10, {{"a", "new"}, {"x", "mine"}}).commit(2, 0, 6);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, ReadYourWritesViolationFails) {
  TxnHistory h = Seeded();
  Txn(h, 3).put("x", "mine").get("x", "1").commit(1, 2, 4);  // Did not see its own put.
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "its own earlier write")) << r.message;
}

TEST(Serializability, ConcurrentAddsBothCountAndReadBackTheSum) {
  TxnHistory h;
  // Both from read version 0, overlapping in time: adds do not read, so neither conflicts.
  Txn(h, 1).add("c", 2).commit(0, 1, 4);
  Txn(h, 2).add("c", 3).commit(0, 2, 5);
  Txn(h, 6).add("c", 1).get("c", "6").add("c", -10).get("c", "-4").commit(2, 3, 7);
  Txn(h, 8).get("c", "-4").commit(3, 0, 9);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, AddToNonIntegerFails) {
  TxnHistory h = Seeded();
  Txn(h, 3).put("s", "text").commit(1, 2, 4);
  Txn(h, 5).add("s", 1).commit(2, 3, 6);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "non-integer")) << r.message;
}

TEST(Serializability, ScansPass) {
  TxnHistory h;
  Txn(h, 1).put("a", "1").put("b", "2").put("c", "3").commit(0, 1, 2);
  Txn(h, 3)
      .scan("a", "", 2, {{"a", "1"}, {"b", "2"}})  // Full: covers a..b only.
      .scan("b", "c", 10, {{"b", "2"}})            // End is exclusive.
      .scan("d", "", 10, {})
      .commit(1, 0, 4);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, ScanMissingAKeyFails) {
  TxnHistory h;
  Txn(h, 1).put("a", "1").put("b", "2").commit(0, 1, 2);
  Txn(h, 3).scan("a", "", 10, {{"a", "1"}}).commit(1, 0, 4);  // Fewer than limit: claims all.
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "missed b")) << r.message;
}

TEST(Serializability, ScanWithWrongValueOrExtraKeyOrOverLimitFails) {
  {
    TxnHistory h;
    Txn(h, 1).put("a", "1").commit(0, 1, 2);
    Txn(h, 3).scan("a", "", 10, {{"a", "9"}}).commit(1, 0, 4);
    auto r = CheckSerializable(h);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(Contains(r.message, "returned a=9")) << r.message;
  }
  {
    TxnHistory h;
    Txn(h, 1).put("a", "1").commit(0, 1, 2);
    Txn(h, 3).scan("a", "", 10, {{"a", "1"}, {"b", "2"}}).commit(1, 0, 4);
    auto r = CheckSerializable(h);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(Contains(r.message, "that key is absent")) << r.message;
  }
  {
    TxnHistory h;
    Txn(h, 1).put("a", "1").put("b", "2").commit(0, 1, 2);
    Txn(h, 3).scan("a", "", 1, {{"a", "1"}, {"b", "2"}}).commit(1, 0, 4);
    auto r = CheckSerializable(h);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(Contains(r.message, "more rows than its limit")) << r.message;
  }
}

TEST(Serializability, ReadOnlyAtAnOlderVersionPasses) {
  TxnHistory h = Seeded();
  Txn(h, 3).put("x", "2").commit(1, 2, 6);
  // Began at step 4, before x=2 was acknowledged: its snapshot may be older.
  Txn(h, 4).get("x", "1").get("y", "1").commit(1, 0, 8);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, WriteSkewFails) {
  TxnHistory h = Seeded();
  // Both read x and y at version 1, each writes one of them, both commit.
  Txn(h, 3).get("x", "1").get("y", "1").put("x", "0").commit(1, 2, 5);
  Txn(h, 4).get("x", "1").get("y", "1").put("y", "0").commit(1, 3, 6);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "read inconsistent with the serial order")) << r.message;
  EXPECT_TRUE(Contains(r.message, "txn #2")) << r.message;  // The second to commit...
  EXPECT_TRUE(Contains(r.message, "txn #1")) << r.message;  // ...missed the first's write.
  EXPECT_TRUE(Contains(r.message, "should have failed with a conflict")) << r.message;
}

TEST(Serializability, LostUpdateFails) {
  TxnHistory h;
  Txn(h, 1).put("n", "0").commit(0, 1, 2);
  // Two read-modify-write increments from the same read version both commit.
  Txn(h, 3).get("n", "0").put("n", "1").commit(1, 2, 5);
  Txn(h, 4).get("n", "0").put("n", "1").commit(1, 3, 6);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "step 0 (get n -> 0)")) << r.message;
  EXPECT_TRUE(Contains(r.message, "txn #2")) << r.message;
}

TEST(Serializability, ReadSkewFails) {
  TxnHistory h;
  Txn(h, 1).put("a", "50").put("b", "50").commit(0, 1, 2);
  Txn(h, 3).get("a", "50").get("b", "50").put("a", "40").put("b", "60").commit(1, 2, 5);
  // Read-only at version 1: sees a from before the transfer and b from after it.
  Txn(h, 4).get("a", "50").get("b", "60").commit(1, 0, 6);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "after this transaction in the serial order")) << r.message;
}

TEST(Serializability, PhantomFails) {
  TxnHistory h;
  Txn(h, 1).put("k1", "a").commit(0, 1, 2);
  // Scans [k, l) at version 1, then commits at 3 although k2 was inserted at 2.
  Txn(h, 3).scan("k", "l", 10, {{"k1", "a"}}).put("count", "1").commit(1, 3, 6);
  Txn(h, 4).put("k2", "b").commit(1, 2, 5);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "phantom")) << r.message;
  EXPECT_TRUE(Contains(r.message, "missed k2")) << r.message;
}

TEST(Serializability, FullScanDoesNotCoverKeysPastItsLastRow) {
  TxnHistory h;
  Txn(h, 1).put("k1", "a").commit(0, 1, 2);
  // Returned `limit` rows: it claims nothing about keys after k1, so k2 is no phantom.
  Txn(h, 3).scan("k", "l", 1, {{"k1", "a"}}).put("count", "1").commit(1, 3, 6);
  Txn(h, 4).put("k2", "b").commit(1, 2, 5);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, AbortedReadFails) {
  TxnHistory h = Seeded();
  Txn(h, 3).get("x", "1").put("x", "dirty").abort(1, 4);
  Txn(h, 5).get("x", "dirty").commit(1, 0, 6);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "aborted read (G1a)")) << r.message;
}

TEST(Serializability, AbortedTransactionsReadsAreNotChecked) {
  TxnHistory h = Seeded();
  Txn(h, 3).get("x", "garbage").put("x", "2").abort(1, 4);  // Never committed: no constraint.
  Txn(h, 5).get("x", "1").commit(1, 0, 6);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, StaleReadAfterAcknowledgementFails) {
  TxnHistory h = Seeded();
  Txn(h, 3).put("x", "2").commit(1, 2, 4);
  // Began at step 5, after x=2 was acknowledged at step 4, yet reads at version 1. The replay
  // alone would accept it: only real time rules it out.
  Txn(h, 5).get("x", "1").commit(1, 0, 6);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "stale read")) << r.message;
  EXPECT_TRUE(Contains(r.message, "txn #2")) << r.message;
}

TEST(Serializability, OlderSnapshotThanAnEarlierReaderFails) {
  // x=2 commits at version 2 but is acknowledged only at step 20. A reader sees it at step 5;
  // one that begins at step 6 reads at version 1. Only the first reader rules that out: both
  // readers' snapshots are fine by themselves, and the write was not acknowledged yet.
  for (const uint64_t second_from : {5, 6}) {
    TxnHistory h;
    Txn(h, 1).put("x", "1").commit(0, 1, 2);
    Txn(h, 3).put("x", "2").commit(1, 2, 20);
    Txn(h, 4).get("x", "2").commit(2, 0, 5);
    Txn(h, second_from).get("x", "1").commit(1, 0, 7);
    auto r = CheckSerializable(h);
    EXPECT_EQ(r.ok, second_from == 5) << r.message;  // At step 5 the two overlap.
    if (!r.ok) {
      EXPECT_TRUE(Contains(r.message, "stale read")) << r.message;
      EXPECT_TRUE(Contains(r.message, "older than that read_version")) << r.message;
    }
  }
}

TEST(Serializability, CommitBelowAnAcknowledgedCommitFails) {
  TxnHistory h;
  Txn(h, 1).put("x", "1").commit(0, 5, 2);
  Txn(h, 3).put("y", "1").commit(0, 4, 4);  // Began after version 5 was acknowledged.
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "real-time order violated")) << r.message;
}

TEST(Serializability, DuplicateCommitVersionsFail) {
  TxnHistory h;
  Txn(h, 1).put("x", "1").commit(0, 1, 3);
  Txn(h, 2).put("y", "1").commit(0, 1, 4);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "duplicate commit_version 1")) << r.message;
}

TEST(Serializability, BadVersionsFail) {
  {
    TxnHistory h;
    Txn(h, 1).put("x", "1").commit(0, 0, 2);
    auto r = CheckSerializable(h);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(Contains(r.message, "has no commit_version")) << r.message;
  }
  {
    TxnHistory h = Seeded();
    Txn(h, 3).get("x", "1").put("x", "2").commit(2, 2, 4);
    auto r = CheckSerializable(h);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(Contains(r.message, "read_version is not below commit_version")) << r.message;
  }
}

TEST(Serializability, LostAddFails) {
  TxnHistory h;
  Txn(h, 1).add("c", 1).commit(0, 1, 3);
  Txn(h, 2).add("c", 1).commit(0, 2, 4);
  Txn(h, 5).get("c", "1").commit(2, 0, 6);  // Sees only one of the two adds.
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "c is 2")) << r.message;
}

TEST(Serializability, UnknownResolvedAsCommittedWhenALaterReadSawIt) {
  TxnHistory h = Seeded();
  Txn(h, 3).get("x", "1").put("x", "u").put("y", "u").unknown(1, 4);
  Txn(h, 5).get("x", "u").get("y", "u").commit(2, 0, 6);
  Txn(h, 7).get("x", "u").put("x", "w").commit(2, 3, 8);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, UnknownResolvedAsAbsent) {
  TxnHistory h = Seeded();
  Txn(h, 3).put("x", "u").unknown(1, 4);
  Txn(h, 5).get("x", "1").commit(1, 0, 6);
  Txn(h, 7).put("x", "never-finished");  // Pending.
  Txn(h, 8).get("x", "1").commit(1, 0, 9);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, PendingResolvedAsCommitted) {
  TxnHistory h = Seeded();
  Txn(h, 3).add("c", 5).put("x", "p");  // Pending: its client died.
  Txn(h, 5).get("c", "5").get("x", "p").commit(2, 0, 6);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, UnknownPlacedBeforeALaterOverwrite) {
  TxnHistory h = Seeded();
  Txn(h, 3).put("x", "u").put("y", "u").unknown(1, 4);
  Txn(h, 5).put("x", "w").commit(1, 3, 6);
  // Sees x=w and y=u: the unknown commit must sit before version 3, not just before this read.
  Txn(h, 7).get("x", "w").get("y", "u").commit(3, 0, 8);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, UnknownsInEitherOrder) {
  TxnHistory h;
  Txn(h, 1).put("x", "a").unknown(0, 5);
  Txn(h, 2).put("x", "b").unknown(0, 5);
  Txn(h, 3).put("y", "c").unknown(0, 5);
  Txn(h, 6).get("x", "a").get("y", "c").commit(9, 0, 7);  // b then a, c anywhere.
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, UnknownSeenHalfFails) {
  TxnHistory h = Seeded();
  Txn(h, 3).put("x", "u").put("y", "u").unknown(1, 4);
  Txn(h, 5).get("x", "u").get("y", "1").commit(2, 0, 6);  // One of its writes, not the other.
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "no placement of the 1 unknown")) << r.message;
  EXPECT_TRUE(Contains(r.message, "txn #1 before txn #2")) << r.message;
}

TEST(Serializability, UnknownPlacedOnlyWhereItsReadsHold) {
  TxnHistory h = Seeded();
  Txn(h, 3).put("x", "2").commit(1, 2, 6);
  // Read x=1 at version 1 and wrote z: committed, it must sit before version 2.
  Txn(h, 4).get("x", "1").put("z", "u").unknown(1, 7);
  Txn(h, 8).get("z", "u").get("x", "2").commit(2, 0, 9);
  EXPECT_TRUE(CheckSerializable(h).ok);
  // The same but it read a value x never had: it cannot have committed anywhere.
  TxnHistory bad = Seeded();
  Txn(bad, 3).put("x", "2").commit(1, 2, 6);
  Txn(bad, 4).get("x", "7").put("z", "u").unknown(1, 7);
  Txn(bad, 8).get("z", "u").get("x", "2").commit(2, 0, 9);
  auto r = CheckSerializable(bad);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "no placement")) << r.message;
}

TEST(Serializability, UnknownCannotCommitBeforeWhatWasAcknowledgedBeforeItBegan) {
  // y=u seen at version 2 needs the unknown commit at or below 2. That is fine if it began
  // before version 2 was acknowledged (step 4), and impossible if it began after.
  for (const uint64_t unknown_from : {3, 5}) {
    TxnHistory h = Seeded();
    Txn(h, 3).put("x", "2").commit(1, 2, 4);
    Txn(h, unknown_from).put("y", "u").unknown(1, 6);
    Txn(h, 5).get("x", "2").get("y", "u").commit(2, 0, 7);
    auto r = CheckSerializable(h);
    EXPECT_EQ(r.ok, unknown_from == 3) << r.message;
    if (!r.ok) {
      EXPECT_TRUE(Contains(r.message, "y is 1")) << r.message;
    }
  }
}

TEST(Serializability, TooManyUnknownsIsAFailureTestsCanSee) {
  TxnHistory h;
  // Twelve unknown increments; a read sees a total no subset of them makes.
  for (int i = 0; i < 12; ++i) Txn(h, 1).add("c", 1 << i).unknown(0, 2);
  Txn(h, 1).get("c", "100000").commit(9, 0, 3);
  SerializabilityOptions options;
  options.search_attempts_max = 100;
  auto r = CheckSerializable(h, options);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "too many unknown transactions to resolve")) << r.message;
  // With the default bound the search tries every subset and says none explains the read.
  r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "no placement of the 12 unknown")) << r.message;
}

TEST(Serializability, UnknownIncrementsResolvedBySum) {
  TxnHistory h;
  for (int i = 0; i < 12; ++i) Txn(h, 1).add("c", 1 << i).unknown(0, 2);
  Txn(h, 1).get("c", std::to_string((1 << 3) + (1 << 7) + (1 << 11))).commit(9, 0, 3);
  auto r = CheckSerializable(h);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Serializability, MessagesArePrintable) {
  TxnHistory h;
  Txn(h, 1).put(std::string("k\0\n", 3), std::string(100, 'v')).commit(0, 1, 2);
  Txn(h, 3).get(std::string("k\0\n", 3), "w").commit(1, 0, 4);
  auto r = CheckSerializable(h);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.message, "k\\x00\\x0a")) << r.message;
  EXPECT_TRUE(Contains(r.message, "...(100 bytes)")) << r.message;
}

// Random histories from a model of the engine: optimistic concurrency over versioned
// snapshots. Each transaction reads a snapshot at least as new as everything acknowledged
// before it began (it may have begun long ago), sees its own writes, and at commit is
// validated against the writes committed since its read version: a conflict aborts it. Some
// outcomes are lost: unknown or pending, their writes applied or not at random.
struct Generated {
  TxnHistory history;
  std::vector<std::pair<size_t, size_t>> committed_gets;  // (transaction, step).
};

using Model = std::map<std::string, std::string>;

// Applies `t`'s writes to `m`; adds use the value in `m` (they do not read at their snapshot).
void ApplyWrites(const TxnRecord& t, Model& m) {
  for (const TxnStep& s : t.steps) {
    if (s.type == TxnStep::Type::kPut) m[s.key] = s.value;
    if (s.type == TxnStep::Type::kDelete) m.erase(s.key);
    if (s.type == TxnStep::Type::kAdd) {
      auto it = m.find(s.key);
      m[s.key] = std::to_string((it == m.end() ? 0 : std::stoll(it->second)) + s.delta);
    }
  }
}

// Whether any version in (from, to] wrote a key `t` read or scanned.
bool Conflicts(const TxnRecord& t, const std::vector<std::set<std::string>>& written, uint64_t from,
               uint64_t to) {
  for (uint64_t v = from + 1; v <= to; ++v) {
    for (const std::string& k : written[v]) {
      for (const TxnStep& s : t.steps) {
        if (s.type == TxnStep::Type::kRead && s.key == k) return true;
        if (s.type == TxnStep::Type::kScan && k >= s.key && (s.end.empty() || k < s.end)) {
          return true;
        }
      }
    }
  }
  return false;
}

// Records 1-4 random steps of transaction t (number i), reading `view` (its snapshot plus its
// own writes). Returns the indexes of its point reads.
std::vector<size_t> RandomSteps(TxnHistory& h, size_t t, int i, Model view) {
  std::vector<size_t> gets;
  const int ops = *rc::gen::inRange(1, 5);
  for (int o = 0; o < ops; ++o) {
    const int op = *rc::gen::inRange(0, 5);
    const std::string k = "k" + std::to_string(*rc::gen::inRange(0, 4));
    const std::string c = "c" + std::to_string(*rc::gen::inRange(0, 2));
    if (op == 0) {
      const std::string key = *rc::gen::inRange(0, 3) == 0 ? c : k;
      auto it = view.find(key);
      gets.push_back(h.txn(t).steps.size());
      h.read(t, key, it == view.end() ? std::nullopt : std::optional(it->second));
    } else if (op == 1) {
      const size_t limit = *rc::gen::inRange<size_t>(1, 4);
      Rows rows;
      for (auto it = view.lower_bound("k1"); it != view.end() && rows.size() < limit; ++it) {
        if (it->first >= "k3") break;
        rows.emplace_back(*it);
      }
      h.scan(t, "k1", "k3", limit, rows);
    } else if (op == 2) {
      const std::string v = "v" + std::to_string(i) + "_" + std::to_string(o);
      view[k] = v;
      h.put(t, k, v);
    } else if (op == 3) {
      view.erase(k);
      h.del(t, k);
    } else {
      const int64_t d = *rc::gen::inRange(-3, 4);
      auto it = view.find(c);
      view[c] = std::to_string((it == view.end() ? 0 : std::stoll(it->second)) + d);
      h.add(t, c, d);
    }
  }
  return gets;
}

Generated Generate() {
  Generated g;
  std::vector<Model> snapshots{{}};                // By version.
  std::vector<std::set<std::string>> written{{}};  // Keys each version wrote.
  // (place in the serial order, complete step) of each committed transaction.
  std::vector<std::pair<uint64_t, uint64_t>> committed;
  uint64_t step = 0;
  const int n = *rc::gen::inRange(1, 30);
  for (int i = 0; i < n; ++i) {
    const int kind = *rc::gen::inRange(0, 10);  // 0-5 commit, 6 abort, 7-8 unknown, 9 pending.
    const uint64_t latest = snapshots.size() - 1;
    const uint64_t read_version =
        *rc::gen::inRange(0, 3) == 0 ? *rc::gen::inRange<uint64_t>(0, latest + 1) : latest;
    // It began before everything serialized after its snapshot was acknowledged.
    uint64_t invoke = ++step;
    for (const auto& [place, done] : committed) {
      if (place > read_version) invoke = std::min(invoke, done);
    }
    const size_t t = g.history.begin(*rc::gen::inRange<uint64_t>(0, 4), invoke);
    const std::vector<size_t> gets = RandomSteps(g.history, t, i, snapshots[read_version]);
    const TxnRecord& r = g.history.txn(t);
    // Validation: a writer whose reads changed since its snapshot aborts.
    const bool valid = !r.has_writes() || !Conflicts(r, written, read_version, latest);
    const bool committed_kind = kind <= 5 && valid;
    const bool applied = committed_kind || (kind >= 7 && valid && *rc::gen::arbitrary<bool>());
    uint64_t commit_version = 0;
    if (r.has_writes() && applied) {
      Model next = snapshots.back();
      ApplyWrites(r, next);
      std::set<std::string> keys;
      for (const TxnStep& s : r.steps) {
        if (s.is_write()) keys.insert(s.key);
      }
      commit_version = snapshots.size();
      snapshots.push_back(std::move(next));
      written.push_back(std::move(keys));
    }
    if (committed_kind) {
      g.history.complete(t, Outcome::kCommitted, read_version, commit_version, ++step);
      committed.emplace_back(commit_version != 0 ? commit_version : read_version, step);
      for (const size_t get : gets) g.committed_gets.emplace_back(t, get);
    } else if (kind <= 6) {
      g.history.complete(t, Outcome::kAborted, read_version, 0, ++step);
    } else if (kind <= 8) {
      g.history.complete(t, Outcome::kUnknown, read_version, 0, ++step);
    }
  }
  return g;
}

RC_GTEST_PROP(SerializabilityProperty, OptimisticExecutionsPass, ()) {
  Generated g = Generate();
  auto r = CheckSerializable(g.history);
  RC_ASSERT(r.ok);
}

RC_GTEST_PROP(SerializabilityProperty, ACorruptedCommittedReadFails, ()) {
  Generated g = Generate();
  RC_PRE(!g.committed_gets.empty());
  const auto [t, s] = *rc::gen::elementOf(g.committed_gets);
  // Rebuild the history with that one read returning a value nobody wrote.
  TxnHistory corrupted;
  for (size_t i = 0; i < g.history.size(); ++i) {
    const TxnRecord& r = g.history.txn(i);
    const size_t j = corrupted.begin(r.client, r.invoke_step);
    for (size_t n = 0; n < r.steps.size(); ++n) {
      const TxnStep& step = r.steps[n];
      switch (step.type) {
        case TxnStep::Type::kRead:
          corrupted.read(j, step.key,
                         i == t && n == s ? std::optional<std::string>("corrupt") : step.observed);
          break;
        case TxnStep::Type::kScan:
          corrupted.scan(j, step.key, step.end, step.limit, step.rows);
          break;
        case TxnStep::Type::kPut:
          corrupted.put(j, step.key, step.value);
          break;
        case TxnStep::Type::kDelete:
          corrupted.del(j, step.key);
          break;
        case TxnStep::Type::kAdd:
          corrupted.add(j, step.key, step.delta);
          break;
      }
    }
    if (r.outcome != Outcome::kPending) {
      corrupted.complete(j, r.outcome, r.read_version, r.commit_version, r.complete_step);
    }
  }
  auto r = CheckSerializable(corrupted);
  RC_ASSERT(!r.ok);
  RC_ASSERT(Contains(r.message, "corrupt"));
}

}  // namespace
}  // namespace kiln::properties
