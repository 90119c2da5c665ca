// Lenses. Method: hand-written cases for each rule, each tie-break (score, timestamp, id, with
// id bytes above 0x7f) and each lifecycle filter; then two properties over tie-dense candidate
// lists: Resolve equals a brute-force reference written here from the definition (a pairwise
// "beats" relation: the winner beats every other eligible candidate), and Resolve does not
// depend on the order of its input.
#include "engine/ledger/lens.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "tests/ledger/lens_test_util.h"

namespace kiln::ledger {
namespace {

using lens_testing::Id;
using lens_testing::kT0;
using lens_testing::MakeStored;

Resolution ResolveSP(const std::vector<StoredAssertion>& stored, LensOptions options = {}) {
  return Resolve("s", "p", stored, options);
}

LensOptions Rule(LensRule rule) {
  return LensOptions{.rule = rule};
}

TEST(LensRuleNames, RoundTripAndUnknownNameListsTheValidOnes) {
  for (LensRule rule : {LensRule::kRecency, LensRule::kConsensus, LensRule::kConfidence}) {
    Result<LensRule> parsed = ParseLensRule(LensRuleName(rule));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, rule);
  }
  EXPECT_EQ(LensRuleName(LensRule::kConsensus), "consensus");
  Result<LensRule> bad = ParseLensRule("Recency");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("recency, consensus, confidence"), std::string::npos)
      << bad.status().ToString();
}

TEST(Lens, NoCandidates) {
  const Resolution r = ResolveSP({});
  EXPECT_FALSE(r.winner.has_value());
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_EQ(r.decided_by, kDecidedByNoCandidates);
  EXPECT_EQ(r.subject, "s");
  EXPECT_EQ(r.predicate, "p");
}

TEST(Lens, OnlyCandidate) {
  const Resolution r = ResolveSP({MakeStored({"a"})});
  EXPECT_EQ(r.winner, Id("a"));
  EXPECT_EQ(r.decided_by, kDecidedByOnlyCandidate);
}

TEST(Lens, RecencyNewestWins) {
  const Resolution r =
      ResolveSP({MakeStored({.id_head = "old", .timestamp_us = kT0, .weight_micros = 9}),
                 MakeStored({.id_head = "new", .timestamp_us = kT0 + 1})},
                Rule(LensRule::kRecency));
  EXPECT_EQ(r.winner, Id("new"));
  EXPECT_EQ(r.decided_by, kDecidedByScore);
  ASSERT_EQ(r.candidates.size(), 2u);
  EXPECT_EQ(r.candidates[0].score, static_cast<double>(kT0 + 1));
  EXPECT_EQ(r.candidates[1].id, Id("old"));
}

TEST(Lens, ConsensusHeaviestWinsOverNewer) {
  const Resolution r = ResolveSP(
      {MakeStored({.id_head = "heavy", .timestamp_us = kT0, .weight_micros = 3'000'000}),
       MakeStored({.id_head = "light", .timestamp_us = kT0 + 5, .weight_micros = 2'999'999})},
      Rule(LensRule::kConsensus));
  EXPECT_EQ(r.winner, Id("heavy"));
  EXPECT_EQ(r.decided_by, kDecidedByScore);
  EXPECT_EQ(r.candidates[0].score, 3'000'000.0);
}

// Above 2^53 two weights one micro apart are the same double: the exact integer still decides.
TEST(Lens, ConsensusComparesExactIntegersBeyondDoublePrecision) {
  const int64_t big = int64_t{1} << 53;
  ASSERT_EQ(static_cast<double>(big), static_cast<double>(big + 1));
  const Resolution r =
      ResolveSP({MakeStored({.id_head = "a", .timestamp_us = kT0 + 1, .weight_micros = big}),
                 MakeStored({.id_head = "b", .timestamp_us = kT0, .weight_micros = big + 1})},
                Rule(LensRule::kConsensus));
  EXPECT_EQ(r.winner, Id("b"));
  EXPECT_EQ(r.decided_by, kDecidedByScore);
}

TEST(Lens, ConfidenceIsAmplifiedByVoteWeight) {
  // 0.5 * (1 + 1) = 1.0 beats 0.9 * (1 + 0) = 0.9.
  const Resolution r = ResolveSP(
      {MakeStored({.id_head = "sure", .timestamp_us = kT0 + 1, .confidence = 0.9}),
       MakeStored({.id_head = "voted", .weight_micros = kWeightScale, .confidence = 0.5})},
      Rule(LensRule::kConfidence));
  EXPECT_EQ(r.winner, Id("voted"));
  EXPECT_EQ(r.decided_by, kDecidedByScore);
  EXPECT_EQ(r.candidates[0].score, 1.0);
  EXPECT_EQ(r.candidates[1].score, 0.9);
}

