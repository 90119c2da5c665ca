// How the ledger lays out its records in the store (all keys under "l/"). Subjects and
// predicates never contain NUL (validation refuses it), so "<subject>\0" is a prefix-free key
// part: scanning subject "a" never runs into subject "ab". Ids and keys are raw bytes.
//
//   l/a/<id>                             -> StoredAssertion value  Every accepted assertion.
//   l/r/<id>                             -> Retraction value       Its retraction, if retracted.
//   l/s/<parent id><child id>            -> ""                     <child> supersedes <parent>.
//   l/xs/<subject>\0<ts BE64><id>        -> ""                     By subject, oldest first.
//   l/xp/<subject>\0<predicate>\0<ts BE64><id> -> ""               By subject+predicate.
//   l/xa/<agent><ts BE64><id>            -> ""                     By agent (32-byte key).
//   l/v/<id><voter>                      -> VoteSlot value         The standing vote of <voter>
//                                                                  on <id>, or its withdrawal.
//   l/tc/<id>                            -> decimal int64          Standing votes (Transaction::
//   l/tw/<id>                            -> decimal int64          add only); total weight_micros.
//   l/aq/<subject>\0<predicate>\0        -> decimal int64          Audit records so far.
//   l/au/<subject>\0<predicate>\0<seq BE64> -> audit record        A recorded lens resolution.
//
// ts is the assertion's timestamp_us (in range, so positive: BE64 sorts it). A value that is not
// what the encoder below made is Corruption when read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/ledger/types.h"
#include "engine/runtime/result.h"

namespace kiln::ledger {

inline constexpr std::string_view kLedgerPrefix = "l/";

std::string BigEndian64(uint64_t v);
uint64_t FromBigEndian64(std::string_view bytes);  // REQUIRES: at least 8 bytes.

// The end of the range of keys that start with `prefix`: the shortest key above all of them
// (trailing 0xff bytes dropped, then the last byte incremented). REQUIRES: not all 0xff.
std::string PrefixEnd(std::string prefix);

std::string AssertionKey(std::string_view id);
std::string RetractionKey(std::string_view id);
std::string SupersedesPrefix(std::string_view parent);  // l/s/<parent>
std::string SupersedesKey(std::string_view parent, std::string_view child);
std::string SubjectPrefix(std::string_view subject);  // l/xs/<subject>\0
std::string SubjectKey(const AssertionBody& body, std::string_view id);
std::string SubjectPredicatePrefix(std::string_view subject, std::string_view predicate);
std::string SubjectPredicateKey(const AssertionBody& body, std::string_view id);
std::string AgentPrefix(std::string_view agent);  // l/xa/<agent>
std::string AgentKey(const AssertionBody& body, std::string_view id);
std::string VotePrefix(std::string_view id);  // l/v/<id>
std::string VoteKey(std::string_view id, std::string_view voter);
std::string TallyCountKey(std::string_view id);
std::string TallyWeightKey(std::string_view id);
std::string AuditSequenceKey(std::string_view subject, std::string_view predicate);
std::string AuditPrefix(std::string_view subject, std::string_view predicate);
std::string AuditKey(std::string_view subject, std::string_view predicate, uint64_t seq);

// The id at the end of an index key (the last kIdBytes). REQUIRES: key.size() >= kIdBytes.
std::string IdAtEnd(std::string_view key);

// l/a/<id>: u32 length | EncodeAssertion(body) | signature (the rest).
Result<std::string> EncodeStoredAssertion(const Assertion& assertion);
Result<Assertion> DecodeStoredAssertion(std::string_view value);
// l/r/<id>: the same shape with EncodeRetraction.
Result<std::string> EncodeStoredRetraction(const Retraction& retraction);
Result<Retraction> DecodeStoredRetraction(std::string_view value);

// l/v/<id><voter>: u8 state (1 standing, 2 withdrawn) | u32 length | encoding | signature.
// Standing: the vote (EncodeVote). Withdrawn: the vote retraction that withdrew it
// (EncodeRetraction), kept so that no vote older than it can be replayed back in.
struct VoteSlot {
  std::optional<Vote> standing;          // Set when standing.
  std::optional<Retraction> withdrawal;  // Set when withdrawn.
  // The timestamp a new vote must exceed.
  int64_t timestamp_us() const;
};
Result<std::string> EncodeVoteSlot(const VoteSlot& slot);
Result<VoteSlot> DecodeVoteSlot(std::string_view value);

// A vote's weight as the integer the tallies sum: llround(weight * kWeightScale).
// REQUIRES: weight finite and in [kWeightMin, kWeightMax] (validated).
int64_t WeightMicros(double weight);

}  // namespace kiln::ledger
