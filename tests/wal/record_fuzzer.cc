// libFuzzer target for the WAL's decoders: DecodeRecord and ScanSegment see every input the
// fuzzer makes, with the first byte choosing the expected LSN and whether the segment is last.
// Built only with Clang (-fsanitize=fuzzer); not run by ctest. Run it as
//   build/tests/wal/wal_record_fuzzer -max_total_time=60
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/wal/record.h"
#include "engine/wal/segment_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  const kiln::wal::Lsn expected = control & 0x7f;
  kiln::Result<kiln::wal::DecodedRecord> r = kiln::wal::DecodeRecord(bytes, expected, 1 << 16);
  if (!r.ok()) {
    assert(r.status().IsCorruption());
  } else if (!r->end) {
    assert(r->size_bytes <= bytes.size());
    assert(r->durable_lsn < r->lsn);
  }
  const kiln::wal::SegmentScan s =
      kiln::wal::ScanSegment(bytes, expected == 0 ? 1 : expected, (control & 0x80) != 0, 1 << 16);
  assert(s.end_bytes <= bytes.size());
  return 0;
}
