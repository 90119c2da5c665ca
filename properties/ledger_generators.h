// RapidCheck generators of ledger records (engine/ledger/types.h): agents, valid signed
// assertions, votes and retractions, and hostile records that each break exactly one
// validation rule, tagged with that rule. For any test, and for scenarios (the arena).
//
// Determinism: every value comes from RapidCheck's Random; keys come from generated 32-byte seeds
// (KeyPairFromSeed) and Ed25519 signing is deterministic. Outside a property, draw a value with
// Sample(gen, seed): the same seed gives the same value.
//
// Valid records pass ValidateAssertion / ValidateVote / ValidateRetraction (stateless
// validation). Parents and voted assertions are whatever ids the caller passes (or generated ids
// when none are), so the stateful checks (a parent exists, a voted assertion exists) are the
// caller's concern.
//
// Text: subjects and predicates come mostly from a small vocabulary, so that assertions collide
// on (subject, predicate); the rest, and object text, is arbitrary valid UTF-8 without NUL
// drawn from ASCII, Latin, Hebrew and Arabic (right-to-left), bidi controls, combining marks,
// CJK, emoji and any other scalar value, within the field's bounds.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ledger/crypto.h"
#include "engine/ledger/types.h"

namespace kiln::properties {

// An agent: the seed its keys come from, and the keys.
struct LedgerAgent {
  std::string seed;  // ledger::kSeedBytes.
  ledger::KeyPair keys;
};

// ---- Pieces -------------------------------------------------------------------------------------

rc::Gen<std::string> GenSeed();  // kSeedBytes arbitrary bytes.
rc::Gen<LedgerAgent> GenAgent();
// `count` agents with distinct seeds. REQUIRES: count <= 4096.
rc::Gen<std::vector<LedgerAgent>> GenAgents(size_t count);
rc::Gen<ledger::AssertionId> GenId();  // kIdBytes arbitrary bytes.

// Valid UTF-8 without NUL, [bytes_min, bytes_max] bytes. REQUIRES: bytes_min <= bytes_max,
// bytes_max >= 4 (room for any scalar value).
rc::Gen<std::string> GenUtf8Text(size_t bytes_min, size_t bytes_max);
// The small vocabularies (ASCII, accented, emoji, right-to-left), every entry valid.
const std::vector<std::string>& SubjectVocabulary();
const std::vector<std::string>& PredicateVocabulary();
rc::Gen<std::string> GenSubject();    // The vocabulary 3 times in 4, else any valid subject.
rc::Gen<std::string> GenPredicate();  // Likewise.
rc::Gen<ledger::Object> GenObject();  // Every variant: text, finite number, bool, reference.
rc::Gen<double> GenConfidence();      // In [0, 1], 0 and 1 included.
rc::Gen<int64_t> GenTimestampUs();    // In [kTimestampMinUs, kTimestampMaxUs).
rc::Gen<double> GenWeight();          // In [kWeightMin, kWeightMax], both ends included.

// ---- Valid records ------------------------------------------------------------------------------

// A body by `agent` (its public key), its parent none or one of `parents`.
rc::Gen<ledger::AssertionBody> GenAssertionBodyBy(const ledger::KeyPair& agent,
                                                  std::vector<ledger::AssertionId> parents = {});
rc::Gen<ledger::Assertion> GenSignedAssertionBy(const ledger::KeyPair& agent,
                                                std::vector<ledger::AssertionId> parents = {});
rc::Gen<ledger::Assertion> GenSignedAssertion();  // By a generated agent, no parent.

// A vote by `voter` for one of `assertions` (a generated id when empty).
rc::Gen<ledger::Vote> GenSignedVoteBy(const ledger::KeyPair& voter,
                                      std::vector<ledger::AssertionId> assertions = {});
rc::Gen<ledger::Vote> GenSignedVote();  // By a generated voter, for a generated id.

// A retraction of `kind` by `signer` of one of `assertions` (a generated id when empty).
rc::Gen<ledger::Retraction> GenSignedRetractionBy(const ledger::KeyPair& signer,
                                                  ledger::RetractionBody::Kind kind,
                                                  std::vector<ledger::AssertionId> assertions = {});
rc::Gen<ledger::Retraction> GenSignedRetraction();  // Either kind, generated signer and id.

// ---- Hostile records ----------------------------------------------------------------------------

// The validation rule a hostile record breaks.
enum class HostileRule : uint8_t {
  kKeyLength,        // agent / voter / signer not kPublicKeyBytes.
  kIdLength,         // reference / parent / voted or retracted id not kIdBytes.
  kTextLength,       // Text outside its byte bounds (empty subject, over-long up to 1 MiB).
  kTextNul,          // Text with an embedded NUL (otherwise valid UTF-8).
  kTextUtf8,         // Not UTF-8: overlong, surrogate, truncated, stray continuation, > U+10FFFF.
  kNotFinite,        // NaN or infinite object number, confidence or weight.
  kOutOfRange,       // Finite confidence outside [0, 1]; weight negative, zero, tiny or huge.
  kTimestampRange,   // Timestamp outside [kTimestampMinUs, kTimestampMaxUs).
  kUnknownKind,      // Retraction kind other than 1 and 2.
  kSignatureLength,  // Signature not kSignatureBytes.
  kForgedSignature,  // Right length, does not verify: another key signed, a bit flipped, the
                     // body changed after signing, or signed over the bare encoding (no domain
                     // tag, what ledger-sig-form-mismatch accepts).
};
std::string_view HostileRuleName(HostileRule rule);  // "key length", "invalid UTF-8", ...

// A record that breaks exactly `rule` in `field` and is otherwise valid: when its body can be
// encoded it is signed by its agent (so nothing but the rule refuses it), else it carries a
// signature of the right length. `field` is the name validation puts first in its message
// ("assertion subject", "vote weight", ...); `how` says what was done to it.
template <typename Record>
struct Hostile {
  Record record;
  HostileRule rule = HostileRule::kForgedSignature;
  std::string field;
  std::string how;
};

rc::Gen<std::string> GenInvalidUtf8(size_t bytes_max);   // 1..bytes_max bytes, no NUL.
rc::Gen<std::string> GenTextWithNul(size_t bytes_max);   // 1..bytes_max, valid UTF-8 but NUL.
rc::Gen<std::string> GenOverlongText(size_t bytes_max);  // bytes_max+1 .. 1 MiB, valid UTF-8.
inline constexpr size_t kHostileTextBytesMax = 1 << 20;  // The longest GenOverlongText makes.

rc::Gen<Hostile<ledger::Assertion>> GenHostileAssertion();
rc::Gen<Hostile<ledger::Vote>> GenHostileVote();
rc::Gen<Hostile<ledger::Retraction>> GenHostileRetraction();

// ---- Outside a property -------------------------------------------------------------------------

// One value of `g`, as RapidCheck generates it from `seed` at `size` (no shrinking).
template <typename T>
T Sample(const rc::Gen<T>& g, uint64_t seed, int size = rc::kNominalSize) {
  return g(rc::Random(seed), size).value();
}

// How RapidCheck prints these in a counterexample: strings cut at 64 bytes, bytes escaped.
void showValue(const LedgerAgent& agent, std::ostream& os);
void showValue(const Hostile<ledger::Assertion>& h, std::ostream& os);
void showValue(const Hostile<ledger::Vote>& h, std::ostream& os);
void showValue(const Hostile<ledger::Retraction>& h, std::ostream& os);

}  // namespace kiln::properties

namespace kiln::ledger {
// In the records' own namespace, so that RapidCheck finds them by argument-dependent lookup.
void showValue(const Assertion& a, std::ostream& os);
void showValue(const Vote& v, std::ostream& os);
void showValue(const Retraction& r, std::ostream& os);
}  // namespace kiln::ledger