TEST(Lens, EqualScoresAreBrokenByTheNewerTimestamp) {
  for (LensRule rule : {LensRule::kConsensus, LensRule::kConfidence}) {
    const Resolution r =
        ResolveSP({MakeStored({.id_head = "a", .timestamp_us = kT0, .weight_micros = 7}),
                   MakeStored({.id_head = "b", .timestamp_us = kT0 + 1, .weight_micros = 7})},
                  Rule(rule));
    EXPECT_EQ(r.winner, Id("b")) << LensRuleName(rule);
    EXPECT_EQ(r.decided_by, kDecidedByTimestamp) << LensRuleName(rule);
  }
  // Different inputs, equal confidence scores: 1.0 * (1 + 0) == 0.5 * (1 + 1).
  const Resolution r = ResolveSP({MakeStored({.id_head = "a", .timestamp_us = kT0 + 1}),
                                  MakeStored({.id_head = "b",
                                              .timestamp_us = kT0,
                                              .weight_micros = kWeightScale,
                                              .confidence = 0.5})},
                                 Rule(LensRule::kConfidence));
  EXPECT_EQ(r.winner, Id("a"));
  EXPECT_EQ(r.decided_by, kDecidedByTimestamp);
}

TEST(Lens, EqualScoreAndTimestampAreBrokenByTheBytewiseSmallerId) {
  for (LensRule rule : {LensRule::kRecency, LensRule::kConsensus, LensRule::kConfidence}) {
    // 0x7f < 0x80 as unsigned bytes (a signed comparison would say the opposite).
    const Resolution r = ResolveSP(
        {MakeStored({.id_head = "\x80"}), MakeStored({.id_head = "\x7f\xff"})}, Rule(rule));
    EXPECT_EQ(r.winner, Id("\x7f\xff")) << LensRuleName(rule);
    EXPECT_EQ(r.decided_by, kDecidedById) << LensRuleName(rule);
  }
}

TEST(Lens, RetractedAndSupersededAreExcludedAndListedLast) {
  const Resolution r = ResolveSP(
      {MakeStored({.id_head = "r", .timestamp_us = kT0 + 3, .retracted = true}),
       MakeStored({.id_head = "s", .timestamp_us = kT0 + 2, .superseded = true}),
       MakeStored(
           {.id_head = "both", .timestamp_us = kT0 + 4, .retracted = true, .superseded = true}),
       MakeStored({.id_head = "live", .timestamp_us = kT0})});
  EXPECT_EQ(r.winner, Id("live"));
  EXPECT_EQ(r.decided_by, kDecidedByOnlyCandidate);
  ASSERT_EQ(r.candidates.size(), 4u);
  EXPECT_TRUE(r.candidates[0].eligible);
  EXPECT_EQ(r.candidates[0].excluded_because, "");
  // The excluded ones, best (newest) first.
  EXPECT_EQ(r.candidates[1].id, Id("both"));
  EXPECT_EQ(r.candidates[1].excluded_because, kExcludedRetracted);
  EXPECT_EQ(r.candidates[2].id, Id("r"));
  EXPECT_EQ(r.candidates[2].excluded_because, kExcludedRetracted);
  EXPECT_EQ(r.candidates[3].id, Id("s"));
  EXPECT_EQ(r.candidates[3].excluded_because, kExcludedSuperseded);
  for (size_t i = 1; i < 4; ++i) EXPECT_FALSE(r.candidates[i].eligible);
}

TEST(Lens, OptionsIncludeSupersededOrRetracted) {
  const std::vector<StoredAssertion> stored = {
      MakeStored({.id_head = "r", .timestamp_us = kT0 + 3, .retracted = true}),
      MakeStored({.id_head = "s", .timestamp_us = kT0 + 2, .superseded = true}),
      MakeStored(
          {.id_head = "both", .timestamp_us = kT0 + 4, .retracted = true, .superseded = true}),
      MakeStored({.id_head = "live", .timestamp_us = kT0})};
  const Resolution superseded = ResolveSP(stored, {.include_superseded = true});
  EXPECT_EQ(superseded.winner, Id("s"));
  EXPECT_TRUE(superseded.include_superseded);
  EXPECT_FALSE(superseded.include_retracted);
  const Resolution retracted = ResolveSP(stored, {.include_retracted = true});
  EXPECT_EQ(retracted.winner, Id("r"));
  // Retracted is allowed, so "both" is now excluded as superseded (and, newest, listed first).
  ASSERT_EQ(retracted.candidates.size(), 4u);
  EXPECT_EQ(retracted.candidates[2].id, Id("both"));
  EXPECT_EQ(retracted.candidates[2].excluded_because, kExcludedSuperseded);
  const Resolution all = ResolveSP(stored, {.include_superseded = true, .include_retracted = true});
  EXPECT_EQ(all.winner, Id("both"));
  EXPECT_EQ(all.decided_by, kDecidedByScore);
}

TEST(Lens, NothingEligibleMeansNoWinner) {
  const Resolution r = ResolveSP({MakeStored({.id_head = "r", .retracted = true})});
  EXPECT_FALSE(r.winner.has_value());
  EXPECT_EQ(r.decided_by, kDecidedByNoCandidates);
  ASSERT_EQ(r.candidates.size(), 1u);
  EXPECT_FALSE(r.candidates[0].eligible);
}

