// The WAL on the real runtime: PosixFileSystem and AsioScheduler on a fresh mkdtemp directory.
// Method: one smoke test runs the life of a log (concurrent appends, close, reopen, read back,
// rotate, truncate) as one coroutine, so the production paths (real fallocate, fdatasync,
// directory fsync, flock) are exercised at least once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/event.h"
#include "engine/runtime/posix_file_system.h"
#include "engine/wal/wal.h"
#include "tests/runtime/test_util.h"

namespace kiln::wal {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/kiln-wal-test-XXXXXX";
    const char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr) << "mkdtemp: " << std::strerror(errno);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One appender: its result, and an event the main coroutine waits on.
Task<void> AppendOne(Wal* wal, std::string payload, std::optional<Result<Lsn>>* out, int* left,
                     Event* all_done) {
  out->emplace(co_await wal->append(2, payload));
  if (--*left == 0) all_done->set();
}

Task<void> LifeOfALog(FileSystem& fs, Scheduler& scheduler, std::string dir) {
  WalOptions options;
  options.dir = dir + "/wal";
  options.segment_bytes = 4096;
  options.record_bytes_max = 512;
  Result<std::unique_ptr<Wal>> wal = co_await Wal::Open(fs, scheduler, options);
  KILN_CO_ASSERT_OK(wal);
  // A second Wal on the same directory is refused by the lock.
  Result<std::unique_ptr<Wal>> second = co_await Wal::Open(fs, scheduler, options);
  KILN_CO_ASSERT(second.status().IsUnavailable());

  constexpr int kAppends = 40;
  std::vector<std::optional<Result<Lsn>>> results(kAppends);
  int left = kAppends;
  Event all_done(scheduler, "all appended");
  for (int i = 0; i < kAppends; ++i) {
    std::string payload = "record " + std::to_string(i) + std::string(100, 'x');
    scheduler.spawn(AppendOne(wal->get(), std::move(payload), &results[i], &left, &all_done),
                    "appender");
  }
  co_await all_done.wait();
  for (const auto& r : results) KILN_CO_ASSERT_OK(*r);
  KILN_CO_ASSERT((*wal)->durable_lsn() == kAppends);
  KILN_CO_ASSERT_OK(co_await (*wal)->close());
  wal = Status::NotFound("closed");

  wal = co_await Wal::Open(fs, scheduler, options);
  KILN_CO_ASSERT_OK(wal);
  KILN_CO_ASSERT((*wal)->recovery().last_lsn == kAppends);
  KILN_CO_ASSERT((*wal)->recovery().segments > 1);  // 40 x 135 bytes do not fit in 4 KiB.
  Result<std::vector<Record>> records = co_await (*wal)->read_from(1, 1000);
  KILN_CO_ASSERT_OK(records);
  KILN_CO_ASSERT(records->size() == kAppends);
  for (size_t i = 0; i < records->size(); ++i) {
    EXPECT_EQ((*records)[i].lsn, i + 1);
    EXPECT_EQ((*records)[i].type, 2);
    EXPECT_TRUE((*records)[i].payload.starts_with("record "));
  }
  KILN_CO_ASSERT_OK(co_await (*wal)->truncate_before(kAppends));
  KILN_CO_ASSERT((*wal)->first_lsn() > 1);
  Result<Lsn> next = co_await (*wal)->append(1, "after");
  KILN_CO_ASSERT_OK(next);
  EXPECT_EQ(*next, kAppends + 1u);
  KILN_CO_ASSERT_OK(co_await (*wal)->close());
}

TEST(WalPosix, LifeOfALogOnTheRealDisk) {
  TempDir dir;
  AsioScheduler scheduler;
  PosixFileSystem fs(scheduler);
  RunToCompletion(scheduler, LifeOfALog(fs, scheduler, dir.path()));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/wal/00000000000000000001.wal"));
}

}  // namespace
}  // namespace kiln::wal
