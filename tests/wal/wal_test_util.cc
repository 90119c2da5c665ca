// The WAL tests' simulated machine and FaultFs (wal_test_util.h).
#include "tests/wal/wal_test_util.h"

#include <algorithm>
#include <map>
#include <set>

namespace kiln::wal::testing {
namespace {

bool IsWalFile(std::string_view path) {
  return path.ends_with(format::kSegmentSuffix);
}

class FaultFile final : public File {
 public:
  FaultFile(std::unique_ptr<File> inner, FaultKnobs& knobs, bool wal)
      : inner_(std::move(inner)), knobs_(knobs), wal_(wal) {}

  Task<Result<size_t>> read_at(uint64_t offset, std::span<std::byte> buf) override {
    return inner_->read_at(offset, buf);
  }
  Task<Status> write_at(uint64_t offset, std::span<const std::byte> data) override {
    return WriteAt(offset, data);
  }
  Task<Status> append(std::span<const std::byte> data) override { return inner_->append(data); }
  Task<Status> truncate(uint64_t size_bytes) override { return inner_->truncate(size_bytes); }
  Task<Status> sync() override {
    if (wal_) ++knobs_.syncs;
    return inner_->sync();
  }
  Task<Status> allocate(uint64_t offset, uint64_t length) override {
    return inner_->allocate(offset, length);
  }
  Task<Result<uint64_t>> size() override { return inner_->size(); }
  Task<Status> close() override { return inner_->close(); }

 private:
  Task<Status> WriteAt(uint64_t offset, std::span<const std::byte> data) {
    if (!wal_ || knobs_.tear_next_write_bytes < 0)
      co_return co_await inner_->write_at(offset, data);
    const size_t n = std::min<size_t>(data.size(), knobs_.tear_next_write_bytes);
    knobs_.tear_next_write_bytes = -1;
    Status st = co_await inner_->write_at(offset, data.first(n));
    EXPECT_TRUE(st.ok()) << st.ToString();
    co_return Status::IOError("FaultFs: write torn after " + std::to_string(n) + " bytes");
  }

  std::unique_ptr<File> inner_;
  FaultKnobs& knobs_;
  bool wal_;
};

Task<Result<std::unique_ptr<File>>> OpenThrough(FileSystem& inner, FaultKnobs& knobs,
                                                std::string path, OpenOptions options) {
  Result<std::unique_ptr<File>> f = co_await inner.open(path, options);
  if (!f.ok()) co_return f.status();
  co_return std::unique_ptr<File>(
      std::make_unique<FaultFile>(std::move(*f), knobs, IsWalFile(path)));
}

Task<Status> OpenInto(FileSystem& fs, Scheduler& scheduler, WalOptions options,
                      std::unique_ptr<Wal>* out) {
  Result<std::unique_ptr<Wal>> w = co_await Wal::Open(fs, scheduler, options);
  if (!w.ok()) co_return w.status();
  *out = std::move(*w);
  co_return Status::Ok();
}

}  // namespace

Task<Result<std::unique_ptr<File>>> FaultFs::open(std::string path, OpenOptions options) {
  return OpenThrough(inner_, knobs_, std::move(path), options);
}

WalRig::WalRig(simfs::DiskFaults faults, uint64_t seed)
    : sched_random(seed),
      disk_random(seed * 1000 + 1),
      fs_random(seed * 1000 + 2),
      disk(disk_random, trace, faults),
      sim_fs(disk, scheduler, fs_random) {
  options.dir = "wal";
  options.segment_bytes = 64 << 10;
  options.batch_bytes_max = 16 << 10;
  options.record_bytes_max = 1 << 10;
}

WalRig::~WalRig() {
  wal.reset();
  scheduler.destroy_all_tasks();  // Before the file system they use goes.
}

void WalRig::RunUntil(const std::function<bool()>& done, uint64_t steps_max) {
  const simclock::SimScheduler::RunResult r = scheduler.run_until(done, steps_max);
  EXPECT_FALSE(r.step_limit);
  EXPECT_EQ(scheduler.failure(), "");
}

Status WalRig::Open() {
  EXPECT_EQ(wal, nullptr);
  return Run(OpenInto(fs, scheduler, options, &wal));
}

Result<Lsn> WalRig::Append(std::string_view payload, uint8_t type) {
  return Run(wal->append(type, std::string(payload)));
}

Result<std::vector<Record>> WalRig::Read(Lsn from, size_t records_max) {
  return Run(wal->read_from(from, records_max));
}

Status WalRig::Close() {
  Status st = Run(wal->close());
  wal.reset();
  return st;
}

void WalRig::CrashAndReboot(simfs::CrashChoice choice) {
  disk.crash_with(choice);
  scheduler.kill_process(simclock::kSimulatorProcess);
  wal.reset();
  disk.reboot();
}

std::vector<std::string> WalRig::Segments() {
  Result<std::vector<std::string>> names = disk.list(options.dir);
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  std::vector<std::string> out;
  if (!names.ok()) return out;
  for (const std::string& n : *names) {
    if (ParseSegmentName(n).has_value()) out.push_back(n);
  }
  return out;
}

void WalRig::FlipByte(const std::string& path, uint64_t offset, uint8_t mask) {
  Result<simfs::FileHandle> h = disk.open(path, {});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  std::byte b{0};
  Result<size_t> n = disk.read(*h, offset, std::span<std::byte>(&b, 1));
  ASSERT_TRUE(n.ok() && *n == 1) << "no byte at " << offset << " in " << path;
  b ^= std::byte{mask};
  ASSERT_TRUE(disk.write(*h, offset, std::span<const std::byte>(&b, 1)).ok());
  ASSERT_TRUE(disk.sync(*h).ok());
  ASSERT_TRUE(disk.close(*h).ok());
}

uint64_t WalRig::WalSyncs() const {
  uint64_t n = 0;
  for (const simclock::TraceEvent& e : trace.events()) {
    if (e.kind == simclock::TraceKind::kIo && e.text.starts_with("sync ") &&
        e.text.ends_with(format::kSegmentSuffix)) {
      ++n;
    }
  }
  return n;
}

void WalRig::ExpectHolds(const std::vector<Acked>& acked,
                         const std::vector<std::string>& submitted) {
  ASSERT_NE(wal, nullptr);
  const Lsn durable = wal->durable_lsn();
  Result<std::vector<Record>> records = Read(1);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), durable) << "the log must hold LSN 1.." << durable;
  std::map<Lsn, std::string> by_lsn;
  for (size_t i = 0; i < records->size(); ++i) {
    const Record& r = (*records)[i];
    EXPECT_EQ(r.lsn, i + 1) << "LSNs must be 1, 2, 3, ... with no gaps";
    by_lsn[r.lsn] = r.payload;
  }
  for (const Acked& a : acked) {
    ASSERT_LE(a.lsn, durable) << "acknowledged LSN " << a.lsn << " was lost";
    EXPECT_EQ(by_lsn[a.lsn], a.payload) << "acknowledged LSN " << a.lsn << " changed";
  }
  const std::set<std::string> allowed(submitted.begin(), submitted.end());
  for (const auto& [lsn, payload] : by_lsn) {
    EXPECT_EQ(allowed.count(payload), 1u) << "LSN " << lsn << " holds bytes nobody appended";
  }
}

}  // namespace kiln::wal::testing
