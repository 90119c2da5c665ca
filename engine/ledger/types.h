// The ledger's records as values (DESIGN.md section 7, "Ledger"): assertions, votes and
// retractions, each signed by an agent's Ed25519 key, and what the store keeps beside them.
//
// Byte strings (keys, signatures, ids) are std::string so that hostile input of the wrong length
// can be represented and rejected by validation (validate.h) rather than by a type. Every length
// and range below is checked there, with InvalidArgument and a message naming the field.
//
// Units are last in names: `_us` microseconds since the Unix epoch (wall time, data only: never
// used for ordering inside the engine), `_micros` millionths of a vote weight unit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace kiln::ledger {

inline constexpr size_t kPublicKeyBytes = 32;  // crypto_sign_PUBLICKEYBYTES.
inline constexpr size_t kSecretKeyBytes = 64;  // crypto_sign_SECRETKEYBYTES.
inline constexpr size_t kSignatureBytes = 64;  // crypto_sign_BYTES.
inline constexpr size_t kIdBytes = 32;         // BLAKE2b-256.

// Bounds on input, all checked by validation.
inline constexpr size_t kSubjectBytesMax = 256;
inline constexpr size_t kPredicateBytesMax = 128;
inline constexpr size_t kTextBytesMax = 4096;
// Timestamps: [2000-01-01, 2100-01-01) in microseconds since the epoch.
inline constexpr int64_t kTimestampMinUs = 946'684'800'000'000;
inline constexpr int64_t kTimestampMaxUs = 4'102'444'800'000'000;
// Vote weights: finite, in [kWeightMin, kWeightMax]; stored and summed exactly as integer
// micro-units (llround(weight * 1e6)), so aggregates never depend on the order of additions.
inline constexpr double kWeightMin = 1e-6;
inline constexpr double kWeightMax = 1e6;
inline constexpr int64_t kWeightScale = 1'000'000;

// An assertion's id: the 32-byte BLAKE2b-256 hash of its canonical encoding.
using AssertionId = std::string;

// The typed object of an assertion. A Reference names another assertion by id (it need not
// exist: a reference is data; a parent must exist).
struct Reference {
  AssertionId id;
  friend bool operator==(const Reference&, const Reference&) = default;
};
using Object = std::variant<std::string, double, bool, Reference>;

// What an agent asserts. The id and the signature both cover exactly these fields (through one
// canonical encoding, encoding.h).
struct AssertionBody {
  std::string agent;  // Ed25519 public key, kPublicKeyBytes.
  std::string subject;
  std::string predicate;
  Object object;
  double confidence = 1.0;  // Finite, in [0, 1].
  int64_t timestamp_us = 0;
  std::optional<AssertionId> parent;  // The assertion this one supersedes: must exist.
  friend bool operator==(const AssertionBody&, const AssertionBody&) = default;
};

struct Assertion {
  AssertionBody body;
  std::string signature;  // kSignatureBytes, by body.agent over the assertion's signed form.
  friend bool operator==(const Assertion&, const Assertion&) = default;
};

// A vote for an existing assertion. One standing vote per (voter, assertion): a vote with a
// newer timestamp replaces the standing one; an older or equal one is refused.
struct VoteBody {
  AssertionId assertion;
  std::string voter;    // Ed25519 public key.
  double weight = 1.0;  // Finite, in [kWeightMin, kWeightMax].
  int64_t timestamp_us = 0;
  friend bool operator==(const VoteBody&, const VoteBody&) = default;
};

struct Vote {
  VoteBody body;
  std::string signature;
  friend bool operator==(const Vote&, const Vote&) = default;
};

// A retraction, signed by the original signer: of an assertion by its agent (`voter` empty:
// the assertion leaves every lens), or of a vote by its voter (the standing vote is withdrawn
// and the aggregates drop it).
struct RetractionBody {
  enum class Kind : uint8_t { kAssertion = 1, kVote = 2 };
  Kind kind = Kind::kAssertion;
  AssertionId assertion;
  std::string signer;  // The assertion's agent, or the vote's voter.
  int64_t timestamp_us = 0;
  friend bool operator==(const RetractionBody&, const RetractionBody&) = default;
};

struct Retraction {
  RetractionBody body;
  std::string signature;
  friend bool operator==(const Retraction&, const Retraction&) = default;
};

// The exact aggregate of the standing votes of one assertion.
struct Tally {
  int64_t votes = 0;
  int64_t weight_micros = 0;  // Sum of llround(weight * kWeightScale) over standing votes.
  friend bool operator==(const Tally&, const Tally&) = default;
};

// An assertion as stored, with its lifecycle.
struct StoredAssertion {
  AssertionId id;
  Assertion assertion;
  bool retracted = false;
  bool superseded = false;  // Some stored assertion names this one as its parent.
  Tally tally;
};

}  // namespace kiln::ledger
