// The ledger store on the simulated runtime (one seeded scheduler, a simulated disk under
// LevelDB, transactions over it). Each test drives a Ledger through its public API with records
// signed by seeded keys, then checks what a full scan holds: CheckScan's invariants after every
// test, and the raw "l/" rows unchanged (byte for byte) after every refused operation. Known
// bugs are enabled by name and shown to change the outcome.
#include "engine/ledger/ledger.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/ledger/crypto.h"
#include "engine/ledger/encoding.h"
#include "engine/runtime/buggify.h"
#include "engine/runtime/bugs.h"
#include "engine/runtime/event.h"
#include "tests/txn/txn_test_util.h"

namespace kiln::ledger {
namespace {

using txn::testing::TxnRig;

constexpr int64_t kT0 = 1'700'000'000'000'000;

KeyPair Key(int n) {
  std::string seed = "seed-" + std::to_string(n);
  seed.resize(kSeedBytes, '.');
  return KeyPairFromSeed(seed);
}

Assertion MakeAssertion(const KeyPair& keys, std::string subject, std::string predicate,
                        Object object, int64_t ts, std::optional<AssertionId> parent = {},
                        double confidence = 0.8) {
  AssertionBody body;
  body.subject = std::move(subject);
  body.predicate = std::move(predicate);
  body.object = std::move(object);
  body.confidence = confidence;
  body.timestamp_us = ts;
  body.parent = std::move(parent);
  Result<Assertion> a = SignAssertion(std::move(body), keys);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return std::move(a).value();
}

Vote MakeVote(const KeyPair& keys, const AssertionId& id, double weight, int64_t ts) {
  Result<Vote> v = SignVote(VoteBody{id, "", weight, ts}, keys);
  EXPECT_TRUE(v.ok());
  return std::move(v).value();
}

Retraction MakeRetraction(const KeyPair& keys, RetractionBody::Kind kind, const AssertionId& id,
                          int64_t ts) {
  Result<Retraction> r = SignRetraction(RetractionBody{kind, id, "", ts}, keys);
  EXPECT_TRUE(r.ok());
  return std::move(r).value();
}

struct LedgerRig : TxnRig {
  explicit LedgerRig(uint64_t seed = 1) : TxnRig({}, seed) {
    Open();
    ledger = std::make_unique<Ledger>(*txns, rig.scheduler, rig.sched_random);
  }
  ~LedgerRig() { rig.scheduler.destroy_all_tasks(); }
  std::unique_ptr<Ledger> ledger;
};

// Every row under "l/" in one snapshot, raw.
Task<kv::KeyValues> RawRows(txn::TxnStore& txns) {
  Result<std::unique_ptr<txn::Transaction>> t = co_await txns.begin();
  EXPECT_TRUE(t.ok());
  if (!t.ok()) co_return kv::KeyValues();
  Result<kv::KeyValues> rows = co_await (*t)->scan_range("l/", "l0", 1'000'000);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  (*t)->abort();
  co_return rows.ok() ? std::move(rows).value() : kv::KeyValues();
}

// A full scan that must pass CheckScan.
Task<LedgerScan> CheckedScan(Ledger& ledger) {
  Result<LedgerScan> scan = co_await ledger.scan();
  EXPECT_TRUE(scan.ok()) << scan.status().ToString();
  if (!scan.ok()) co_return LedgerScan();
  Status check = CheckScan(*scan);
  EXPECT_TRUE(check.ok()) << check.ToString();
  co_return std::move(scan).value();
}

Task<AssertionId> Submit(Ledger& ledger, Assertion a) {
  Result<AssertionId> id = co_await ledger.submit(std::move(a));
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  co_return id.ok() ? *id : AssertionId();
}

Task<StoredAssertion> MustGet(Ledger& ledger, AssertionId id) {
  Result<std::optional<StoredAssertion>> got = co_await ledger.get(id);
  EXPECT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  co_return got.ok() && got->has_value() ? **got : StoredAssertion();
}

struct BugScope {
  explicit BugScope(std::string_view name) {
    BugRegistry::Instance().disable_all();
    EXPECT_TRUE(BugRegistry::Instance().enable(name).ok()) << name;
  }
  ~BugScope() { BugRegistry::Instance().disable_all(); }
};

TEST(Ledger, SubmitStoresTheRecordAndEveryIndex) {
  LedgerRig r;
  r.rig.Run([](Ledger& l) -> Task<void> {
    const KeyPair alice = Key(1);
    const KeyPair bob = Key(2);
    Assertion a = MakeAssertion(alice, "berlin", "population", 3.7e6, kT0);
    const AssertionId id = co_await Submit(l, a);
    Result<AssertionId> expected = ComputeId(a.body);
    EXPECT_TRUE(expected.ok());
    EXPECT_EQ(id, *expected);
    co_await Submit(l, MakeAssertion(alice, "berlin", "mayor", std::string("Wegner"), kT0 + 1));
    co_await Submit(l, MakeAssertion(bob, "berlin", "population", 3.8e6, kT0 + 2));
    co_await Submit(l, MakeAssertion(bob, "berlinale", "population", 1.0, kT0 + 3));

    StoredAssertion stored = co_await MustGet(l, id);
    EXPECT_EQ(stored.assertion, a);
    EXPECT_FALSE(stored.retracted);
    EXPECT_FALSE(stored.superseded);
    EXPECT_EQ(stored.tally, Tally{});
    Result<std::optional<StoredAssertion>> none = co_await l.get(std::string(kIdBytes, 'z'));
    EXPECT_TRUE(none.ok() && !none->has_value());

    Result<std::vector<StoredAssertion>> subject = co_await l.by_subject("berlin", 10);
    EXPECT_TRUE(subject.ok());
    EXPECT_EQ(subject->size(), 3u) << "not berlinale: subjects are prefix-free in keys";
    Result<std::vector<StoredAssertion>> sp =
        co_await l.by_subject_predicate("berlin", "population", 10);
    EXPECT_TRUE(sp.ok());
    EXPECT_EQ(sp->size(), 2u);
    if (sp->size() == 2) {
      EXPECT_EQ((*sp)[0].id, id) << "oldest first";
    }
    Result<std::vector<StoredAssertion>> limited = co_await l.by_subject("berlin", 1);
    EXPECT_TRUE(limited.ok() && limited->size() == 1u);
    Result<std::vector<StoredAssertion>> by_bob = co_await l.by_agent(bob.public_key, 10);
    EXPECT_TRUE(by_bob.ok() && by_bob->size() == 2u);
    EXPECT_TRUE((co_await l.by_agent("short", 10)).status().IsInvalidArgument());
    EXPECT_TRUE((co_await l.by_subject(std::string("a\0b", 3), 10)).status().IsInvalidArgument());
    LedgerScan scan = co_await CheckedScan(l);
    EXPECT_EQ(scan.assertions.size(), 4u);
    EXPECT_EQ(scan.index_entries.size(), 12u);
  }(*r.ledger));
}

TEST(Ledger, ResubmittingAStoredAssertionIsIdempotent) {
  LedgerRig r;
  r.rig.Run([](Ledger& l, txn::TxnStore& txns) -> Task<void> {
    Assertion a = MakeAssertion(Key(1), "s", "p", true, kT0);
    const AssertionId id = co_await Submit(l, a);
    kv::KeyValues before = co_await RawRows(txns);
    Result<AssertionId> again = co_await l.submit(a);
    EXPECT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, id);
    EXPECT_EQ(co_await RawRows(txns), before);
    co_await CheckedScan(l);
  }(*r.ledger, *r.txns));
}

TEST(Ledger, ParentRules) {
  LedgerRig r;
  r.rig.Run([](Ledger& l, txn::TxnStore& txns) -> Task<void> {
    const KeyPair alice = Key(1);
    const KeyPair mallory = Key(3);
    const AssertionId root = co_await Submit(l, MakeAssertion(alice, "s", "p", 1.0, kT0));
    kv::KeyValues before = co_await RawRows(txns);

    Result<AssertionId> orphan =
        co_await l.submit(MakeAssertion(alice, "s", "p", 2.0, kT0 + 1, std::string(32, 'q')));
    EXPECT_TRUE(orphan.status().IsNotFound()) << orphan.status().ToString();
    EXPECT_NE(orphan.status().message().find("assertion parent"), std::string::npos);
    Result<AssertionId> foreign =
        co_await l.submit(MakeAssertion(mallory, "s", "p", 2.0, kT0 + 1, root));
    EXPECT_TRUE(foreign.status().IsInvalidArgument()) << foreign.status().ToString();
    EXPECT_NE(foreign.status().message().find("another agent"), std::string::npos);
    EXPECT_EQ(co_await RawRows(txns), before) << "nothing stored after a refusal";

    const AssertionId child =
        co_await Submit(l, MakeAssertion(alice, "s", "p", 2.0, kT0 + 1, root));
    StoredAssertion parent = co_await MustGet(l, root);
    EXPECT_TRUE(parent.superseded);
    EXPECT_FALSE((co_await MustGet(l, child)).superseded);
    const AssertionId grandchild =
        co_await Submit(l, MakeAssertion(alice, "s", "p", 3.0, kT0 + 2, child));
    EXPECT_FALSE(grandchild.empty());

    EXPECT_TRUE((co_await l.retract(
                     MakeRetraction(alice, RetractionBody::Kind::kAssertion, child, kT0 + 3)))
                    .ok());
    before = co_await RawRows(txns);
    Result<AssertionId> on_retracted =
        co_await l.submit(MakeAssertion(alice, "s", "p", 4.0, kT0 + 4, child));
    EXPECT_TRUE(on_retracted.status().IsInvalidArgument());
    EXPECT_NE(on_retracted.status().message().find("retracted"), std::string::npos);
    EXPECT_EQ(co_await RawRows(txns), before);
    LedgerScan scan = co_await CheckedScan(l);
    EXPECT_EQ(scan.supersedes.size(), 2u);
  }(*r.ledger, *r.txns));
}

TEST(Ledger, InvalidInputStoresNothing) {
  LedgerRig r;
  r.rig.Run([](Ledger& l, txn::TxnStore& txns) -> Task<void> {
    const KeyPair alice = Key(1);
    const AssertionId id = co_await Submit(l, MakeAssertion(alice, "s", "p", 1.0, kT0));
    EXPECT_TRUE((co_await l.vote(MakeVote(Key(2), id, 1.5, kT0))).ok());
    const kv::KeyValues before = co_await RawRows(txns);

    Assertion forged = MakeAssertion(alice, "s", "p", 1.0, kT0 + 5);
    forged.body.object = 2.0;
    Status st = (co_await l.submit(forged)).status();
    EXPECT_TRUE(st.IsInvalidArgument());
    EXPECT_NE(st.message().find("signature"), std::string::npos);
    Assertion nul = MakeAssertion(alice, std::string("s\0x", 3), "p", 1.0, kT0);
    EXPECT_TRUE((co_await l.submit(nul)).status().IsInvalidArgument());
    Assertion huge = MakeAssertion(alice, "s", "p", std::string(1 << 20, 'x'), kT0);
    EXPECT_TRUE((co_await l.submit(huge)).status().IsInvalidArgument());
    Assertion confident = MakeAssertion(alice, "s", "p", 1.0, kT0, std::nullopt, 1.5);
    EXPECT_TRUE((co_await l.submit(confident)).status().IsInvalidArgument());

    Vote negative = MakeVote(Key(2), id, -1, kT0 + 1);
    EXPECT_TRUE((co_await l.vote(negative)).IsInvalidArgument());
    Vote missing = MakeVote(Key(2), std::string(kIdBytes, 'm'), 1, kT0 + 1);
    Status vote_missing = co_await l.vote(missing);
    EXPECT_TRUE(vote_missing.IsNotFound()) << vote_missing.ToString();
    Vote stale = MakeVote(Key(2), id, 9, kT0 - 1);
    EXPECT_TRUE((co_await l.vote(stale)).IsInvalidArgument());
    Vote tampered = MakeVote(Key(2), id, 1, kT0 + 1);
    tampered.body.weight = 1000;
    EXPECT_TRUE((co_await l.vote(tampered)).IsInvalidArgument());

    Retraction foreign = MakeRetraction(Key(2), RetractionBody::Kind::kAssertion, id, kT0 + 1);
    Status fr = co_await l.retract(foreign);
    EXPECT_TRUE(fr.IsInvalidArgument()) << fr.ToString();
    EXPECT_NE(fr.message().find("not the agent"), std::string::npos);
    Retraction foreign_vote = MakeRetraction(Key(3), RetractionBody::Kind::kVote, id, kT0 + 1);
    EXPECT_TRUE((co_await l.retract(foreign_vote)).IsNotFound());
    Retraction unknown =
        MakeRetraction(alice, RetractionBody::Kind::kAssertion, std::string(32, 'u'), kT0);
    EXPECT_TRUE((co_await l.retract(unknown)).IsNotFound());

    EXPECT_EQ(co_await RawRows(txns), before) << "no refused operation wrote anything";
    co_await CheckedScan(l);
  }(*r.ledger, *r.txns));
}

TEST(Ledger, ANewerVoteReplacesTheStandingOneAndAnOlderOneIsRefused) {
  LedgerRig r;
  r.rig.Run([](Ledger& l, txn::TxnStore& txns) -> Task<void> {
    const KeyPair voter = Key(9);
    const AssertionId id = co_await Submit(l, MakeAssertion(Key(1), "s", "p", 1.0, kT0));
    const Vote first = MakeVote(voter, id, 2.5, kT0 + 10);
    EXPECT_TRUE((co_await l.vote(first)).ok());
    EXPECT_EQ(*(co_await l.tally(id)), (Tally{1, 2'500'000}));
    const Vote second = MakeVote(voter, id, 0.25, kT0 + 20);
    EXPECT_TRUE((co_await l.vote(second)).ok());
    EXPECT_EQ(*(co_await l.tally(id)), (Tally{1, 250'000})) << "replaced, not added";

    const kv::KeyValues before = co_await RawRows(txns);
    Status replay_first = co_await l.vote(first);
    EXPECT_TRUE(replay_first.IsInvalidArgument()) << replay_first.ToString();
    EXPECT_NE(replay_first.message().find("not newer"), std::string::npos);
    Status equal_ts = co_await l.vote(MakeVote(voter, id, 7, kT0 + 20));
    EXPECT_TRUE(equal_ts.IsInvalidArgument());
    EXPECT_TRUE((co_await l.vote(second)).ok()) << "the standing vote again is a no-op";
    EXPECT_EQ(co_await RawRows(txns), before);

    Result<std::vector<Vote>> votes = co_await l.votes_of(id, 10);
    EXPECT_TRUE(votes.ok());
    EXPECT_EQ(votes->size(), 1u);
    if (votes->size() == 1) {
      EXPECT_EQ((*votes)[0], second);
    }
    EXPECT_EQ((co_await MustGet(l, id)).tally, (Tally{1, 250'000}));
    co_await CheckedScan(l);
  }(*r.ledger, *r.txns));
}

TEST(Ledger, RetractionsByTheirSignersOnly) {
  LedgerRig r;
  r.rig.Run([](Ledger& l, txn::TxnStore& txns) -> Task<void> {
    const KeyPair alice = Key(1);
    const KeyPair voter = Key(2);
    const AssertionId id = co_await Submit(l, MakeAssertion(alice, "s", "p", 1.0, kT0));
    const Vote vote = MakeVote(voter, id, 3, kT0 + 1);
    EXPECT_TRUE((co_await l.vote(vote)).ok());
    EXPECT_TRUE((co_await l.vote(MakeVote(Key(3), id, 1, kT0 + 1))).ok());

    const kv::KeyValues before = co_await RawRows(txns);
    Status early = co_await l.retract(MakeRetraction(voter, RetractionBody::Kind::kVote, id, kT0));
    EXPECT_TRUE(early.IsInvalidArgument()) << "older than the standing vote";
    EXPECT_EQ(co_await RawRows(txns), before);

    EXPECT_TRUE(
        (co_await l.retract(MakeRetraction(voter, RetractionBody::Kind::kVote, id, kT0 + 2))).ok());
    EXPECT_EQ(*(co_await l.tally(id)), (Tally{1, 1'000'000})) << "the withdrawn vote is dropped";
    EXPECT_TRUE(
        (co_await l.retract(MakeRetraction(voter, RetractionBody::Kind::kVote, id, kT0 + 3))).ok())
        << "withdrawing again is Ok";
    Status replay = co_await l.vote(vote);
    EXPECT_TRUE(replay.IsInvalidArgument()) << "a replayed old vote cannot come back";
    EXPECT_TRUE((co_await l.vote(MakeVote(voter, id, 4, kT0 + 5))).ok()) << "a newer vote can";
    EXPECT_EQ(*(co_await l.tally(id)), (Tally{2, 5'000'000}));

    EXPECT_TRUE(
        (co_await l.retract(MakeRetraction(alice, RetractionBody::Kind::kAssertion, id, kT0 + 6)))
            .ok());
    EXPECT_TRUE((co_await MustGet(l, id)).retracted);
    EXPECT_TRUE(
        (co_await l.retract(MakeRetraction(alice, RetractionBody::Kind::kAssertion, id, kT0 + 7)))
            .ok())
        << "retracting again is Ok";
    Status late_vote = co_await l.vote(MakeVote(Key(4), id, 1, kT0 + 8));
    EXPECT_TRUE(late_vote.IsInvalidArgument()) << late_vote.ToString();
    LedgerScan scan = co_await CheckedScan(l);
    EXPECT_EQ(scan.retractions.size(), 1u);
    EXPECT_EQ(scan.votes.size(), 2u);
  }(*r.ledger, *r.txns));
}

// Voters vote (and half of them re-vote) concurrently; the tally must equal the recount.
// Returns the final tally and how many votes stand.
Tally ConcurrentVotes(LedgerRig& r, int voters, AssertionId* id_out) {
  Tally result;
  r.rig.Run([](Ledger& l, Scheduler& sched, int voters, Tally& result,
               AssertionId& id_out) -> Task<void> {
    const AssertionId id = co_await Submit(l, MakeAssertion(Key(1), "s", "p", 1.0, kT0));
    id_out = id;
    int done = 0;
    Event all(sched, "all-voted");
    for (int v = 0; v < voters; ++v) {
      sched.spawn(
          [](Ledger& l, const AssertionId& id, int v, int voters, int& done,
             Event& all) -> Task<void> {
            const KeyPair keys = Key(100 + v);
            Status s = co_await l.vote(MakeVote(keys, id, 0.5 + v, kT0 + 1));
            EXPECT_TRUE(s.ok()) << s.ToString();
            if (v % 2 == 0) {
              s = co_await l.vote(MakeVote(keys, id, 1.0 + v, kT0 + 2));
              EXPECT_TRUE(s.ok()) << s.ToString();
            }
            if (++done == voters) all.set();
          }(l, id, v, voters, done, all),
          "voter");
    }
    co_await all.wait();
    Result<Tally> t = co_await l.tally(id);
    EXPECT_TRUE(t.ok());
    if (t.ok()) result = *t;
  }(*r.ledger, r.rig.scheduler, voters, result, *id_out));
  return result;
}

Tally ExpectedTally(int voters) {
  Tally t;
  for (int v = 0; v < voters; ++v) {
    ++t.votes;
    t.weight_micros += WeightMicros(v % 2 == 0 ? 1.0 + v : 0.5 + v);
  }
  return t;
}

// The voter's last word stands: a vote signed between two withdrawals and delivered after the
// second is refused (a second withdrawal moves the slot's time forward).
TEST(Ledger, ANewerWithdrawalRefusesAVoteSignedBeforeIt) {
  LedgerRig r;
  r.rig.Run([](Ledger& l, txn::TxnStore& txns) -> Task<void> {
    const KeyPair voter = Key(2);
    const AssertionId id = co_await Submit(l, MakeAssertion(Key(1), "s", "p", 1.0, kT0));
    EXPECT_TRUE((co_await l.vote(MakeVote(voter, id, 3, kT0 + 1))).ok());
    EXPECT_TRUE(
        (co_await l.retract(MakeRetraction(voter, RetractionBody::Kind::kVote, id, kT0 + 2))).ok());
    EXPECT_TRUE(
        (co_await l.retract(MakeRetraction(voter, RetractionBody::Kind::kVote, id, kT0 + 4))).ok());
    const kv::KeyValues before = co_await RawRows(txns);
    EXPECT_TRUE(
        (co_await l.retract(MakeRetraction(voter, RetractionBody::Kind::kVote, id, kT0 + 3))).ok())
        << "an older withdrawal of a withdrawn vote is Ok";
    Status late = co_await l.vote(MakeVote(voter, id, 5, kT0 + 3));
    EXPECT_TRUE(late.IsInvalidArgument()) << late.ToString();
    EXPECT_EQ(co_await RawRows(txns), before) << "neither changed anything";
    EXPECT_EQ(*(co_await l.tally(id)), (Tally{0, 0}));
    EXPECT_TRUE((co_await l.vote(MakeVote(voter, id, 5, kT0 + 5))).ok());
    EXPECT_EQ(*(co_await l.tally(id)), (Tally{1, 5'000'000}));
    co_await CheckedScan(l);
  }(*r.ledger, *r.txns));
}

TEST(Ledger, TalliesAreExactUnderManyConcurrentVoters) {
  constexpr int kVoters = 40;
  LedgerRig r;
  AssertionId id;
  const Tally tally = ConcurrentVotes(r, kVoters, &id);
  EXPECT_EQ(tally, ExpectedTally(kVoters));
  r.rig.Run([](Ledger& l, const AssertionId& id) -> Task<void> {
    LedgerScan scan = co_await CheckedScan(l);
    EXPECT_EQ(scan.votes.size(), static_cast<size_t>(kVoters));
    Result<std::vector<Vote>> votes = co_await l.votes_of(id, 1000);
    EXPECT_TRUE(votes.ok() && votes->size() == static_cast<size_t>(kVoters));
  }(*r.ledger, id));
}

TEST(Ledger, ResolveThroughLensesAndReadTheAuditTrailBack) {
  LedgerRig r;
  r.rig.Run([](Ledger& l, Scheduler& sched) -> Task<void> {
    const KeyPair alice = Key(1);
    const KeyPair bob = Key(2);
    const AssertionId old_id =
        co_await Submit(l, MakeAssertion(alice, "paris", "mayor", std::string("A"), kT0));
    const AssertionId new_id =
        co_await Submit(l, MakeAssertion(bob, "paris", "mayor", std::string("B"), kT0 + 10));
    co_await Submit(l, MakeAssertion(bob, "paris", "area", 105.4, kT0 + 10));

    LensOptions recency;
    Result<Resolution> first = co_await l.resolve("paris", "mayor", recency, true);
    EXPECT_TRUE(first.ok()) << first.status().ToString();
    EXPECT_EQ(first->winner, std::optional<AssertionId>(new_id));
    EXPECT_EQ(first->candidates.size(), 2u) << "only this predicate's assertions";

    LensOptions consensus;
    consensus.rule = LensRule::kConsensus;
    EXPECT_TRUE((co_await l.vote(MakeVote(Key(7), old_id, 5, kT0 + 11))).ok());
    EXPECT_TRUE((co_await l.vote(MakeVote(Key(8), new_id, 1, kT0 + 11))).ok());
    Result<Resolution> second = co_await l.resolve("paris", "mayor", consensus, true);
    EXPECT_TRUE(second.ok());
    EXPECT_EQ(second->winner, std::optional<AssertionId>(old_id)) << "the heavier votes win";

    EXPECT_TRUE((co_await l.retract(
                     MakeRetraction(alice, RetractionBody::Kind::kAssertion, old_id, kT0 + 12)))
                    .ok());
    Result<Resolution> third = co_await l.resolve("paris", "mayor", consensus, false);
    EXPECT_TRUE(third.ok());
    EXPECT_EQ(third->winner, std::optional<AssertionId>(new_id)) << "retracted ones cannot win";

    Result<Resolution> nothing = co_await l.resolve("rome", "mayor", recency, false);
    EXPECT_TRUE(nothing.ok());
    EXPECT_FALSE(nothing->winner.has_value());
    EXPECT_TRUE((co_await l.resolve("", "mayor", recency, false)).status().IsInvalidArgument());

    Result<std::vector<Resolution>> trail = co_await l.audit_trail("paris", "mayor", 10);
    EXPECT_TRUE(trail.ok()) << trail.status().ToString();
    EXPECT_EQ(trail->size(), 2u) << "only the resolutions asked to be recorded";
    if (trail->size() == 2) {
      EXPECT_EQ((*trail)[0], *first);
      EXPECT_EQ((*trail)[1], *second);
    }
    Result<std::vector<Resolution>> limited = co_await l.audit_trail("paris", "mayor", 1);
    EXPECT_TRUE(limited.ok() && limited->size() == 1u);
    Result<std::vector<Resolution>> other = co_await l.audit_trail("paris", "area", 10);
    EXPECT_TRUE(other.ok() && other->empty());

    // Concurrent audited resolutions each get their own place in the trail.
    constexpr int kResolvers = 6;
    int done = 0;
    Event all(sched, "all-resolved");
    for (int i = 0; i < kResolvers; ++i) {
      sched.spawn(
          [](Ledger& l, int& done, Event& all) -> Task<void> {
            LensOptions o;
            Result<Resolution> res = co_await l.resolve("paris", "mayor", o, true);
            EXPECT_TRUE(res.ok()) << res.status().ToString();
            if (++done == kResolvers) all.set();
          }(l, done, all),
          "resolver");
    }
    co_await all.wait();
    Result<std::vector<Resolution>> full = co_await l.audit_trail("paris", "mayor", 100);
    EXPECT_TRUE(full.ok() && full->size() == 2u + kResolvers);
    LedgerScan scan = co_await CheckedScan(l);
    EXPECT_EQ(scan.audit_records, 2u + kResolvers);
  }(*r.ledger, r.rig.scheduler));
}

// Counts what it is told; the vote's tally change must be seen as adds, never as a write.
class CountingObserver final : public txn::TxnObserver {
 public:
  uint64_t invoked() override { return ++invoked_; }
  void began(uint64_t, wal::Lsn) override {}
  void read(uint64_t, const std::string& key, const std::optional<std::string>&) override {
    if (key.starts_with("l/t")) ++tally_reads;
  }
  void scanned(uint64_t, const std::string&, const std::string&, size_t,
               const kv::KeyValues&) override {}
  void wrote(uint64_t, const std::string& key, const std::optional<std::string>&) override {
    if (key.starts_with("l/t")) ++tally_writes;
  }
  void added(uint64_t, const std::string&, int64_t) override { ++adds; }
  void ended(uint64_t, Outcome outcome, wal::Lsn, wal::Lsn) override {
    if (outcome == Outcome::kCommitted) ++committed;
  }
  uint64_t invoked_ = 0;
  int tally_reads = 0;
  int tally_writes = 0;
  int adds = 0;
  int committed = 0;
};

TEST(Ledger, AnObserverSeesEveryTransactionAndVotesOnlyAddToTallies) {
  CountingObserver observer;
  LedgerRig r;
  Ledger observed(*r.txns, r.rig.scheduler, r.rig.sched_random, {}, &observer);
  r.rig.Run([](Ledger& l) -> Task<void> {
    const AssertionId id = co_await Submit(l, MakeAssertion(Key(1), "s", "p", 1.0, kT0));
    EXPECT_TRUE((co_await l.vote(MakeVote(Key(2), id, 2, kT0 + 1))).ok());
    EXPECT_TRUE((co_await l.vote(MakeVote(Key(2), id, 3, kT0 + 2))).ok());
  }(observed));
  EXPECT_EQ(observer.committed, 3);
  EXPECT_EQ(observer.adds, 3) << "(+1, +2e6), then (0, +1e6)";
  EXPECT_EQ(observer.tally_reads, 0) << "a vote never reads the tally";
  EXPECT_EQ(observer.tally_writes, 0);
}

// --- Known bugs ---

TEST(LedgerBug, VoteTallyRmwLosesConcurrentUpdates) {
  constexpr int kVoters = 40;
  BugScope bug("ledger-vote-tally-rmw");
  LedgerRig r;
  AssertionId id;
  const Tally tally = ConcurrentVotes(r, kVoters, &id);
  EXPECT_LT(tally.votes, ExpectedTally(kVoters).votes) << "updates were lost";
  r.rig.Run([](Ledger& l) -> Task<void> {
    Result<LedgerScan> scan = co_await l.scan();
    EXPECT_TRUE(scan.ok());
    EXPECT_EQ(scan->votes.size(), static_cast<size_t>(kVoters)) << "every vote is stored";
    Status check = CheckScan(*scan);
    EXPECT_TRUE(check.IsCorruption());
    EXPECT_NE(check.message().find("recount"), std::string::npos) << check.ToString();
  }(*r.ledger));
}

// Fires the BUGGIFY sites of ledger.cc only (the store's hashing step), every time.
class LedgerHashFails final : public BuggifyContext {
 public:
  bool fire(const char* file, int line) override {
    return std::string_view(file).ends_with("engine/ledger/ledger.cc");
  }
};

TEST(LedgerBug, HashFailureZeroIdStoresUnderAMadeUpId) {
  LedgerHashFails fails;
  LedgerRig r;
  SetBuggify(&fails);
  r.rig.Run([](Ledger& l, txn::TxnStore& txns) -> Task<void> {
    Result<AssertionId> failed = co_await l.submit(MakeAssertion(Key(1), "s", "p", 1.0, kT0));
    EXPECT_TRUE(failed.status().IsUnavailable()) << "the hash error is returned";
    EXPECT_TRUE((co_await RawRows(txns)).empty()) << "and nothing is stored";
    BugScope bug("ledger-hash-failure-zero-id");
    Result<AssertionId> zero = co_await l.submit(MakeAssertion(Key(1), "s", "p", 1.0, kT0));
    EXPECT_TRUE(zero.ok());
    EXPECT_EQ(*zero, std::string(kIdBytes, '\0'));
    Result<LedgerScan> scan = co_await l.scan();
    EXPECT_TRUE(scan.ok());
    EXPECT_EQ(scan->assertions.size(), 1u);
    Status check = CheckScan(*scan);
    EXPECT_TRUE(check.IsCorruption());
    EXPECT_NE(check.message().find("hashes to"), std::string::npos) << check.ToString();
  }(*r.ledger, *r.txns));
  SetBuggify(nullptr);
}

TEST(LedgerBug, SigFormMismatchStoresASignatureMadeForAnotherPurpose) {
  LedgerRig r;
  r.rig.Run([](Ledger& l) -> Task<void> {
    const KeyPair alice = Key(1);
    AssertionBody body = MakeAssertion(alice, "s", "p", 1.0, kT0).body;
    Result<std::string> bare = EncodeAssertion(body);
    EXPECT_TRUE(bare.ok());
    Result<std::string> raw = SignDetached(*bare, alice.secret_key);
    EXPECT_TRUE(raw.ok());
    const Assertion replayed{body, *raw};
    EXPECT_TRUE((co_await l.submit(replayed)).status().IsInvalidArgument());
    BugScope bug("ledger-sig-form-mismatch");
    EXPECT_TRUE((co_await l.submit(replayed)).ok()) << "stored under the bug";
    Result<LedgerScan> scan = co_await l.scan();
    EXPECT_TRUE(scan.ok() && scan->assertions.size() == 1u);
  }(*r.ledger));
}

TEST(LedgerBug, ConfidenceUncheckedStoresAnOutOfRangeConfidence) {
  LedgerRig r;
  r.rig.Run([](Ledger& l) -> Task<void> {
    const Assertion bold = MakeAssertion(Key(1), "s", "p", 1.0, kT0, std::nullopt, 3.0);
    EXPECT_TRUE((co_await l.submit(bold)).status().IsInvalidArgument());
    BugScope bug("ledger-confidence-unchecked");
    Result<AssertionId> id = co_await l.submit(bold);
    EXPECT_TRUE(id.ok());
    EXPECT_EQ((co_await MustGet(l, *id)).assertion.body.confidence, 3.0);
  }(*r.ledger));
}

}  // namespace
}  // namespace kiln::ledger
