// The audit record of a lens resolution (lens.h): the bytes Ledger::resolve stores in its audit
// trail, and the way back.
//
// Layout, version 1 (integers big-endian, fixed width; "bytes" is a u32 length then the bytes):
//   u8 version (1) | u8 rule (1 recency, 2 consensus, 3 confidence) |
//   u8 flags (bit 0 include_superseded, bit 1 include_retracted; other bits 0) |
//   bytes subject | bytes predicate |
//   u8 decided_by (1 only candidate, 2 score, 3 timestamp, 4 id, 5 no candidates) |
//   u32 candidate count (<= kLensCandidatesMax) | candidate...
//   candidate: bytes id | f64 score | i64 timestamp_us |
//              u8 excluded_because (0 eligible, 1 retracted, 2 superseded)
//   f64 is the IEEE-754 binary64 bit pattern as a u64, kept exactly (a record of what was
//   computed, so -0.0 and NaN survive as they were).
// The winner is not stored: it is the first candidate when that one is eligible (a Resolution
// invariant, CheckResolution), and eligible is excluded_because == "".
#pragma once

#include <string>
#include <string_view>

#include "engine/ledger/lens.h"
#include "engine/runtime/result.h"

namespace kiln::ledger {

inline constexpr uint8_t kAuditVersion = 1;

// REQUIRES: CheckResolution(resolution).ok() (true of every Resolution that Resolve made or
// DecodeResolution returned); asserted.
std::string EncodeResolution(const Resolution& resolution);

// Corruption, saying what is wrong and at which byte, for anything EncodeResolution did not make:
// truncation, trailing bytes, an unknown version, rule, flag, decided_by or exclusion code, a
// candidate count over kLensCandidatesMax or longer than the input could hold, or a record that
// breaks CheckResolution. Never reads out of bounds, and never allocates more than the input's
// size justifies. EncodeResolution(*DecodeResolution(b)) == b for every accepted b.
Result<Resolution> DecodeResolution(std::string_view bytes);

}  // namespace kiln::ledger
