// Stateless validation of ledger records (docs/ledger.md, "Validation"): every check that needs
// only the record itself. Stateful checks (a parent exists, is by the same agent, is not
// retracted; no cycle through parents; a vote's assertion exists) are the store's (ledger.h).
//
// Each function returns Ok or the FIRST failing rule as InvalidArgument with a message naming the
// field ("assertion subject: ..."). Checks, in order:
//   key length (agent/voter/signer kPublicKeyBytes); text fields: valid UTF-8 (no overlongs,
//   surrogates or code points above U+10FFFF), no NUL, length bounds (subject
//   1..kSubjectBytesMax, predicate 1..kPredicateBytesMax, object text 0..kTextBytesMax); a
//   Reference / parent / voted or retracted assertion id is kIdBytes; a number object is finite;
//   confidence finite and in [0, 1]; weight finite and in [kWeightMin, kWeightMax]; timestamps
//   in [kTimestampMinUs, kTimestampMaxUs); a retraction's kind is known; then the signature's
//   length (kSignatureBytes) and the signature over SignedForm (last and costliest, so garbage
//   is refused before any crypto).
// Signature verification is CPU work: callers in the engine run these through
// Scheduler::blocking (DESIGN.md section 7).
#pragma once

#include <string_view>

#include "engine/ledger/types.h"
#include "engine/runtime/status.h"

namespace kiln::ledger {

Status ValidateAssertion(const Assertion& assertion);
Status ValidateVote(const Vote& vote);
Status ValidateRetraction(const Retraction& retraction);

// The pieces, for callers (lenses, the server) that check a single field. Each returns Ok or
// InvalidArgument with `field` in the message.
Status ValidateUtf8Text(std::string_view field, std::string_view text, size_t bytes_min,
                        size_t bytes_max);
// Whether `text` is well-formed UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above
// U+10FFFF, no truncated sequence.
bool IsValidUtf8(std::string_view text);

}  // namespace kiln::ledger
