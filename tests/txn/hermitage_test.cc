// Hermitage (Martin Kleppmann's suite of isolation anomalies, github.com/ept/hermitage) against
// the transaction API: one test per anomaly, each a fixed interleaving of T1, T2 (and T3)
// written out step by step in the order Hermitage lists it, with the outcome of every step
// asserted. TxnStore is strictly serializable, so every anomaly must be prevented.
//
// The table: Hermitage's `test (id, value)` with rows 1 => 10 and 2 => 20, stored as keys
// "test/1" and "test/2"; the statements map to the API like this:
// - `select ... where id = N` (or `id in (...)`): get of each key, a point read.
// - `select ... where <predicate on value>`, and the reads of `update/delete ... where <predicate
//   on value>`: a scan_range over the whole table ["test/", "test0"), filtered. The predicate
//   is the key range, so an insert into it conflicts like any write to a row it returned.
// - `update ... set value = V where id = N`: get the row, then put (SQL reads the row it
//   updates). G0 is also run with blind puts, the pure write-write case.
// - `insert`: a put (no uniqueness read); `delete`: a del.
//
// How this differs from a locking database (the outcomes Hermitage lists for PostgreSQL and
// others), and so from the expectations in Hermitage's files:
// - Writes are buffered until commit: nothing blocks, and nothing is visible to others before
//   commit. Where Hermitage says "T2 BLOCKS" on T1's row lock, here T2's statement proceeds
//   against its snapshot, and the conflict shows at commit: the later committer whose reads
//   were overwritten gets Conflict (optimistic concurrency, first committer wins).
// - begin() takes the snapshot (PostgreSQL takes it at the first statement). Hermitage's
//   transactions all make their first statement before any commit, except T3 in OTV, which is
//   therefore begun at its first statement.
// - A read-only transaction reads one snapshot and always commits; blind writes (no reads)
//   never conflict, because each transaction's writes land as one batch in commit order.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/txn/txn_store.h"
#include "tests/kv/kv_test_util.h"

namespace kiln::txn {
namespace {

using KeyValues = kv::KeyValues;
using TxnPtr = std::unique_ptr<Transaction>;
using Where = bool (*)(int value);
using Set = int (*)(int value);

const std::string kTable = "test/";
const std::string kTableEnd = "test0";  // '0' follows '/': the range holds every row.

std::string Key(int id) {
  return kTable + std::to_string(id);
}

bool All(int) {
  return true;
}
bool Is10(int v) {
  return v == 10;
}
bool Is20(int v) {
  return v == 20;
}
bool Is30(int v) {
  return v == 30;
}
bool DivisibleBy3(int v) {
  return v % 3 == 0;
}
bool DivisibleBy5(int v) {
  return v % 5 == 0;
}
int Plus10(int v) {
  return v + 10;
}
int To12(int) {
  return 12;
}

// Rows as Hermitage prints them: "1=>10 2=>20" ("" for none).
void Append(std::string& out, const std::string& key, const std::string& value) {
  if (!out.empty()) out += ' ';
  out += key.substr(kTable.size()) + "=>" + value;
}

Task<TxnPtr> Begin(TxnStore& s) {
  Result<TxnPtr> t = co_await s.begin();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  co_return t.ok() ? std::move(t).value() : nullptr;
}

// The rows of [begin, end) (the whole table by default) whose value satisfies `where`.
Task<KeyValues> Scan(Transaction& t, Where where, std::string begin = kTable,
                     std::string end = kTableEnd) {
  Result<KeyValues> rows = co_await t.scan_range(std::move(begin), std::move(end), SIZE_MAX);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  KeyValues out;
  if (!rows.ok()) co_return out;
  for (auto& [k, v] : *rows) {
    if (where(std::stoi(v))) out.emplace_back(std::move(k), std::move(v));
  }
  co_return out;
}

// select * from test where <where> (a predicate read over a key range).
Task<std::string> Select(Transaction& t, Where where, std::string begin = kTable,
                         std::string end = kTableEnd) {
  KeyValues rows = co_await Scan(t, where, std::move(begin), std::move(end));
  std::string out;
  for (const auto& [k, v] : rows) Append(out, k, v);
  co_return out;
}

// select * from test where id in (first..last) (point reads).
Task<std::string> Ids(Transaction& t, int first, int last) {
  std::string out;
  for (int id = first; id <= last; ++id) {
    Result<std::optional<std::string>> v = co_await t.get(Key(id));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (v.ok() && v->has_value()) Append(out, Key(id), **v);
  }
  co_return out;
}

Task<std::string> Id(Transaction& t, int id) {
  co_return co_await Ids(t, id, id);
}

// insert into test (id, value) values (id, value): a blind put.
void Insert(Transaction& t, int id, int value) {
  EXPECT_TRUE(t.put(Key(id), std::to_string(value)).ok());
}

// update test set value = <value> where id = <id>: reads the row, then writes it.
Task<void> Update(Transaction& t, int id, int value) {
  EXPECT_NE(co_await Id(t, id), "") << "no row " << id;
  Insert(t, id, value);
}

// update test set value = set(value) where <where>.
Task<void> UpdateWhere(Transaction& t, Where where, Set set) {
  KeyValues rows = co_await Scan(t, where);
  for (const auto& [k, v] : rows) EXPECT_TRUE(t.put(k, std::to_string(set(std::stoi(v)))).ok());
}

// delete from test where <where>.
Task<void> DeleteWhere(Transaction& t, Where where) {
  KeyValues rows = co_await Scan(t, where);
  for (const auto& [k, v] : rows) EXPECT_TRUE(t.del(k).ok());
}

// commit: "Ok" or "Conflict" (the code's name), or the whole status for anything else.
Task<std::string> Commit(Transaction& t) {
  Status s = co_await t.commit();
  co_return s.ok() || s.IsConflict() ? std::string(CodeName(s.code())) : s.ToString();
}

// The committed table, read by a fresh transaction.
Task<std::string> Table(TxnStore& s) {
  TxnPtr t = co_await Begin(s);
  if (t == nullptr) co_return "<no transaction>";
  std::string rows = co_await Select(*t, All);
  EXPECT_EQ(co_await Commit(*t), "Ok");
  co_return rows;
}

// One test's steps, given T1 and T2 (begun in that order, before any step).
using Steps = Task<void> (*)(TxnStore& s, Transaction& t1, Transaction& t2);

// A store on the simulated runtime holding Hermitage's table: 1 => 10, 2 => 20.
class Hermitage : public ::testing::Test {
 protected:
  ~Hermitage() override {
    rig_.scheduler.destroy_all_tasks();
    txns_.reset();
  }

