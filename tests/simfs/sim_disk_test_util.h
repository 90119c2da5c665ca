// Shared by the simfs tests: a disk with its random stream and trace, and terse helpers that
// turn strings into byte spans and statuses into readable test failures.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "engine/runtime/random.h"
#include "simclock/trace.h"
#include "simfs/disk_faults.h"
#include "simfs/sim_disk.h"

namespace kiln::simfs::testing {

inline std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

struct Rig {
  explicit Rig(DiskFaults faults = {}, uint64_t seed = 1)
      : random(seed), trace(false), disk(random, trace, faults) {}

  FileHandle Open(std::string_view path, OpenOptions options = {.create = true}) {
    Result<FileHandle> h = disk.open(path, options);
    EXPECT_TRUE(h.ok()) << "open " << path << ": " << h.status().ToString();
    return h.ok() ? *h : FileHandle{};
  }
  void Write(FileHandle h, uint64_t offset, std::string_view s) {
    Status st = disk.write(h, offset, Bytes(s));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  void Append(FileHandle h, std::string_view s) {
    Status st = disk.append(h, Bytes(s));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  void Sync(FileHandle h) {
    Status st = disk.sync(h);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  void SyncDir(std::string_view dir) {
    Status st = disk.sync_dir(dir);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  // Creates `path` with `contents`, synced, with its name durable.
  void Put(std::string_view path, std::string_view contents) {
    FileHandle h = Open(path, {.create = true, .truncate = true});
    Write(h, 0, contents);
    Sync(h);
    SyncDir(ParentDir(path));
    EXPECT_TRUE(disk.close(h).ok());
  }
  // Up to `n` bytes at `offset`, or "<error>" if the read fails.
  std::string Read(FileHandle h, uint64_t offset, size_t n) {
    std::string buf(n, '\0');
    Result<size_t> r = disk.read(h, offset, std::as_writable_bytes(std::span<char>(buf)));
    if (!r.ok()) return "<" + r.status().ToString() + ">";
    buf.resize(*r);
    return buf;
  }
  // The visible / durable contents, or "<NotFound: ...>".
  std::string Visible(std::string_view path) const {
    Result<std::string> r = disk.visible_contents(path);
    return r.ok() ? *r : "<" + r.status().ToString() + ">";
  }
  std::string Durable(std::string_view path) const {
    Result<std::string> r = disk.durable_contents(path);
    return r.ok() ? *r : "<" + r.status().ToString() + ">";
  }
  bool Exists(std::string_view path) {
    Result<bool> r = disk.exists(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }
  void CrashAndReboot(CrashChoice choice = CrashChoice::kSeeded) {
    disk.crash_with(choice);
    disk.reboot();
  }

  DeterministicRandom random;
  simclock::Trace trace;
  SimDisk disk;
};

inline DiskFaults LossyFaults(DirCrashMode mode = DirCrashMode::kJournal) {
  DiskFaults f;
  f.crash_loses_unsynced = true;
  f.dir_crash_mode = mode;
  return f;
}

}  // namespace kiln::simfs::testing
