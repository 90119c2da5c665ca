// DiskFaults: the fault options' summary and report line.
#include "simfs/disk_faults.h"

#include <cassert>
#include <cstdio>

namespace kiln::simfs {
namespace {

const char* DirCrashModeName(DirCrashMode mode) {
  switch (mode) {
    case DirCrashMode::kJournal:
      return "journal";
    case DirCrashMode::kPrefix:
      return "prefix";
    case DirCrashMode::kAnySubset:
      return "any-subset";
  }
  return "?";
}

// %.17g round-trips a double, so a printed report reproduces the exact probabilities.
std::string FormatDouble(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", p);
  return buf;
}

}  // namespace

bool DiskFaults::any() const {
  // A finite capacity counts: running out of space is a fault kind of its own.
  return crash_loses_unsynced || crash_tears_sectors || capacity_bytes != UINT64_MAX ||
         read_error_p > 0 || write_error_p > 0 || sync_error_p > 0 || metadata_error_p > 0 ||
         read_corruption_p > 0 || misdirected_write_p > 0;
}

std::string DiskFaults::ToString() const {
  // Every field, in declaration order, so that two reports diff line against line.
  std::string out;
  auto add = [&out](const char* key, const std::string& value) {
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += value;
  };
  add("crash_loses_unsynced", crash_loses_unsynced ? "true" : "false");
  add("crash_tears_sectors", crash_tears_sectors ? "true" : "false");
  add("dir_crash_mode", DirCrashModeName(dir_crash_mode));
  add("sector_bytes", std::to_string(sector_bytes));
  add("capacity_bytes",
      capacity_bytes == UINT64_MAX ? "unlimited" : std::to_string(capacity_bytes));
  add("partial_write_on_full", partial_write_on_full ? "true" : "false");
  add("read_error_p", FormatDouble(read_error_p));
  add("write_error_p", FormatDouble(write_error_p));
  add("sync_error_p", FormatDouble(sync_error_p));
  add("metadata_error_p", FormatDouble(metadata_error_p));
  add("sticky_error_p", FormatDouble(sticky_error_p));
  add("read_corruption_p", FormatDouble(read_corruption_p));
  add("misdirected_write_p", FormatDouble(misdirected_write_p));
  add("outside_contract_prefix", outside_contract_prefix.empty() ? "*" : outside_contract_prefix);
  assert(!out.empty());
  return out;
}

}  // namespace kiln::simfs
