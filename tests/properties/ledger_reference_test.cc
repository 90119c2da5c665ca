// Tests of the reference lens: it must agree with the engine's lens (ledger::Resolve over the
// assertions with the lifecycle flags and tallies a correct store keeps) on random scans dense
// in ties, and on hand-written tie-breaks; and DiffResolutions must report a resolution that
// differs in its winner, a score or an exclusion (a reference that cannot disagree proves
// nothing).
#include "properties/ledger_reference.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/ledger/ledger_layout.h"

namespace kiln::properties::ledger_reference_testing {

struct Spec {
  int subject = 0;
  int ts = 0;          // kT0 + ts: few distinct values, so ties happen.
  int confidence = 0;  // confidence / 4.
  int parent = -1;     // Index of an earlier assertion it supersedes.
  bool retracted = false;
};

struct VoteSpec {
  int assertion = 0;
  int voter = 0;
  int weight = 0;  // Index into a few weights.
};

}  // namespace kiln::properties::ledger_reference_testing

namespace rc {
template <>
struct Arbitrary<kiln::properties::ledger_reference_testing::Spec> {
  static Gen<kiln::properties::ledger_reference_testing::Spec> arbitrary() {
    return gen::build<kiln::properties::ledger_reference_testing::Spec>(
        gen::set(&kiln::properties::ledger_reference_testing::Spec::subject, gen::inRange(0, 2)),
        gen::set(&kiln::properties::ledger_reference_testing::Spec::ts, gen::inRange(0, 3)),
        gen::set(&kiln::properties::ledger_reference_testing::Spec::confidence, gen::inRange(0, 5)),
        gen::set(&kiln::properties::ledger_reference_testing::Spec::parent, gen::inRange(-1, 8)),
        gen::set(&kiln::properties::ledger_reference_testing::Spec::retracted,
                 gen::element(false, false, true)));
  }
};
template <>
struct Arbitrary<kiln::properties::ledger_reference_testing::VoteSpec> {
  static Gen<kiln::properties::ledger_reference_testing::VoteSpec> arbitrary() {
    return gen::build<kiln::properties::ledger_reference_testing::VoteSpec>(
        gen::set(&kiln::properties::ledger_reference_testing::VoteSpec::assertion,
                 gen::inRange(0, 12)),
        gen::set(&kiln::properties::ledger_reference_testing::VoteSpec::voter, gen::inRange(0, 5)),
        gen::set(&kiln::properties::ledger_reference_testing::VoteSpec::weight,
                 gen::inRange(0, 4)));
  }
};
}  // namespace rc

