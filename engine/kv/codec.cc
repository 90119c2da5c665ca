// The WriteBatch log encoding: see codec.h for the layout.
#include "engine/kv/codec.h"

#include <cassert>
#include <limits>

namespace kiln::kv {
namespace {

constexpr size_t kU32Max = std::numeric_limits<uint32_t>::max();

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(in[at + i])} << (8 * i);
  return v;
}

void PutBytes(std::string& out, std::string_view bytes) {
  assert(bytes.size() <= kU32Max);
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes);
}

Status Bad(std::string_view what, size_t at) {
  return Status::Corruption("write batch record: " + std::string(what) + " at byte " +
                            std::to_string(at));
}

// Reads a u32-length-prefixed byte string at `*at`, advancing it.
Status GetBytes(std::string_view in, size_t* at, std::string_view what, std::string_view* out) {
  if (in.size() - *at < 4) return Bad(std::string(what) + " length cut short", *at);
  const uint32_t n = GetU32(in, *at);
  *at += 4;
  if (in.size() - *at < n) {
    return Bad(std::string(what) + " of " + std::to_string(n) + " bytes runs past the end", *at);
  }
  *out = in.substr(*at, n);
  *at += n;
  return Status::Ok();
}

}  // namespace

size_t EncodedBatchBytes(const WriteBatch& batch) {
  size_t bytes = kBatchHeaderBytes;
  for (const WriteBatch::Op& op : batch.ops()) {
    bytes += kOpHeaderBytes + op.key.size();
    if (op.is_add) {
      bytes += kDeltaBytes;
    } else if (!op.is_delete) {
      bytes += kValueHeaderBytes + op.value.size();
    }
  }
  return bytes;
}

size_t EncodedPutBytes(size_t key_bytes, size_t value_bytes) {
  return kBatchHeaderBytes + kOpHeaderBytes + key_bytes + kValueHeaderBytes + value_bytes;
}

std::string EncodeBatch(const WriteBatch& batch) {
  assert(batch.size() <= kU32Max);
  std::string out;
  out.reserve(EncodedBatchBytes(batch));
  out.push_back(static_cast<char>(kBatchFormatVersion));
  PutU32(out, static_cast<uint32_t>(batch.size()));
  for (const WriteBatch::Op& op : batch.ops()) {
    out.push_back(static_cast<char>(op.is_add ? kOpAdd : op.is_delete ? kOpDelete : kOpPut));
    PutBytes(out, op.key);
    if (op.is_add) {
      const auto d = static_cast<uint64_t>(op.delta);
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((d >> (8 * i)) & 0xff));
    } else if (!op.is_delete) {
      PutBytes(out, op.value);
    }
  }
  assert(out.size() == EncodedBatchBytes(batch));
  return out;
}

Result<std::vector<OpView>> DecodeBatchViews(std::string_view payload) {
  if (payload.size() < kBatchHeaderBytes) return Bad("header cut short", 0);
  if (static_cast<uint8_t>(payload[0]) != kBatchFormatVersion) {
    return Bad("unknown format version " + std::to_string(static_cast<uint8_t>(payload[0])), 0);
  }
  const uint32_t count = GetU32(payload, 1);
  // Every op takes at least kOpHeaderBytes, so a larger count is damage, not a reason to reserve.
  if (count > (payload.size() - kBatchHeaderBytes) / kOpHeaderBytes) {
    return Bad("op count " + std::to_string(count) + " does not fit the record", 1);
  }
  std::vector<OpView> ops;
  ops.reserve(count);
  size_t at = kBatchHeaderBytes;
  for (uint32_t i = 0; i < count; ++i) {
    if (at >= payload.size()) return Bad("op " + std::to_string(i) + " missing", at);
    const uint8_t kind = static_cast<uint8_t>(payload[at]);
    if (kind != kOpPut && kind != kOpDelete && kind != kOpAdd) {
      return Bad("unknown op kind " + std::to_string(kind), at);
    }
    ++at;
    OpView op;
    op.is_delete = kind == kOpDelete;
    op.is_add = kind == kOpAdd;
    if (Status s = GetBytes(payload, &at, "key", &op.key); !s.ok()) return s;
    if (op.is_add) {
      if (payload.size() - at < kDeltaBytes) return Bad("delta cut short", at);
      uint64_t d = 0;
      for (int i = 0; i < 8; ++i) d |= uint64_t{static_cast<uint8_t>(payload[at + i])} << (8 * i);
      op.delta = static_cast<int64_t>(d);
      at += kDeltaBytes;
    } else if (!op.is_delete) {
      if (Status s = GetBytes(payload, &at, "value", &op.value); !s.ok()) return s;
    }
    ops.push_back(op);
  }
  if (at != payload.size()) {
    return Bad(std::to_string(payload.size() - at) + " trailing bytes", at);
  }
  assert(ops.size() == count);
  return ops;
}

Result<WriteBatch> DecodeBatch(std::string_view payload) {
  Result<std::vector<OpView>> views = DecodeBatchViews(payload);
  if (!views.ok()) return views.status();
  WriteBatch batch;
  for (const OpView& op : *views) {
    if (op.is_add) {
      batch.add(std::string(op.key), op.delta);
    } else if (op.is_delete) {
      batch.del(std::string(op.key));
    } else {
      batch.put(std::string(op.key), std::string(op.value));
    }
  }
  return batch;
}

}  // namespace kiln::kv