  void SetUp() override {
    rig_.Run([](kv::testing::Rig& r) -> Task<void> {
      const kv::KvOptions options = r.Options();
      Status s = co_await kv::testing::OpenStore(r, options);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }(rig_));
    ASSERT_NE(rig_.store, nullptr);
    txns_ = std::make_unique<TxnStore>(*rig_.store, rig_.scheduler, rig_.clock);
    rig_.Run([](TxnStore& s) -> Task<void> {
      TxnPtr setup = co_await Begin(s);
      Insert(*setup, 1, 10);
      Insert(*setup, 2, 20);
      EXPECT_EQ(co_await Commit(*setup), "Ok");
      EXPECT_EQ(co_await Table(s), "1=>10 2=>20");
    }(*txns_));
  }

  // Begins T1 and T2, runs `steps` with them to completion, then checks that the committed
  // table is `table_after`.
  void Run(Steps steps, std::string table_after) {
    rig_.Run([](TxnStore& s, Steps steps, std::string table_after) -> Task<void> {
      TxnPtr t1 = co_await Begin(s);
      TxnPtr t2 = co_await Begin(s);
      if (t1 == nullptr || t2 == nullptr) co_return;
      co_await steps(s, *t1, *t2);
      EXPECT_EQ(co_await Table(s), table_after) << "the committed table afterwards";
    }(*txns_, steps, std::move(table_after)));
  }

  kv::testing::Rig rig_;
  std::unique_ptr<TxnStore> txns_;
};

// G0, write cycles (dirty write): T2's writes must not interleave with T1's. Each update reads
// its row, so T2 (whose read of row 1 T1 overwrote) aborts and T1's writes stand.
TEST_F(Hermitage, G0WriteCycles) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        co_await Update(t1, 1, 11);
        co_await Update(t2, 1, 12);  // Hermitage: blocks on T1's row lock. Here: buffered.
        co_await Update(t1, 2, 21);
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Table(s), "1=>11 2=>21");
        co_await Update(t2, 2, 22);
        EXPECT_EQ(co_await Id(t2, 2), "2=>22") << "its own write";
        EXPECT_EQ(co_await Commit(t2), "Conflict");
      },
      "1=>11 2=>21");
}

