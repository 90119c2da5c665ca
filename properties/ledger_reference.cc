#include "properties/ledger_reference.h"

#include <cassert>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "engine/ledger/encoding.h"

namespace kiln::properties {
namespace {

using ledger::Candidate;
using ledger::LensOptions;
using ledger::LensRule;
using ledger::Resolution;
using ledger::StoredAssertion;

// One candidate with everything the order needs.
struct Entry {
  const StoredAssertion* stored = nullptr;
  int64_t exact = 0;  // Recency and consensus rank by this integer.
  double score = 0;   // Confidence ranks by this double; the others show `exact` as one.
  int64_t timestamp_us = 0;
  std::string excluded_because;
};

// -1, 0 or 1 as a's score is below, equal to or above b's under `rule` (NaN below every number).
int CompareScore(LensRule rule, const Entry& a, const Entry& b) {
  if (rule != LensRule::kConfidence) return (a.exact > b.exact) - (a.exact < b.exact);
  const bool a_nan = std::isnan(a.score);
  const bool b_nan = std::isnan(b.score);
  if (a_nan && b_nan) return 0;
  if (a_nan) return -1;
  if (b_nan) return 1;
  return (a.score > b.score) - (a.score < b.score);
}

// Unsigned bytewise comparison, written out (not std::string's operator<).
bool IdBefore(const std::string& a, const std::string& b) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

bool Better(LensRule rule, const Entry& a, const Entry& b) {
  const bool a_eligible = a.excluded_because.empty();
  const bool b_eligible = b.excluded_because.empty();
  if (a_eligible != b_eligible) return a_eligible;
  if (int c = CompareScore(rule, a, b); c != 0) return c > 0;
  if (a.timestamp_us != b.timestamp_us) return a.timestamp_us > b.timestamp_us;
  return IdBefore(a.stored->id, b.stored->id);
}

}  // namespace

Resolution ReferenceResolve(const ledger::LedgerScan& scan, const std::string& subject,
                            const std::string& predicate, const LensOptions& options) {
  std::set<std::string> retracted(scan.retraction_ids.begin(), scan.retraction_ids.end());
  std::set<std::string> parents;
  for (const StoredAssertion& s : scan.assertions) {
    if (s.assertion.body.parent.has_value()) parents.insert(*s.assertion.body.parent);
  }
  std::map<std::string, int64_t> micros;  // Recounted from the standing votes.
  for (const ledger::Vote& v : scan.votes) {
    micros[v.body.assertion] +=
        std::llround(v.body.weight * static_cast<double>(ledger::kWeightScale));
  }
  std::vector<Entry> pool;
  for (const StoredAssertion& s : scan.assertions) {
    const ledger::AssertionBody& body = s.assertion.body;
    if (body.subject != subject || body.predicate != predicate) continue;
    Entry e;
    e.stored = &s;
    e.timestamp_us = body.timestamp_us;
    const int64_t weight = micros.count(s.id) ? micros.at(s.id) : 0;
    switch (options.rule) {
      case LensRule::kRecency:
        e.exact = body.timestamp_us;
        e.score = static_cast<double>(e.exact);
        break;
      case LensRule::kConsensus:
        e.exact = weight;
        e.score = static_cast<double>(e.exact);
        break;
      case LensRule::kConfidence:
        e.score = body.confidence *
                  (1.0 + static_cast<double>(weight) / static_cast<double>(ledger::kWeightScale));
        break;
    }
    if (retracted.count(s.id) && !options.include_retracted) {
      e.excluded_because = ledger::kExcludedRetracted;
    } else if (parents.count(s.id) && !options.include_superseded) {
      e.excluded_because = ledger::kExcludedSuperseded;
    }
    pool.push_back(std::move(e));
  }
  // Repeated selection: the best of what is left goes next.
  std::vector<Entry> ranked;
  while (!pool.empty()) {
    size_t best = 0;
    for (size_t i = 1; i < pool.size(); ++i) {
      if (Better(options.rule, pool[i], pool[best])) best = i;
    }
    ranked.push_back(std::move(pool[best]));
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(best));
  }
  Resolution out;
  out.subject = subject;
  out.predicate = predicate;
  out.rule = options.rule;
  out.include_superseded = options.include_superseded;
  out.include_retracted = options.include_retracted;
  size_t eligible = 0;
  for (const Entry& e : ranked) {
    const bool ok = e.excluded_because.empty();
    eligible += ok ? 1 : 0;
    out.candidates.push_back(
        Candidate{e.stored->id, e.score, e.timestamp_us, ok, e.excluded_because});
  }
  if (eligible == 0) {
    out.decided_by = ledger::kDecidedByNoCandidates;
  } else if (eligible == 1) {
    out.decided_by = ledger::kDecidedByOnlyCandidate;
  } else if (CompareScore(options.rule, ranked[0], ranked[1]) != 0) {
    out.decided_by = ledger::kDecidedByScore;
  } else if (ranked[0].timestamp_us != ranked[1].timestamp_us) {
    out.decided_by = ledger::kDecidedByTimestamp;
  } else {
    out.decided_by = ledger::kDecidedById;
  }
  if (eligible > 0) out.winner = out.candidates.front().id;
  return out;
}

std::string DiffResolutions(const Resolution& expected, const Resolution& actual) {
  std::ostringstream d;
  d.precision(17);
  auto opt = [](const std::optional<std::string>& id) {
    return id.has_value() ? ledger::Hex(*id).substr(0, 16) : std::string("none");
  };
  if (expected.subject != actual.subject || expected.predicate != actual.predicate) {
    return "resolves another (subject, predicate)";
  }
  if (expected.rule != actual.rule || expected.include_superseded != actual.include_superseded ||
      expected.include_retracted != actual.include_retracted) {
    return "made with other options";
  }
  if (expected.winner != actual.winner) {
    d << "winner " << opt(actual.winner) << ", the reference says " << opt(expected.winner);
    return d.str();
  }
  if (expected.decided_by != actual.decided_by) {
    return "decided by \"" + actual.decided_by + "\", the reference says \"" + expected.decided_by +
           "\"";
  }
  if (expected.candidates.size() != actual.candidates.size()) {
    d << actual.candidates.size() << " candidates, the reference has "
      << expected.candidates.size();
    return d.str();
  }
  for (size_t i = 0; i < expected.candidates.size(); ++i) {
    const Candidate& e = expected.candidates[i];
    const Candidate& a = actual.candidates[i];
    if (e == a) continue;
    d << "candidate " << i << ": " << ledger::Hex(a.id).substr(0, 16) << " score " << a.score
      << " ts " << a.timestamp_us << " excluded \"" << a.excluded_because
      << "\"; the reference has " << ledger::Hex(e.id).substr(0, 16) << " score " << e.score
      << " ts " << e.timestamp_us << " excluded \"" << e.excluded_because << "\"";
    return d.str();
  }
  return "";
}

}  // namespace kiln::properties
