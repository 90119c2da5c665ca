// How the KV store lays out its LevelDB: user keys under the prefix 'u', the store's own metadata
// under 'm', so no user key can collide with metadata and a scan of 'u' sees user keys only.
//
//   u<key>                  -> value        A user key, byte for byte after the prefix.
//   m/applied               -> lsn (BE64)   The newest LSN an apply batch wrote.
//   m/checkpoint            -> lsn (BE64)   Every record <= lsn is durable in LevelDB's tables.
//   m/counter/<key>         -> lsn (BE64)   See kCounterPrefix.
//   m/batch/<last (BE64)>   -> first (BE64) One per apply batch since the last checkpoint: the
//                                           batch applied records first..last. Recovery walks
//                                           these from the checkpoint to find where the applied
//                                           records stop being contiguous (apply_worker.h says
//                                           why).
//
// LSNs are big-endian so that marker keys sort by LSN under LevelDB's bytewise order.
#pragma once

#include <string>
#include <string_view>

#include "engine/runtime/result.h"
#include "engine/wal/wal.h"

namespace kiln::kv {

inline constexpr char kUserPrefix = 'u';
inline constexpr std::string_view kAppliedLsnKey = "m/applied";
inline constexpr std::string_view kCheckpointLsnKey = "m/checkpoint";
inline constexpr std::string_view kBatchMarkerPrefix = "m/batch/";
// m/counter/<key> -> lsn (BE64): the LSN of the last write applied to a key that has ever taken
// an add. Written in the same batch as the key, it makes re-applying a group idempotent for
// counters: an add (or any write to a counter) at or below it is already in the value.
inline constexpr std::string_view kCounterPrefix = "m/counter/";
inline constexpr size_t kLsnBytes = 8;

// 'u' + key.
std::string UserKey(std::string_view key);
// The user key of a LevelDB key. REQUIRES: db_key starts with kUserPrefix.
std::string_view UserKeyOf(std::string_view db_key);

std::string EncodeLsn(wal::Lsn lsn);
// Corruption unless `bytes` is exactly kLsnBytes long.
Result<wal::Lsn> DecodeLsn(std::string_view bytes, std::string_view what);

// kCounterPrefix + key.
std::string CounterKey(std::string_view key);

// kBatchMarkerPrefix + EncodeLsn(last).
std::string BatchMarkerKey(wal::Lsn last);
// The `last` LSN of a marker key; Corruption if it is malformed.
Result<wal::Lsn> BatchMarkerLsn(std::string_view db_key);

}  // namespace kiln::kv
