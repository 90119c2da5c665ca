// The reference lens: what a lens resolution (engine/ledger/lens.h) must be, recomputed from a
// ledger scan's raw records without the engine's lens code, its stored flags or its stored
// tallies. The arena compares Ledger::resolve with it after recovery.
//
// Recomputed, independently of the store's bookkeeping:
//   candidates  every scanned assertion whose body has the (subject, predicate);
//   retracted   its id has a stored retraction (LedgerScan::retraction_ids);
//   superseded  some scanned assertion's body names it as parent;
//   tally       the recount of the standing votes for it: llround(weight * kWeightScale) summed.
// Scores and order are lens.h's documented rules (recency: timestamp; consensus: weight micros,
// exact; confidence: confidence * (1 + micros / kWeightScale) in double), ranked by repeated
// selection of the best remaining candidate (not by sorting, as the engine does): eligible first,
// then the higher score (NaN lowest), the newer timestamp, the bytewise smaller id.
#pragma once

#include <string>

#include "engine/ledger/ledger.h"
#include "engine/ledger/lens.h"

namespace kiln::properties {

ledger::Resolution ReferenceResolve(const ledger::LedgerScan& scan, const std::string& subject,
                                    const std::string& predicate,
                                    const ledger::LensOptions& options);

// "" when the two are equal (field for field, scores bit for bit), else the first difference
// ("candidate 3: score 2.5 vs 3").
std::string DiffResolutions(const ledger::Resolution& expected, const ledger::Resolution& actual);

}  // namespace kiln::properties
