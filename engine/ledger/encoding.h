// The one canonical binary encoding of the ledger's record bodies (docs/ledger.md, "Canonical
// encoding"), the ids made from it and the domain-separated form that signers sign.
//
// Layout (all integers big-endian, fixed width; "bytes" is a u32 length then that many bytes):
//   AssertionBody: u8 version(1) | bytes agent | bytes subject | bytes predicate |
//                  u8 object tag (1 text, 2 number, 3 bool, 4 reference) | object |
//                  f64 confidence | i64 timestamp_us | u8 parent present (0/1) [| bytes parent]
//     object: text → bytes; number → f64; bool → u8 (0/1); reference → bytes id.
//   VoteBody:       u8 version(1) | bytes assertion | bytes voter | f64 weight | i64 timestamp_us
//   RetractionBody: u8 version(1) | u8 kind (1 assertion, 2 vote) | bytes assertion |
//                   bytes signer | i64 timestamp_us
//   f64 is the IEEE-754 binary64 bit pattern as a u64, with -0.0 written as +0.0; NaN is refused.
// Encoding is a pure function of the field values; decoding accepts exactly what encoding makes
// (so Encode(Decode(b)) == b for every accepted b) and nothing else.
#pragma once

#include <string>
#include <string_view>

#include "engine/ledger/types.h"
#include "engine/runtime/result.h"

namespace kiln::ledger {

inline constexpr uint8_t kEncodingVersion = 1;

// Domain tags: prefixed to an encoding to make the bytes a signer signs, so that a signature
// made for one kind of record (or for any other purpose) never verifies as another.
inline constexpr std::string_view kAssertionDomain = "kiln/ledger/assertion/v1";
inline constexpr std::string_view kVoteDomain = "kiln/ledger/vote/v1";
inline constexpr std::string_view kRetractionDomain = "kiln/ledger/retraction/v1";

// InvalidArgument (naming the field) if a field cannot be encoded: a NaN number, a string longer
// than a u32 length can say. Encoding checks no other bounds: that is validation's job.
Result<std::string> EncodeAssertion(const AssertionBody& body);
Result<std::string> EncodeVote(const VoteBody& body);
Result<std::string> EncodeRetraction(const RetractionBody& body);

// Corruption (saying what is wrong and where) for anything the encoder did not make: truncation,
// trailing bytes, an unknown version, tag or kind, a bool or presence byte other than 0/1, a
// NaN or negative-zero double. Never reads out of bounds.
Result<AssertionBody> DecodeAssertion(std::string_view bytes);
Result<VoteBody> DecodeVote(std::string_view bytes);
Result<RetractionBody> DecodeRetraction(std::string_view bytes);

// What a signer signs and a verifier verifies: the record kind's domain tag, then its encoding.
// The ONE function used for both (crypto.h's Sign* and validate.h's Validate* call it).
Result<std::string> SignedForm(const AssertionBody& body);
Result<std::string> SignedForm(const VoteBody& body);
Result<std::string> SignedForm(const RetractionBody& body);

// The assertion's id: BLAKE2b-256 of EncodeAssertion(body). Any failure (encoding, hashing) is
// returned as an error; an id is never made up. A pure function: the same body always gives the
// same id (the store's hashing step has its own simulation-only failure site, ledger.cc).
Result<AssertionId> ComputeId(const AssertionBody& body);

// Lowercase hex, for messages and docs ("a1b2...").
std::string Hex(std::string_view bytes);

}  // namespace kiln::ledger