namespace kiln::properties {
namespace {

using ledger_reference_testing::Spec;
using ledger_reference_testing::VoteSpec;

using ledger::LedgerScan;
using ledger::LensOptions;
using ledger::LensRule;
using ledger::Resolution;
using ledger::StoredAssertion;

constexpr int64_t kT0 = ledger::kTimestampMinUs + 1'000'000;
const std::vector<std::string> kSubjects = {"s", "t"};

// A 32-byte id whose first byte straddles 0x80 (a signed comparison would misorder them).
std::string Id(int n) {
  std::string id(ledger::kIdBytes, '\0');
  id[0] = static_cast<char>(0x7e + n % 4);
  id[1] = static_cast<char>(n);
  return id;
}

std::string Key(int n) {
  return std::string(ledger::kPublicKeyBytes, static_cast<char>('a' + n));
}

LedgerScan MakeScan(const std::vector<Spec>& specs, const std::vector<VoteSpec>& votes) {
  static const double kWeights[] = {ledger::kWeightMin, 0.5, 1.0, 1e6};
  LedgerScan scan;
  for (size_t i = 0; i < specs.size(); ++i) {
    StoredAssertion s;
    s.id = Id(static_cast<int>(i));
    auto& b = s.assertion.body;
    b.agent = Key(0);
    b.subject = kSubjects[specs[i].subject % 2];
    b.predicate = "p";
    b.object = std::string("o");
    b.confidence = static_cast<double>(specs[i].confidence % 5) / 4;
    b.timestamp_us = kT0 + specs[i].ts % 3;
    if (specs[i].parent >= 0 && static_cast<size_t>(specs[i].parent) < i) {
      b.parent = Id(specs[i].parent);
    }
    if (specs[i].retracted) {
      scan.retraction_ids.push_back(s.id);
      scan.retractions.emplace_back();
    }
    scan.assertions.push_back(std::move(s));
  }
  std::set<std::pair<int, int>> cast;  // One standing vote per (assertion, voter).
  for (const VoteSpec& v : votes) {
    if (specs.empty()) break;
    const int a = v.assertion % static_cast<int>(specs.size());
    if (!cast.insert({a, v.voter % 5}).second) continue;
    ledger::Vote vote;
    vote.body = ledger::VoteBody{Id(a), Key(1 + v.voter % 5), kWeights[v.weight % 4], kT0};
    scan.votes.push_back(vote);
  }
  return scan;
}

// What a correct store keeps beside each assertion: its flags and its tally.
std::vector<StoredAssertion> WithFlags(const LedgerScan& scan, const std::string& subject) {
  std::set<std::string> retracted(scan.retraction_ids.begin(), scan.retraction_ids.end());
  std::set<std::string> parents;
  for (const StoredAssertion& s : scan.assertions) {
    if (s.assertion.body.parent) parents.insert(*s.assertion.body.parent);
  }
  std::map<std::string, ledger::Tally> tallies;
  for (const ledger::Vote& v : scan.votes) {
    ++tallies[v.body.assertion].votes;
    tallies[v.body.assertion].weight_micros += ledger::WeightMicros(v.body.weight);
  }
  std::vector<StoredAssertion> out;
  for (StoredAssertion s : scan.assertions) {
    if (s.assertion.body.subject != subject) continue;
    s.retracted = retracted.count(s.id) > 0;
    s.superseded = parents.count(s.id) > 0;
    s.tally = tallies[s.id];
    out.push_back(std::move(s));
  }
  return out;
}

RC_GTEST_PROP(LedgerReference, AgreesWithTheEngineLens,
              (const std::vector<Spec>& specs, const std::vector<VoteSpec>& votes, int rule,
               bool include_superseded, bool include_retracted)) {
  const LedgerScan scan = MakeScan(specs, votes);
  LensOptions o;
  o.rule = static_cast<LensRule>(((rule % 3) + 3) % 3);
  o.include_superseded = include_superseded;
  o.include_retracted = include_retracted;
  for (const std::string& subject : kSubjects) {
    const Resolution engine = ledger::Resolve(subject, "p", WithFlags(scan, subject), o);
    const Resolution reference = ReferenceResolve(scan, subject, "p", o);
    RC_ASSERT(DiffResolutions(reference, engine) == "");
    RC_ASSERT(engine == reference);
  }
}

TEST(LedgerReference, TiesGoToTheNewerTimestampThenTheSmallerUnsignedId) {
  // 0: ts 0, id 0x7e..; 1: ts 1, id 0x7f..; 2: ts 1, id 0x80..: no votes, so consensus ties.
  const LedgerScan scan = MakeScan({{0, 0}, {0, 1}, {0, 1}}, {});
  LensOptions o;
  o.rule = LensRule::kConsensus;
  const Resolution r = ReferenceResolve(scan, "s", "p", o);
  ASSERT_EQ(r.candidates.size(), 3u);
  EXPECT_EQ(r.winner, Id(1));
  EXPECT_EQ(r.candidates[1].id, Id(2));
  EXPECT_EQ(r.candidates[2].id, Id(0));
  EXPECT_EQ(r.decided_by, ledger::kDecidedById);
}

TEST(LedgerReference, RetractedAndSupersededCannotWinUnlessIncluded) {
  Spec newest{0, 2, 4};
  newest.retracted = true;
  Spec child{0, 0, 0};
  child.parent = 2;
  const LedgerScan scan = MakeScan({{0, 0}, {0, 1}, {0, 1}, child, newest}, {});
  LensOptions o;  // Recency: the retracted one (ts 2) would win, then 2 (superseded), then 1.
  Resolution r = ReferenceResolve(scan, "s", "p", o);
  EXPECT_EQ(r.winner, Id(1));
  EXPECT_EQ(r.candidates.back().excluded_because, std::string(ledger::kExcludedSuperseded));
  o.include_retracted = true;
  o.include_superseded = true;
  r = ReferenceResolve(scan, "s", "p", o);
  EXPECT_EQ(r.winner, Id(4));
}

TEST(LedgerReference, TalliesAreRecountedFromTheStandingVotes) {
  // A troll's tiny vote on 0 against one heavy vote on 1.
  const LedgerScan scan = MakeScan({{0, 0}, {0, 0}}, {{0, 0, 0}, {1, 1, 3}, {0, 2, 0}});
  LensOptions o;
  o.rule = LensRule::kConsensus;
  const Resolution r = ReferenceResolve(scan, "s", "p", o);
  EXPECT_EQ(r.winner, Id(1));
  EXPECT_EQ(r.candidates[0].score, 1e12);
  EXPECT_EQ(r.candidates[1].score, 2.0);
  EXPECT_EQ(r.decided_by, ledger::kDecidedByScore);
}

TEST(LedgerReference, DiffReportsEveryKindOfDifference) {
  const LedgerScan scan = MakeScan({{0, 0, 1}, {0, 1, 2}, {0, 2, 3}}, {{0, 0, 2}});
  LensOptions o;
  o.rule = LensRule::kConfidence;
  const Resolution good = ReferenceResolve(scan, "s", "p", o);
  EXPECT_EQ(DiffResolutions(good, good), "");
  Resolution bad = good;
  bad.winner = bad.candidates[1].id;
  EXPECT_NE(DiffResolutions(good, bad).find("winner"), std::string::npos);
  bad = good;
  bad.candidates[2].score += 0.25;
  EXPECT_NE(DiffResolutions(good, bad).find("candidate 2"), std::string::npos);
  bad = good;
  bad.candidates.pop_back();
  EXPECT_NE(DiffResolutions(good, bad).find("candidates"), std::string::npos);
  bad = good;
  bad.decided_by = ledger::kDecidedById;
  EXPECT_NE(DiffResolutions(good, bad).find("decided by"), std::string::npos);
}

}  // namespace
}  // namespace kiln::properties
