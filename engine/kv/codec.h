// The one encoding of a WriteBatch as a log record's payload: what write() appends to the WAL and
// what the apply worker decodes. Every integer is little-endian; every byte string is length-
// prefixed, so keys and values may hold any bytes (NUL and all 256 values).
//
//   payload = [version u8 = 1][op_count u32] op*
//   op      = [kind u8: 1 put | 2 delete | 3 add][key_bytes u32][key] and, for a put,
//             [value_bytes u32][value]; for an add, [delta i64]
//
// Decoding checks every length against the bytes left and rejects trailing bytes, an unknown
// version or kind, and an op count the payload cannot hold, with Corruption: any input either
// decodes or is reported, never read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/kv/kv_store.h"
#include "engine/runtime/result.h"

namespace kiln::kv {

// The WAL record types the KV store writes (wal::Record::type). Any other type in its log is
// Corruption.
inline constexpr uint8_t kBatchRecordType = 1;

inline constexpr uint8_t kBatchFormatVersion = 1;
inline constexpr uint8_t kOpPut = 1;
inline constexpr uint8_t kOpDelete = 2;
inline constexpr uint8_t kOpAdd = 3;
inline constexpr size_t kDeltaBytes = 8;
inline constexpr size_t kBatchHeaderBytes = 1 + 4;  // version, op_count
inline constexpr size_t kOpHeaderBytes = 1 + 4;     // kind, key_bytes (smallest op: a delete)
inline constexpr size_t kValueHeaderBytes = 4;      // value_bytes (puts only)

// The encoded size of `batch`, without encoding it.
size_t EncodedBatchBytes(const WriteBatch& batch);
// The encoded size of a batch holding one put of the given sizes: the largest record a store
// with these limits must be able to log.
size_t EncodedPutBytes(size_t key_bytes, size_t value_bytes);

// REQUIRES: batch.size() and every key and value fit in a u32 (the store validates first).
std::string EncodeBatch(const WriteBatch& batch);

// One decoded op; the views point into the payload that was decoded.
struct OpView {
  bool is_delete = false;
  bool is_add = false;
  std::string_view key;
  std::string_view value;
  int64_t delta = 0;
};

// Corruption (naming what is wrong and at which byte) for any payload EncodeBatch did not make.
Result<std::vector<OpView>> DecodeBatchViews(std::string_view payload);
// The same, copied into a WriteBatch.
Result<WriteBatch> DecodeBatch(std::string_view payload);

}  // namespace kiln::kv
