// Tests of the ledger history checker: hand-written histories of signed submissions beside the
// scan a store might end with. Good ones must pass (including every way an in-doubt submission
// can go, and the store's no-op withdrawal); known-bad ones must fail (an acknowledged assertion,
// vote or withdrawal lost, a forged, hostile, refused or never-submitted record stored, a
// confidence out of range stored, a hostile submission accepted or refused without naming its
// field): a checker that cannot fail proves nothing.
#include "properties/ledger_history.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/ledger/crypto.h"
#include "engine/ledger/encoding.h"

namespace kiln::properties {
namespace {

using ledger::Assertion;
using ledger::KeyPair;
using ledger::LedgerScan;
using ledger::Retraction;
using ledger::RetractionBody;
using ledger::Vote;
using Kind = LedgerOp::Kind;

constexpr int64_t kT0 = ledger::kTimestampMinUs + 1'000'000;

KeyPair Key(int n) {
  std::string seed = "history-test-" + std::to_string(n);
  seed.resize(ledger::kSeedBytes, '.');
  return ledger::KeyPairFromSeed(seed);
}

Assertion MakeAssertion(const KeyPair& k, int64_t ts, double confidence = 0.5) {
  ledger::AssertionBody b;
  b.subject = "s";
  b.predicate = "p";
  b.object = std::string("o");
  b.confidence = confidence;
  b.timestamp_us = ts;
  return *ledger::SignAssertion(b, k);
}

Vote MakeVote(const KeyPair& k, const std::string& id, double weight, int64_t ts) {
  return *ledger::SignVote(ledger::VoteBody{id, "", weight, ts}, k);
}

Retraction MakeRetraction(const KeyPair& k, RetractionBody::Kind kind, const std::string& id,
                          int64_t ts) {
  return *ledger::SignRetraction(RetractionBody{kind, id, "", ts}, k);
}

std::string IdOf(const Assertion& a) {
  return *ledger::ComputeId(a.body);
}

// A history built step by step: each submission invoked at `from`, completed at `to` with `s`
// (to == kNeverCompleted: it never completed).
struct H {
  LedgerHistory h;
  uint64_t next = 1;
  size_t add(LedgerOp op, const Status& s, bool complete = true) {
    const size_t i = h.invoke(std::move(op), next++);
    if (complete) h.complete(i, s, next++);
    return i;
  }
  size_t assertion(const Assertion& a, const Status& s = Status::Ok(), bool valid = true) {
    LedgerOp op;
    op.kind = Kind::kAssertion;
    op.valid = valid;
    op.assertion = a;
    return add(op, s);
  }
  size_t vote(const Vote& v, const Status& s = Status::Ok(), bool complete = true) {
    LedgerOp op;
    op.kind = Kind::kVote;
    op.vote = v;
    return add(op, s, complete);
  }
  size_t retraction(const Retraction& r, const Status& s = Status::Ok()) {
    LedgerOp op;
    op.kind = Kind::kRetraction;
    op.retraction = r;
    return add(op, s);
  }
};

ledger::StoredAssertion Stored(const Assertion& a) {
  ledger::StoredAssertion s;
  s.id = IdOf(a);
  s.assertion = a;
  return s;
}

struct LedgerHistoryCheck : ::testing::Test {
  KeyPair alice = Key(1);
  KeyPair bob = Key(2);
  Assertion a = MakeAssertion(alice, kT0);
  std::string id = IdOf(a);
  H h;
  LedgerScan scan;
  void SetUp() override {
    h.assertion(a);
    scan.assertions.push_back(Stored(a));
  }
  std::string Check() {
    Status s = CheckLedgerHistory(h.h, scan);
    return s.ok() ? "" : s.message();
  }
};

TEST_F(LedgerHistoryCheck, AcknowledgedRecordsPresentPass) {
  const Vote v = MakeVote(bob, id, 1.0, kT0 + 1);
  h.vote(v);
  scan.votes.push_back(v);
  EXPECT_EQ(Check(), "");
}

TEST_F(LedgerHistoryCheck, LostAcknowledgedAssertionFails) {
  scan.assertions.clear();
  EXPECT_NE(Check().find("acknowledged assertion lost"), std::string::npos) << Check();
}

TEST_F(LedgerHistoryCheck, InDoubtSubmissionsMayGoEitherWay) {
  const Assertion b = MakeAssertion(bob, kT0 + 5);
  h.assertion(b, Status::Unknown("sync failed"));
  const Vote v = MakeVote(bob, id, 2.0, kT0 + 6);
  h.vote(v, Status::Ok(), /*complete=*/false);  // Its process died.
  EXPECT_EQ(Check(), "");
  scan.assertions.push_back(Stored(b));
  scan.votes.push_back(v);
  EXPECT_EQ(Check(), "");
}

TEST_F(LedgerHistoryCheck, RefusedOrNeverSubmittedRecordStoredFails) {
  const Assertion b = MakeAssertion(bob, kT0 + 5);
  h.assertion(b, Status::Unavailable("hash failed"));
  scan.assertions.push_back(Stored(b));
  EXPECT_NE(Check().find("its submission may not be"), std::string::npos) << Check();
  scan.assertions.pop_back();
  scan.assertions.push_back(Stored(MakeAssertion(bob, kT0 + 9)));
  EXPECT_NE(Check().find("never submitted"), std::string::npos) << Check();
}

TEST_F(LedgerHistoryCheck, ForgedSignatureStoredFails) {
  // Signed over the bare encoding, what ledger-sig-form-mismatch accepts.
  Vote v = MakeVote(bob, id, 1.0, kT0 + 1);
  v.signature = *ledger::SignDetached(*ledger::EncodeVote(v.body), bob.secret_key);
  LedgerOp op;
  op.kind = Kind::kVote;
  op.valid = false;
  op.field = "vote signature";
  op.vote = v;
  h.add(op, Status::InvalidArgument("vote signature: does not verify"));
  EXPECT_EQ(Check(), "");
  scan.votes.push_back(v);
  EXPECT_NE(Check().find("does not verify"), std::string::npos) << Check();
}

TEST_F(LedgerHistoryCheck, HostileAcceptedOrRefusedWithoutItsFieldFails) {
  LedgerOp op;
  op.kind = Kind::kVote;
  op.valid = false;
  op.field = "vote weight";
  op.vote = MakeVote(bob, id, 1.0, kT0 + 1);
  op.vote.body.weight = -1;
  const size_t i = h.add(op, Status::Ok());
  EXPECT_NE(Check().find("hostile submission was accepted"), std::string::npos) << Check();
  EXPECT_FALSE(CheckOutcome(h.h.op(i)).ok());
  LedgerHistory other;
  const size_t j = other.invoke(op, 1);
  other.complete(j, Status::InvalidArgument("vote timestamp: out of range"), 2);
  EXPECT_NE(CheckOutcome(other.op(j)).message().find("does not name the field"), std::string::npos);
  LedgerHistory good;
  const size_t k = good.invoke(op, 1);
  good.complete(k, Status::InvalidArgument("vote weight: -1 is outside"), 2);
  EXPECT_TRUE(CheckOutcome(good.op(k)).ok());
}

TEST_F(LedgerHistoryCheck, ConfidenceOutOfRangeStoredFails) {
  const Assertion bad = MakeAssertion(bob, kT0 + 3, 1.5);  // Signed, so only the range is wrong.
  h.assertion(bad);
  scan.assertions.push_back(Stored(bad));
  EXPECT_NE(Check().find("outside [0, 1]"), std::string::npos) << Check();
}

TEST_F(LedgerHistoryCheck, AcknowledgedNewerVoteLostFails) {
  const Vote v1 = MakeVote(bob, id, 1.0, kT0 + 1);
  const Vote v2 = MakeVote(bob, id, 2.0, kT0 + 2);
  h.vote(v1);
  h.vote(v2);
  scan.votes.push_back(v1);  // The older one stands: v2 was lost.
  EXPECT_NE(Check().find("no order of its submissions"), std::string::npos) << Check();
  scan.votes = {v2};
  EXPECT_EQ(Check(), "");
}

TEST_F(LedgerHistoryCheck, AcknowledgedWithdrawalLostFails) {
  const Vote v1 = MakeVote(bob, id, 1.0, kT0 + 1);
  const Retraction w = MakeRetraction(bob, RetractionBody::Kind::kVote, id, kT0 + 2);
  h.vote(v1);
  h.retraction(w);
  scan.votes.push_back(v1);
  EXPECT_NE(Check().find("no order of its submissions"), std::string::npos) << Check();
  scan.votes.clear();
  scan.withdrawn_votes.push_back(w);
  EXPECT_EQ(Check(), "");
}

// Real time orders acknowledged submissions: v2 (older timestamp) began after v1 was
// acknowledged, so it met v1 standing and cannot have been Ok.
TEST_F(LedgerHistoryCheck, AnOrderRealTimeForbidsFails) {
  const Vote v1 = MakeVote(bob, id, 1.0, kT0 + 5);
  const Vote v2 = MakeVote(bob, id, 2.0, kT0 + 4);
  h.vote(v1);
  h.vote(v2);
  scan.votes.push_back(v2);
  EXPECT_NE(Check().find("no order of its submissions"), std::string::npos) << Check();
}

// The store's contract: withdrawing a withdrawn vote is Ok, and a newer withdrawal moves the
// slot's time forward, so a vote older than the second withdrawal cannot stand after both.
TEST_F(LedgerHistoryCheck, AVoteOlderThanTheLastWithdrawalStandingFails) {
  const Vote v1 = MakeVote(bob, id, 1.0, kT0 + 1);
  const Retraction w1 = MakeRetraction(bob, RetractionBody::Kind::kVote, id, kT0 + 2);
  const Retraction w2 = MakeRetraction(bob, RetractionBody::Kind::kVote, id, kT0 + 9);
  const Vote v3 = MakeVote(bob, id, 3.0, kT0 + 5);
  h.vote(v1);
  h.retraction(w1);
  h.retraction(w2);
  h.vote(v3);
  scan.votes.push_back(v3);
  EXPECT_NE(Check().find("no order of its submissions"), std::string::npos) << Check();
}

TEST_F(LedgerHistoryCheck, TheLastWithdrawalStandsAfterTwo) {
  const Vote v1 = MakeVote(bob, id, 1.0, kT0 + 1);
  const Retraction w1 = MakeRetraction(bob, RetractionBody::Kind::kVote, id, kT0 + 2);
  const Retraction w2 = MakeRetraction(bob, RetractionBody::Kind::kVote, id, kT0 + 9);
  h.vote(v1);
  h.retraction(w1);
  h.retraction(w2);
  scan.withdrawn_votes.push_back(w2);
  EXPECT_EQ(Check(), "");
  scan.withdrawn_votes.back() = w1;
  EXPECT_NE(Check().find("no order of its submissions"), std::string::npos)
      << "the older withdrawal left standing: " << Check();
}

TEST_F(LedgerHistoryCheck, AcknowledgedRetractionMustHold) {
  const Retraction r = MakeRetraction(alice, RetractionBody::Kind::kAssertion, id, kT0 + 1);
  h.retraction(r);
  EXPECT_NE(Check().find("retraction does not hold"), std::string::npos) << Check();
  scan.retractions.push_back(r);
  scan.retraction_ids.push_back(id);
  EXPECT_EQ(Check(), "");
}

}  // namespace
}  // namespace kiln::properties
