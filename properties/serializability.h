// Strict serializability of a transactional key-value store, checked over a TxnHistory.
//
// The serial order is the one the versions claim. Committed transactions that wrote something
// serialize at their commit_version (which must be unique); committed read-only transactions at
// their read_version, after every write committed at or below it. Replayed one by one in that
// order on a reference model (the store starts empty), every read and scan must return what
// the model holds at the transaction's place, overlaid with its own earlier writes. For a
// writing transaction that place is just before its commit_version: optimistic concurrency
// must have validated that nothing it read changed since its read_version, which must be
// below its commit_version. Aborted transactions never write, so a value only they wrote can
// never be read ("aborted read", G1a).
//
// Real time: if A's commit was acknowledged before B began, B serializes after A. So B reads
// at a version that includes every write acknowledged before it began (otherwise "stale read"),
// B commits above A's commit and read versions, and a read-only B reads a snapshot no older
// than a read-only A did.
//
// Unknown and pending transactions that wrote may or may not have committed, all or nothing, at
// a version nobody recorded. The checker first replays with all of them left out. If a read
// fails, it searches for a placement: each unknown either absent or committed at a version
// above its read_version and above every version acknowledged before it began (no upper
// bound: a commit in flight may surface after recovery). Versions are treated as dense: an
// unknown may sit between any two distinct versions, and a read-only transaction at r sees an
// unknown placed at v <= r. The search is driven by failures, depth first: at the first read
// the replay gets wrong, only an unknown that writes that key can fix it (as the last
// overwrite it must have put the value observed, or deleted the key if the read found
// nothing; or it adds to the key), so it tries those, the ones that put the very value
// observed first (values are usually unique, so that read pins its writer), each at every
// place between its lower bound and the failing read, earliest first (an unknown usually
// committed soon after it read), then replays on to the next failure. Places that replay
// alike (nothing in between conflicts with the unknown) are tried once, unless another
// unknown not placed yet could later land in between; placements seen before are not tried
// again. Each transaction replayed during the search counts one attempt; past
// `search_attempts_max` the check fails with "too many unknown transactions to resolve".
// An unknown transaction's reads are checked where it is placed and constrain nothing if it
// is left out; aborted transactions' reads are not checked (only committed ones must be
// serializable).
#pragma once

#include <cstdint>
#include <string>

#include "properties/txn_history.h"

namespace kiln::properties {

struct SerializabilityOptions {
  // The most transactions the search for a placement of unknown transactions may replay
  // (the first replay, with all of them left out, is free); past it the check fails.
  uint64_t search_attempts_max = 1'000'000;
};

struct SerializabilityResult {
  bool ok = true;
  std::string message;  // The first violation, naming the property and the transactions.
};

// The rules above for every transaction in `history`.
SerializabilityResult CheckSerializable(const TxnHistory& history,
                                        const SerializabilityOptions& options = {});

}  // namespace kiln::properties
