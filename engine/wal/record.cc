// Record and segment-header framing: encoding, and the one decoder with its classification of
// bad bytes (record.h).
#include "engine/wal/record.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "engine/runtime/bugs.h"
#include "engine/wal/crc32c.h"

namespace kiln::wal {

KILN_DEFINE_BUG(crc_unchecked, "wal-crc-unchecked",
                "WAL recovery and reads skip the record CRC check, so damaged records are applied");

namespace {

using format::kRecordHeaderBytes;
using format::kSegmentHeaderBytes;

void StoreU32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
void StoreU64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}

bool AllZero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

DecodedRecord End() {
  DecodedRecord r;
  r.end = true;
  return r;
}

std::string Num(uint64_t v) {
  return std::to_string(v);
}

// The CRC stored with a record: over everything after the crc field.
uint32_t RecordCrc(std::span<const std::byte> record) {
  return crc32c::Mask(crc32c::Value(record.subspan(format::kRecordLengthOffset)));
}

}  // namespace

uint32_t LoadU32(std::span<const std::byte> bytes, size_t offset) {
  assert(offset + 4 <= bytes.size());
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(bytes[offset + i]) << (8 * i);
  return v;
}

uint64_t LoadU64(std::span<const std::byte> bytes, size_t offset) {
  assert(offset + 8 <= bytes.size());
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(bytes[offset + i]) << (8 * i);
  return v;
}

void EncodeRecord(Lsn lsn, Lsn durable_lsn, uint8_t type, std::span<const std::byte> payload,
                  std::vector<std::byte>* out) {
  assert(lsn >= 1);
  assert(durable_lsn < lsn);
  assert(payload.size() <= UINT32_MAX);
  const size_t start = out->size();
  out->resize(start + RecordBytes(payload.size()));
  std::byte* p = out->data() + start;
  StoreU32(p + format::kRecordLengthOffset, static_cast<uint32_t>(payload.size()));
  p[format::kRecordTypeOffset] = static_cast<std::byte>(type);
  StoreU64(p + format::kRecordLsnOffset, lsn);
  StoreU64(p + format::kRecordDurableLsnOffset, durable_lsn);
  std::copy(payload.begin(), payload.end(), p + kRecordHeaderBytes);
  const std::span<const std::byte> record(p, RecordBytes(payload.size()));
  StoreU32(p, RecordCrc(record));
  assert(out->size() == start + record.size());
}

Result<DecodedRecord> DecodeRecord(std::span<const std::byte> bytes, Lsn expected_lsn,
                                   uint32_t payload_bytes_max) {
  if (bytes.size() < kRecordHeaderBytes) {
    if (AllZero(bytes)) return End();
    return Status::Corruption("truncated record header: " + Num(bytes.size()) + " bytes left");
  }
  const std::span<const std::byte> header = bytes.first(kRecordHeaderBytes);
  if (AllZero(header)) {
    if (AllZero(bytes)) return End();
    return Status::Corruption("zero record header followed by non-zero bytes");
  }
  const uint32_t length = LoadU32(bytes, format::kRecordLengthOffset);
  if (length > payload_bytes_max) {
    return Status::Corruption("record length " + Num(length) + " over the maximum " +
                              Num(payload_bytes_max));
  }
  if (length > bytes.size() - kRecordHeaderBytes) {
    return Status::Corruption("record length " + Num(length) + " runs past the end (" +
                              Num(bytes.size() - kRecordHeaderBytes) + " bytes left)");
  }
  const std::span<const std::byte> record = bytes.first(RecordBytes(length));
  if (!KILN_BUG(crc_unchecked) && LoadU32(bytes, 0) != RecordCrc(record)) {
    return Status::Corruption("record checksum mismatch");
  }
  DecodedRecord r;
  r.lsn = LoadU64(bytes, format::kRecordLsnOffset);
  r.durable_lsn = LoadU64(bytes, format::kRecordDurableLsnOffset);
  r.type = static_cast<uint8_t>(bytes[format::kRecordTypeOffset]);
  if (r.lsn == 0 || r.durable_lsn >= r.lsn) {
    return Status::Corruption("impossible record LSNs: lsn " + Num(r.lsn) + ", durable_lsn " +
                              Num(r.durable_lsn));
  }
  if (expected_lsn != 0 && r.lsn != expected_lsn) {
    return Status::Corruption("record LSN " + Num(r.lsn) + " where " + Num(expected_lsn) +
                              " was expected");
  }
  r.payload = record.subspan(kRecordHeaderBytes);
  r.size_bytes = record.size();
  assert(r.size_bytes <= bytes.size());
  return r;
}

std::array<std::byte, kSegmentHeaderBytes> EncodeSegmentHeader(Lsn first_lsn) {
  assert(first_lsn >= 1);
  std::array<std::byte, kSegmentHeaderBytes> h{};
  for (size_t i = 0; i < format::kMagic.size(); ++i) h[i] = std::byte(format::kMagic[i]);
  StoreU32(h.data() + format::kHeaderVersionOffset, format::kVersion);
  StoreU64(h.data() + format::kHeaderFirstLsnOffset, first_lsn);
  const std::span<const std::byte> covered(h.data(), format::kHeaderCrcOffset);
  StoreU32(h.data() + format::kHeaderCrcOffset, crc32c::Mask(crc32c::Value(covered)));
  return h;
}

Result<Lsn> DecodeSegmentHeader(std::span<const std::byte> bytes) {
  if (bytes.size() < kSegmentHeaderBytes) {
    return Status::Corruption("segment header cut short: " + Num(bytes.size()) + " bytes");
  }
  const std::span<const std::byte> covered = bytes.first(format::kHeaderCrcOffset);
  if (LoadU32(bytes, format::kHeaderCrcOffset) != crc32c::Mask(crc32c::Value(covered))) {
    return Status::Corruption("segment header checksum mismatch");
  }
  for (size_t i = 0; i < format::kMagic.size(); ++i) {
    if (bytes[i] != std::byte(format::kMagic[i])) {
      return Status::Corruption("segment header has the wrong magic");
    }
  }
  const uint32_t version = LoadU32(bytes, format::kHeaderVersionOffset);
  if (version != format::kVersion) {
    return Status::Corruption("segment format version " + Num(version) + " is not supported");
  }
  const Lsn first = LoadU64(bytes, format::kHeaderFirstLsnOffset);
  if (first == 0) return Status::Corruption("segment header names LSN 0");
  return first;
}

std::string SegmentName(Lsn first_lsn) {
  char buf[format::kSegmentNameDigits + 1];
  std::snprintf(buf, sizeof(buf), "%020llu", static_cast<unsigned long long>(first_lsn));
  std::string name(buf);
  name += format::kSegmentSuffix;
  assert(name.size() == format::kSegmentNameDigits + format::kSegmentSuffix.size());
  return name;
}

std::optional<Lsn> ParseSegmentName(std::string_view name) {
  if (name.size() != format::kSegmentNameDigits + format::kSegmentSuffix.size()) return {};
  if (name.substr(format::kSegmentNameDigits) != format::kSegmentSuffix) return {};
  Lsn v = 0;
  for (size_t i = 0; i < format::kSegmentNameDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return {};
    const Lsn digit = static_cast<Lsn>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return {};  // Past 2^64: not a name we wrote.
    v = v * 10 + digit;
  }
  if (v == 0) return {};  // LSNs start at 1: not a name we wrote.
  return v;
}

}  // namespace kiln::wal
