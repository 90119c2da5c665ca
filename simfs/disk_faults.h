// DiskFaults: the simulated disk's fault options, one documented field per fault kind. A fault
// plan fills this from the seed (or from the command line); every report prints it.
#pragma once

#include <cstdint>
#include <string>

namespace kiln::simfs {

// What a crash (power loss) keeps of the directory operations (create, rename, remove) that no
// sync_directory() made durable.
enum class DirCrashMode : uint8_t {
  // A journaling filesystem in ordered mode (ext4, xfs): a crash keeps a prefix, in issue order,
  // of the unsynced directory operations, and a sync() of any file commits the journal, making
  // every directory operation issued before it durable.
  kJournal,
  // POSIX-strict: a crash keeps a prefix in issue order; only sync_directory() makes a name
  // durable (a file's sync does not).
  kPrefix,
  // Stress: a crash keeps any subset of the unsynced directory operations.
  kAnySubset,
};

struct DiskFaults {
  // --- Crash (power loss) persistence. Synced data is never lost or changed by a crash. ---

  // If false, a crash keeps every unsynced write (as if only the process died). If true, each
  // crash the seed picks one of: keep none, keep all, keep a prefix in issue order, keep any
  // subset; at sector granularity.
  bool crash_loses_unsynced = false;
  // If true, a sector that a kept-or-lost decision splits may be torn: its unsynced bytes hold
  // the new bytes, the old bytes, or garbage (chosen per sector by the seed).
  bool crash_tears_sectors = false;
  DirCrashMode dir_crash_mode = DirCrashMode::kJournal;
  uint32_t sector_bytes = 512;

  // --- Capacity. ---

  // Writes (and allocate) past this many bytes in use fail with NoSpace.
  uint64_t capacity_bytes = UINT64_MAX;
  // If true, a write that does not fit lands up to the capacity boundary before failing (like a
  // real filesystem); if false it lands nothing.
  bool partial_write_on_full = true;

  // --- I/O errors: the probability that one operation of that kind fails with IOError. ---

  double read_error_p = 0;      // read
  double write_error_p = 0;     // write, append, truncate, allocate
  double sync_error_p = 0;      // sync (then: marked clean, not durable; Linux's behaviour)
  double metadata_error_p = 0;  // open, create_dir, remove, rename, list, sync_directory, size
  // The probability that an injected error is sticky: that file then fails every operation
  // until the next reboot.
  double sticky_error_p = 0;

  // --- Outside the durability contract: to check that they are detected, never silently
  // accepted. ---

  // Probability that a read returns data with one bit flipped (the stored bytes are unchanged).
  double read_corruption_p = 0;
  // Probability that a write lands at another offset of the same file (a misdirected write).
  double misdirected_write_p = 0;
  // If non-empty, the two faults above hit only files whose normalized path (no leading '/')
  // starts with this: a scenario aims them at the code it tests (e.g. "spine/wal/"), leaving
  // libraries whose reaction is documented elsewhere alone.
  std::string outside_contract_prefix;

  // True if any field above can inject a fault.
  bool any() const;
  // One line, "key=value" pairs, for reports.
  std::string ToString() const;
};

// Whether the faults outside the contract may hit the file at `normalized_path`.
inline bool OutsideContractApplies(const DiskFaults& f, const std::string& normalized_path) {
  return f.outside_contract_prefix.empty() ||
         normalized_path.compare(0, f.outside_contract_prefix.size(), f.outside_contract_prefix) ==
             0;
}

// What the disk injected so far, by kind; printed in reports.
struct DiskFaultCounts {
  uint64_t crashes = 0;
  uint64_t unsynced_writes_lost = 0;  // Sectors of unsynced data dropped by crashes.
  uint64_t sectors_torn = 0;
  uint64_t dir_ops_lost = 0;
  uint64_t no_space = 0;
  uint64_t read_errors = 0;
  uint64_t write_errors = 0;
  uint64_t sync_errors = 0;
  uint64_t metadata_errors = 0;
  uint64_t read_corruptions = 0;
  uint64_t misdirected_writes = 0;
};

}  // namespace kiln::simfs