// G0 with blind writes (no reads): nothing to conflict with, so both commit; each commit's
// writes land together, so the result is T1 then T2 (12, 22), never a mix (11, 22 or 12, 21).
TEST_F(Hermitage, G0WriteCyclesBlindWrites) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        Insert(t1, 1, 11);
        Insert(t2, 1, 12);
        Insert(t1, 2, 21);
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Table(s), "1=>11 2=>21");
        Insert(t2, 2, 22);
        EXPECT_EQ(co_await Commit(t2), "Ok");
      },
      "1=>12 2=>22");
}

// G1a, aborted reads: T2 never sees the write of T1, which aborts.
TEST_F(Hermitage, G1aAbortedReads) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        co_await Update(t1, 1, 101);
        EXPECT_EQ(co_await Select(t2, All), "1=>10 2=>20");
        t1.abort();
        EXPECT_EQ(co_await Select(t2, All), "1=>10 2=>20");
        EXPECT_EQ(co_await Commit(t2), "Ok");
      },
      "1=>10 2=>20");
}

// G1b, intermediate reads: T2 never sees T1's intermediate value 101, nor (its snapshot being
// older) T1's final value.
TEST_F(Hermitage, G1bIntermediateReads) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        co_await Update(t1, 1, 101);
        EXPECT_EQ(co_await Select(t2, All), "1=>10 2=>20");
        co_await Update(t1, 1, 11);
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Select(t2, All), "1=>10 2=>20");
        EXPECT_EQ(co_await Commit(t2), "Ok");
      },
      "1=>11 2=>20");
}

// G1c, circular information flow: neither sees the other's uncommitted write, and since each
// read what the other wrote (T1 -rw-> T2 -rw-> T1), the second committer aborts.
TEST_F(Hermitage, G1cCircularInformationFlow) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        co_await Update(t1, 1, 11);
        co_await Update(t2, 2, 22);
        EXPECT_EQ(co_await Id(t1, 2), "2=>20");
        EXPECT_EQ(co_await Id(t2, 1), "1=>10");
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Commit(t2), "Conflict");
      },
      "1=>11 2=>20");
}

// OTV, observed transaction vanishes: once T3 has seen T1's writes, it keeps seeing all of them;
// T2, which overwrote rows T1 wrote after reading them, aborts.
TEST_F(Hermitage, OtvObservedTransactionVanishes) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        co_await Update(t1, 1, 11);
        co_await Update(t1, 2, 19);
        co_await Update(t2, 1, 12);  // Hermitage: blocks on T1's row lock. Here: buffered.
        EXPECT_EQ(co_await Commit(t1), "Ok");
        TxnPtr t3 = co_await Begin(s);  // At its first statement: see the top of the file.
        EXPECT_EQ(co_await Id(*t3, 1), "1=>11");
        co_await Update(t2, 2, 18);
        EXPECT_EQ(co_await Id(*t3, 2), "2=>19");
        EXPECT_EQ(co_await Commit(t2), "Conflict");
        EXPECT_EQ(co_await Id(*t3, 2), "2=>19");
        EXPECT_EQ(co_await Id(*t3, 1), "1=>11");
        EXPECT_EQ(co_await Commit(*t3), "Ok");
      },
      "1=>11 2=>19");
}

// PMP, predicate-many-preceders (read predicates): T1's second predicate read does not see the
// row T2 inserted after T1's first; T1, read-only, commits (serialized before T2).
TEST_F(Hermitage, PmpPredicateManyPreceders) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        EXPECT_EQ(co_await Select(t1, Is30), "");
        Insert(t2, 3, 30);
        EXPECT_EQ(co_await Commit(t2), "Ok");
        EXPECT_EQ(co_await Select(t1, DivisibleBy3), "");
        EXPECT_EQ(co_await Commit(t1), "Ok");
      },
      "1=>10 2=>20 3=>30");
}

// PMP with write predicates: T2 deletes the rows its snapshot shows with value 20 while T1 adds
// 10 to every row (making row 1 20 and row 2 30); T1 commits first, so T2, whose predicate read
// covered the rows T1 changed, aborts.
TEST_F(Hermitage, PmpWritePredicates) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        co_await UpdateWhere(t1, All, Plus10);
        co_await DeleteWhere(t2, Is20);  // Hermitage: blocks on T1's row locks. Here: buffered.
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Select(t2, Is20), "") << "its snapshot and its own delete";
        EXPECT_EQ(co_await Select(t2, All), "1=>10");
        EXPECT_EQ(co_await Commit(t2), "Conflict");
      },
      "1=>20 2=>30");
}

