// How a queue lays out its items in the store (all keys under "q/<name>/"; names are 1-64 of
// [A-Za-z0-9_.-], so one queue's keys never run into another's):
//
//   q/.epoch                           -> decimal   Incremented by every Queue::Open: the epoch
//                                                   that item ids and leases carry.
//   q/<name>/i/<id>                    -> Item      Every live item (ready or leased).
//   q/<name>/r/<id>                    -> ""        Ready items, in id (enqueue) order.
//   q/<name>/l/<epoch><expiry><id>     -> ""        Leased items, by when the lease expires: an
//                                                   older epoch's lease has expired (the process
//                                                   that granted it restarted).
//   q/<name>/d/<id>                    -> Item      Dead letters.
//
// An id is <epoch BE64><seq BE64>; expiry is microseconds of monotonic time, BE64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/runtime/result.h"

namespace kiln::queue {

inline constexpr std::string_view kEpochKey = "q/.epoch";
inline constexpr size_t kIdBytes = 16;

struct Item {
  uint32_t attempts = 0;  // Claims so far.
  bool leased = false;
  uint64_t token = 0;        // The lease's token (leased only).
  uint64_t lease_epoch = 0;  // The epoch and monotonic expiry of the lease (leased only).
  int64_t lease_expiry_us = 0;
  uint64_t visible_epoch = 0;  // A nacked item is hidden until this (epoch, time).
  int64_t visible_at_us = 0;
  std::string payload;
};

std::string EncodeItem(const Item& item);
// Corruption for anything EncodeItem did not make.
Result<Item> DecodeItem(std::string_view bytes);

std::string BigEndian64(uint64_t v);
uint64_t FromBigEndian64(std::string_view bytes);  // REQUIRES: at least 8 bytes.

// InvalidArgument unless 1-64 bytes of [A-Za-z0-9_.-].
Status ValidateName(std::string_view name);

std::string Prefix(std::string_view name);  // "q/<name>/"
std::string ItemKey(std::string_view name, std::string_view id);
std::string ReadyKey(std::string_view name, std::string_view id);
std::string LeaseKey(std::string_view name, uint64_t epoch, int64_t expiry_us, std::string_view id);
std::string DeadKey(std::string_view name, std::string_view id);
// The id at the end of a ready, lease or dead key.
std::string IdOf(std::string_view key);

}  // namespace kiln::queue