TEST(Lens, NaNConfidenceRanksLastWithoutBreakingTheOrder) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Resolution r =
      ResolveSP({MakeStored({.id_head = "n", .timestamp_us = kT0 + 1, .confidence = nan}),
                 MakeStored({.id_head = "z", .confidence = 0.0})},
                Rule(LensRule::kConfidence));
  EXPECT_EQ(r.winner, Id("z"));
  EXPECT_EQ(r.decided_by, kDecidedByScore);
}

TEST(LensDeathTest, AnotherSubjectOrPredicateOrADuplicateIdIsACallersBug) {
  EXPECT_DEATH(ResolveSP({MakeStored({"a"}, "other", "p")}), "subject");
  EXPECT_DEATH(ResolveSP({MakeStored({"a"}, "s", "other")}), "predicate");
  EXPECT_DEATH(ResolveSP({MakeStored({"a"}), MakeStored({"a", kT0 + 1})}), "IdsUnique");
}

// The reference: straight from the definition, with no sorting.
bool Eligible(const StoredAssertion& s, const LensOptions& o) {
  return (!s.retracted || o.include_retracted) && (!s.superseded || o.include_superseded);
}

double RefScore(const StoredAssertion& s, LensRule rule) {
  const double w = static_cast<double>(s.tally.weight_micros);
  switch (rule) {
    case LensRule::kRecency:
      return static_cast<double>(s.assertion.body.timestamp_us);
    case LensRule::kConsensus:
      return w;
    case LensRule::kConfidence:
      return s.assertion.body.confidence * (1.0 + w / 1e6);
  }
  return 0;
}

// Which key first differs between a and b: 0 score, 1 timestamp, 2 id; and whether a beats b.
std::pair<int, bool> Beats(const StoredAssertion& a, const StoredAssertion& b, LensRule rule) {
  if (RefScore(a, rule) != RefScore(b, rule)) return {0, RefScore(a, rule) > RefScore(b, rule)};
  const int64_t ta = a.assertion.body.timestamp_us;
  const int64_t tb = b.assertion.body.timestamp_us;
  if (ta != tb) return {1, ta > tb};
  return {2, std::memcmp(a.id.data(), b.id.data(), kIdBytes) < 0};
}

RC_GTEST_PROP(LensProperty, EqualsABruteForceReference, ()) {
  const auto stored = *lens_testing::GenTieDenseStoredList("s", "p");
  const LensOptions options = *lens_testing::GenLensOptions();
  const Resolution r = Resolve("s", "p", stored, options);
  RC_ASSERT(CheckResolution(r).ok());
  RC_ASSERT(r.candidates.size() == stored.size());
  RC_TAG(r.decided_by);

  std::vector<const StoredAssertion*> eligible;
  for (const StoredAssertion& s : stored) {
    if (Eligible(s, options)) eligible.push_back(&s);
  }
  // The winner beats every other eligible candidate; the runner-up every one but the winner.
  auto best_of = [&](const StoredAssertion* skip) -> const StoredAssertion* {
    for (const StoredAssertion* x : eligible) {
      if (x == skip) continue;
      bool beats_all = true;
      for (const StoredAssertion* y : eligible) {
        if (y != x && y != skip) beats_all = beats_all && Beats(*x, *y, options.rule).second;
      }
      if (beats_all) return x;
    }
    return nullptr;
  };
  const StoredAssertion* winner = best_of(nullptr);
  RC_ASSERT((winner != nullptr) == !eligible.empty());
  RC_ASSERT(r.winner == (winner ? std::optional(winner->id) : std::nullopt));
  if (eligible.size() >= 2) {
    const StoredAssertion* second = best_of(winner);
    RC_ASSERT(second != nullptr);
    const std::string_view names[] = {kDecidedByScore, kDecidedByTimestamp, kDecidedById};
    RC_ASSERT(r.decided_by == names[Beats(*winner, *second, options.rule).first]);
  }

  // Every candidate is scored and filtered as the definition says, and each group is in order.
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const Candidate& c = r.candidates[i];
    const auto it = std::find_if(stored.begin(), stored.end(),
                                 [&](const StoredAssertion& s) { return s.id == c.id; });
    RC_ASSERT(it != stored.end());
    RC_ASSERT(c.eligible == Eligible(*it, options));
    RC_ASSERT(c.score == RefScore(*it, options.rule));
    RC_ASSERT(c.timestamp_us == it->assertion.body.timestamp_us);
    if (i > 0 && r.candidates[i - 1].eligible == c.eligible) {
      const auto prev = std::find_if(stored.begin(), stored.end(), [&](const StoredAssertion& s) {
        return s.id == r.candidates[i - 1].id;
      });
      RC_ASSERT(Beats(*prev, *it, options.rule).second);
    }
  }
}

RC_GTEST_PROP(LensProperty, DoesNotDependOnInputOrder, ()) {
  const auto stored = *lens_testing::GenTieDenseStoredList("s", "p");
  const LensOptions options = *lens_testing::GenLensOptions();
  std::vector<StoredAssertion> shuffled = stored;
  std::mt19937_64 rng(*rc::gen::arbitrary<uint64_t>());
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  RC_ASSERT(Resolve("s", "p", stored, options) == Resolve("s", "p", shuffled, options));
}

}  // namespace
}  // namespace kiln::ledger