// P4, lost update: both read row 1 and write it; the second committer aborts.
TEST_F(Hermitage, P4LostUpdate) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        EXPECT_EQ(co_await Id(t1, 1), "1=>10");
        EXPECT_EQ(co_await Id(t2, 1), "1=>10");
        co_await Update(t1, 1, 11);
        co_await Update(t2, 1, 11);  // Hermitage: blocks on T1's row lock. Here: buffered.
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Commit(t2), "Conflict");
      },
      "1=>11 2=>20");
}

// G-single, single anti-dependency cycle (read skew): T1 read row 1 before T2 changed both rows;
// its later read of row 2 still shows the old value, so it sees both rows as of one moment.
TEST_F(Hermitage, GSingleReadSkew) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        EXPECT_EQ(co_await Id(t1, 1), "1=>10");
        EXPECT_EQ(co_await Ids(t2, 1, 2), "1=>10 2=>20");
        co_await Update(t2, 1, 12);
        co_await Update(t2, 2, 18);
        EXPECT_EQ(co_await Commit(t2), "Ok");
        EXPECT_EQ(co_await Id(t1, 2), "2=>20");
        EXPECT_EQ(co_await Commit(t1), "Ok");
      },
      "1=>12 2=>18");
}

// G-single with predicate reads: T1's second predicate read does not see the value T2
// committed in between (12 would satisfy it).
TEST_F(Hermitage, GSinglePredicateDependencies) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        EXPECT_EQ(co_await Select(t1, DivisibleBy5), "1=>10 2=>20");
        co_await UpdateWhere(t2, Is10, To12);
        EXPECT_EQ(co_await Commit(t2), "Ok");
        EXPECT_EQ(co_await Select(t1, DivisibleBy3), "");
        EXPECT_EQ(co_await Commit(t1), "Ok");
      },
      "1=>12 2=>20");
}

// G-single with a write predicate: T1 deletes the row its (old) snapshot shows with value 20,
// after T2 committed 18 there; T1 aborts.
TEST_F(Hermitage, GSingleWritePredicate) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        EXPECT_EQ(co_await Id(t1, 1), "1=>10");
        EXPECT_EQ(co_await Select(t2, All), "1=>10 2=>20");
        co_await Update(t2, 1, 12);
        co_await Update(t2, 2, 18);
        EXPECT_EQ(co_await Commit(t2), "Ok");
        co_await DeleteWhere(t1, Is20);  // Hermitage: fails at once. Here: at commit.
        EXPECT_EQ(co_await Commit(t1), "Conflict");
      },
      "1=>12 2=>18");
}

// G2-item, item anti-dependency cycle (write skew): each reads both rows and updates a
// different one; the second committer aborts.
TEST_F(Hermitage, G2ItemWriteSkew) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        EXPECT_EQ(co_await Ids(t1, 1, 2), "1=>10 2=>20");
        EXPECT_EQ(co_await Ids(t2, 1, 2), "1=>10 2=>20");
        co_await Update(t1, 1, 11);
        co_await Update(t2, 2, 21);
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Commit(t2), "Conflict");
      },
      "1=>11 2=>20");
}

// G2, anti-dependency cycle over predicates: both find no row with a value divisible by 3,
// then each inserts one (into the range the other scanned); the second committer aborts.
TEST_F(Hermitage, G2AntiDependencyCycles) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        EXPECT_EQ(co_await Select(t1, DivisibleBy3), "");
        EXPECT_EQ(co_await Select(t2, DivisibleBy3), "");
        Insert(t1, 3, 30);
        Insert(t2, 4, 42);
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Commit(t2), "Conflict");
      },
      "1=>10 2=>20 3=>30");
}

// G2 over two different ranges: T1 finds no row 3 and inserts row 4, T2 finds no row 4 and
// inserts row 3; serially one of them would have seen the other's row. The second aborts.
TEST_F(Hermitage, G2AntiDependencyCyclesCrossedRanges) {
  Run(
      [](TxnStore& s, Transaction& t1, Transaction& t2) -> Task<void> {
        EXPECT_EQ(co_await Select(t1, All, Key(3), Key(4)), "");
        EXPECT_EQ(co_await Select(t2, All, Key(4), Key(5)), "");
        Insert(t1, 4, 40);
        Insert(t2, 3, 30);
        EXPECT_EQ(co_await Commit(t1), "Ok");
        EXPECT_EQ(co_await Commit(t2), "Conflict");
      },
      "1=>10 2=>20 4=>40");
}

}  // namespace
}  // namespace kiln::txn
