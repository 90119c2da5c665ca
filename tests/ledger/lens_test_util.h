// Stored assertions for lens and audit tests: a builder for hand-written cases, and a RapidCheck
// generator of candidate lists dense in ties (few timestamps, weights and confidences), with
// ids whose bytes straddle 0x80 so that a signed byte comparison would be caught.
#pragma once

#include <rapidcheck.h>

#include <string>
#include <vector>

#include "engine/ledger/lens.h"
#include "engine/ledger/types.h"

namespace kiln::ledger::lens_testing {

inline constexpr int64_t kT0 = kTimestampMinUs + 1'000'000;

// A 32-byte id: `head` then zero bytes.
inline AssertionId Id(std::string head) {
  head.resize(kIdBytes, '\0');
  return head;
}

struct StoredSpec {
  std::string id_head;
  int64_t timestamp_us = kT0;
  int64_t weight_micros = 0;
  double confidence = 1.0;
  bool retracted = false;
  bool superseded = false;
};

inline StoredAssertion MakeStored(const StoredSpec& spec, const std::string& subject = "s",
                                  const std::string& predicate = "p") {
  StoredAssertion s;
  s.id = Id(spec.id_head);
  s.assertion.body.agent = std::string(kPublicKeyBytes, 'a');
  s.assertion.body.subject = subject;
  s.assertion.body.predicate = predicate;
  s.assertion.body.object = std::string("o");
  s.assertion.body.confidence = spec.confidence;
  s.assertion.body.timestamp_us = spec.timestamp_us;
  s.assertion.signature = std::string(kSignatureBytes, 's');
  s.retracted = spec.retracted;
  s.superseded = spec.superseded;
  s.tally.votes = spec.weight_micros > 0 ? 1 : 0;
  s.tally.weight_micros = spec.weight_micros;
  return s;
}

inline rc::Gen<StoredAssertion> GenTieDenseStored(const std::string& subject,
                                                  const std::string& predicate) {
  const auto byte = rc::gen::elementOf(std::vector<char>{'\x00', '\x01', '\x7f', '\x80', '\xff'});
  const auto confidence = rc::gen::oneOf(
      rc::gen::elementOf(std::vector<double>{0.0, 0.25, 0.5, 1.0}),
      rc::gen::map(rc::gen::inRange<int>(0, 1'000'001), [](int m) { return m / 1e6; }));
  return rc::gen::map(
      rc::gen::tuple(rc::gen::container<std::string>(3, byte),
                     rc::gen::elementOf(std::vector<int64_t>{0, 1, 2, 3}),
                     rc::gen::elementOf(std::vector<int64_t>{0, 1, 500'000, 1'000'000, 2'000'000}),
                     confidence, rc::gen::arbitrary<bool>(), rc::gen::arbitrary<bool>()),
      [subject, predicate](const auto& t) {
        const auto& [head, dt, weight, conf, retracted, superseded] = t;
        return MakeStored({head, kT0 + dt, weight, conf, retracted, superseded}, subject,
                          predicate);
      });
}

// Up to a dozen stored assertions with unique ids.
inline rc::Gen<std::vector<StoredAssertion>> GenTieDenseStoredList(const std::string& subject,
                                                                   const std::string& predicate) {
  return rc::gen::resize(12, rc::gen::uniqueBy<std::vector<StoredAssertion>>(
                                 GenTieDenseStored(subject, predicate),
                                 [](const StoredAssertion& s) { return s.id; }));
}

inline rc::Gen<LensOptions> GenLensOptions() {
  return rc::gen::build<LensOptions>(
      rc::gen::set(&LensOptions::rule, rc::gen::element(LensRule::kRecency, LensRule::kConsensus,
                                                        LensRule::kConfidence)),
      rc::gen::set(&LensOptions::include_superseded),
      rc::gen::set(&LensOptions::include_retracted));
}

}  // namespace kiln::ledger::lens_testing
