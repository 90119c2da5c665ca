// PosixFileSystem on a fresh mkdtemp directory under /tmp, removed afterwards: each test runs
// one coroutine on an AsioScheduler and checks results against what it wrote. The errno mapping
// (NoSpace, IOError) is tested through PosixError directly, since a full disk needs root.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/posix_file_system.h"
#include "tests/runtime/test_util.h"

namespace kiln {
namespace {

using testing::AsBytes;
using testing::ToString;

// A directory under /tmp that lives as long as the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/kiln-runtime-test-XXXXXX";
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

class PosixFileSystemTest : public ::testing::Test {
 protected:
  std::string P(std::string_view name) const { return dir_.path() + "/" + std::string(name); }

  // Runs `body` (a callable returning Task<void>) to completion on the scheduler.
  template <typename F>
  void Run(F&& body) {
    RunToCompletion(scheduler_, body());
  }

  // Writes `content` to a new file `name` (test set-up, outside the file system under test).
  void WriteFile(std::string_view name, std::string_view content) {
    std::ofstream(P(name), std::ios::binary) << content;
  }

  Task<std::string> ReadAll(File& f) {
    Result<uint64_t> size = co_await f.size();
    EXPECT_TRUE(size.ok()) << size.status().ToString();
    if (!size.ok()) co_return "";
    std::string buf(*size, '\0');
    auto bytes = std::as_writable_bytes(std::span<char>(buf.data(), buf.size()));
    Result<size_t> n = co_await f.read_at(0, bytes);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok()) co_return "";
    buf.resize(*n);
    co_return buf;
  }

  Task<std::unique_ptr<File>> OpenOrFail(std::string path, OpenOptions options) {
    Result<std::unique_ptr<File>> f = co_await fs_.open(path, options);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    co_return f.ok() ? std::move(f).value() : nullptr;
  }

  TempDir dir_;
  AsioScheduler scheduler_;
  PosixFileSystem fs_{scheduler_};
};

constexpr OpenOptions kCreate{.create = true};

TEST_F(PosixFileSystemTest, WriteThenReadBack) {
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->write_at(0, AsBytes("hello world")));
    KILN_CO_ASSERT_OK(co_await f->write_at(6, AsBytes("WORLD")));
    EXPECT_EQ(co_await ReadAll(*f), "hello WORLD");
    std::string part(5, '\0');
    Result<size_t> n = co_await f->read_at(2, std::as_writable_bytes(std::span(part)));
    KILN_CO_ASSERT_OK(n);
    EXPECT_EQ(*n, 5u);
    EXPECT_EQ(part, "llo W");
    KILN_CO_ASSERT_OK(co_await f->close());
  });
}

TEST_F(PosixFileSystemTest, WriteAtPastTheEndExtendsWithZeros) {
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->write_at(4, AsBytes("x")));
    EXPECT_EQ(co_await ReadAll(*f), std::string("\0\0\0\0x", 5));
  });
}

// Found by MatchesAByteStringModel in CI: an empty write_at past the end moved the append
// position without extending the file, so the next append left a hole.
TEST_F(PosixFileSystemTest, AnEmptyWritePastTheEndChangesNothing) {
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->write_at(1, {}));
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("a")));
    EXPECT_EQ(co_await ReadAll(*f), "a");
  });
}

TEST_F(PosixFileSystemTest, AppendWritesAtTheEnd) {
  WriteFile("a", "abc");
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), {});
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("de")));
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("f")));
    KILN_CO_ASSERT_OK(co_await f->write_at(10, AsBytes("k")));
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("l")));
    EXPECT_EQ(co_await ReadAll(*f), std::string("abcdef\0\0\0\0kl", 12));
  });
}

TEST_F(PosixFileSystemTest, ConcurrentAppendsGetDisjointRanges) {
  constexpr int kWriters = 8;
  constexpr size_t kBytes = 4096;
  Run([&]() -> Task<void> {
    std::unique_ptr<File> f = co_await OpenOrFail(P("log"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    std::vector<std::string> blocks;
    for (int i = 0; i < kWriters; ++i) blocks.emplace_back(kBytes, static_cast<char>('a' + i));
    int done = 0;
    auto writer = [](File& f, const std::string& block, int* done) -> Task<void> {
      const Status s = co_await f.append(AsBytes(block));
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++*done;
    };
    for (int i = 0; i < kWriters; ++i) scheduler_.spawn(writer(*f, blocks[i], &done), "writer");
    while (done < kWriters) co_await scheduler_.sleep_for(std::chrono::milliseconds(1));
    const std::string all = co_await ReadAll(*f);
    KILN_CO_ASSERT(all.size() == kWriters * kBytes);
    std::vector<char> seen;
    for (size_t off = 0; off < all.size(); off += kBytes) {
      const std::string block = all.substr(off, kBytes);
      EXPECT_EQ(std::count(block.begin(), block.end(), block[0]), static_cast<long>(kBytes));
      seen.push_back(block[0]);
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::string(seen.begin(), seen.end()), "abcdefgh");
  });
}

TEST_F(PosixFileSystemTest, ReadAtOrPastTheEndReturnsZero) {
  WriteFile("a", "0123456789");
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), {.read_only = true});
    KILN_CO_ASSERT(f != nullptr);
    std::string buf(4, '?');
    auto bytes = std::as_writable_bytes(std::span(buf));
    Result<size_t> at_end = co_await f->read_at(10, bytes);
    KILN_CO_ASSERT_OK(at_end);
    EXPECT_EQ(*at_end, 0u);
    Result<size_t> past_end = co_await f->read_at(1000, bytes);
    KILN_CO_ASSERT_OK(past_end);
    EXPECT_EQ(*past_end, 0u);
    Result<size_t> empty = co_await f->read_at(0, bytes.first(0));
    KILN_CO_ASSERT_OK(empty);
    EXPECT_EQ(*empty, 0u);
  });
}

TEST_F(PosixFileSystemTest, ShortReadOnlyAtTheEnd) {
  WriteFile("a", "0123456789");
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), {.read_only = true});
    KILN_CO_ASSERT(f != nullptr);
    std::string buf(20, '?');
    Result<size_t> n = co_await f->read_at(5, std::as_writable_bytes(std::span(buf)));
    KILN_CO_ASSERT_OK(n);
    EXPECT_EQ(*n, 5u);
    EXPECT_EQ(buf.substr(0, 5), "56789");
    EXPECT_EQ(buf.substr(5), std::string(15, '?'));  // Untouched past the end.
  });
}

TEST_F(PosixFileSystemTest, LargeWriteAndReadRoundTrip) {
  std::string data(3 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 % 251);
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("big"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes(data)));
    KILN_CO_ASSERT_OK(co_await f->sync());
    EXPECT_TRUE(co_await ReadAll(*f) == data);
  });
}

TEST_F(PosixFileSystemTest, SizeAndTruncate) {
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("0123456789")));
    Result<uint64_t> size = co_await f->size();
    KILN_CO_ASSERT_OK(size);
    EXPECT_EQ(*size, 10u);
    KILN_CO_ASSERT_OK(co_await f->truncate(4));
    EXPECT_EQ(co_await ReadAll(*f), "0123");
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("x")));  // At the new end.
    EXPECT_EQ(co_await ReadAll(*f), "0123x");
    KILN_CO_ASSERT_OK(co_await f->truncate(8));  // Extends with zeros.
    EXPECT_EQ(co_await ReadAll(*f), std::string("0123x\0\0\0", 8));
    Result<uint64_t> by_name = co_await fs_.file_size(P("a"));
    KILN_CO_ASSERT_OK(by_name);
    EXPECT_EQ(*by_name, 8u);
  });
}

TEST_F(PosixFileSystemTest, OpenWithTruncateEmptiesTheFile) {
  WriteFile("a", "old contents");
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), {.truncate = true});
    KILN_CO_ASSERT(f != nullptr);
    EXPECT_EQ(co_await ReadAll(*f), "");
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("new")));
    EXPECT_EQ(co_await ReadAll(*f), "new");
  });
}

TEST_F(PosixFileSystemTest, SyncSucceeds) {
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("durable")));
    KILN_CO_ASSERT_OK(co_await f->sync());
    KILN_CO_ASSERT_OK(co_await fs_.sync_directory(dir_.path()));
  });
}

TEST_F(PosixFileSystemTest, AllocateReservesWithoutChangingTheSize) {
  constexpr uint64_t kReserveBytes = 1 << 20;
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("seg"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("head")));
    KILN_CO_ASSERT_OK(co_await f->allocate(0, kReserveBytes));
    KILN_CO_ASSERT_OK(co_await f->allocate(0, 0));  // An empty range is fine.
    Result<uint64_t> size = co_await f->size();
    KILN_CO_ASSERT_OK(size);
    EXPECT_EQ(*size, 4u);
    struct stat st;
    KILN_CO_ASSERT(::stat(P("seg").c_str(), &st) == 0);
    EXPECT_EQ(st.st_size, 4);
    EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, kReserveBytes);  // Blocks are held.
    KILN_CO_ASSERT_OK(co_await f->append(AsBytes("tail")));  // Appends still follow the data.
    EXPECT_EQ(co_await ReadAll(*f), "headtail");
  });
}

TEST_F(PosixFileSystemTest, MissingFilesAreNotFound) {
  Run([&]() -> Task<void> {
    Result<std::unique_ptr<File>> f = co_await fs_.open(P("missing"), {});
    EXPECT_TRUE(f.status().IsNotFound()) << f.status().ToString();
    EXPECT_NE(f.status().message().find(P("missing")), std::string::npos);
    EXPECT_TRUE((co_await fs_.file_size(P("missing"))).status().IsNotFound());
    EXPECT_TRUE((co_await fs_.remove(P("missing"))).IsNotFound());
    EXPECT_TRUE((co_await fs_.rename(P("missing"), P("b"))).IsNotFound());
    EXPECT_TRUE((co_await fs_.list(P("no-dir"))).status().IsNotFound());
    EXPECT_TRUE((co_await fs_.sync_directory(P("no-dir"))).IsNotFound());
    EXPECT_TRUE((co_await fs_.create_dir(P("no-dir/sub"))).IsNotFound());
    Result<bool> exists = co_await fs_.exists(P("missing"));
    KILN_CO_ASSERT_OK(exists);
    EXPECT_FALSE(*exists);
  });
}

TEST_F(PosixFileSystemTest, BadPathsAreInvalidArgument) {
  const std::string nul = P(std::string("a\0b", 3));
  const std::vector<std::string> bad_paths = {nul, std::string()};
  Run([&]() -> Task<void> {
    for (const std::string& bad : bad_paths) {
      SCOPED_TRACE(bad.empty() ? "empty" : "NUL");
      EXPECT_TRUE((co_await fs_.open(bad, kCreate)).status().IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.create_dir(bad)).IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.remove(bad)).IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.rename(bad, P("x"))).IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.rename(P("x"), bad)).IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.list(bad)).status().IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.sync_directory(bad)).IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.file_size(bad)).status().IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.exists(bad)).status().IsInvalidArgument());
      EXPECT_TRUE((co_await fs_.lock(bad)).status().IsInvalidArgument());
    }
  });
  // The NUL check happens before any system call: nothing named "a" was created.
  EXPECT_FALSE(std::filesystem::exists(P("a")));
}

TEST_F(PosixFileSystemTest, RenameReplacesTheTarget) {
  WriteFile("new", "fresh");
  WriteFile("current", "stale");
  Run([&]() -> Task<void> {
    KILN_CO_ASSERT_OK(co_await fs_.rename(P("new"), P("current")));
    auto f = co_await OpenOrFail(P("current"), {.read_only = true});
    KILN_CO_ASSERT(f != nullptr);
    EXPECT_EQ(co_await ReadAll(*f), "fresh");
    Result<bool> old_exists = co_await fs_.exists(P("new"));
    KILN_CO_ASSERT_OK(old_exists);
    EXPECT_FALSE(*old_exists);
    KILN_CO_ASSERT_OK(co_await fs_.sync_directory(dir_.path()));
  });
}

TEST_F(PosixFileSystemTest, ListIsSortedNamesOnly) {
  WriteFile("c", "");
  WriteFile("a", "");
  WriteFile("B", "");
  Run([&]() -> Task<void> {
    KILN_CO_ASSERT_OK(co_await fs_.create_dir(P("b")));
    KILN_CO_ASSERT_OK(co_await fs_.create_dir(P("b")));  // Already there: Ok.
    Result<std::vector<std::string>> names = co_await fs_.list(dir_.path());
    KILN_CO_ASSERT_OK(names);
    EXPECT_EQ(*names, (std::vector<std::string>{"B", "a", "b", "c"}));
    Result<std::vector<std::string>> empty = co_await fs_.list(P("b"));
    KILN_CO_ASSERT_OK(empty);
    EXPECT_TRUE(empty->empty());
  });
}

TEST_F(PosixFileSystemTest, CreateDirOverAFileFails) {
  WriteFile("f", "");
  Run([&]() -> Task<void> {
    const Status s = co_await fs_.create_dir(P("f"));
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
  });
}

TEST_F(PosixFileSystemTest, RemoveFilesAndEmptyDirectories) {
  WriteFile("f", "x");
  Run([&]() -> Task<void> {
    KILN_CO_ASSERT_OK(co_await fs_.create_dir(P("d")));
    KILN_CO_ASSERT_OK(co_await fs_.create_dir(P("full")));
    KILN_CO_ASSERT_OK((co_await fs_.open(P("full/x"), kCreate)).status());
    KILN_CO_ASSERT_OK(co_await fs_.remove(P("f")));
    KILN_CO_ASSERT_OK(co_await fs_.remove(P("d")));
    const Status not_empty = co_await fs_.remove(P("full"));
    EXPECT_TRUE(not_empty.IsIOError()) << not_empty.ToString();
    Result<std::vector<std::string>> names = co_await fs_.list(dir_.path());
    KILN_CO_ASSERT_OK(names);
    EXPECT_EQ(*names, std::vector<std::string>{"full"});
  });
}

TEST_F(PosixFileSystemTest, ExistsSeesFilesAndDirectories) {
  WriteFile("f", "");
  Run([&]() -> Task<void> {
    Result<bool> file = co_await fs_.exists(P("f"));
    Result<bool> dir = co_await fs_.exists(dir_.path());
    Result<bool> through_file = co_await fs_.exists(P("f/x"));
    KILN_CO_ASSERT_OK(file);
    KILN_CO_ASSERT_OK(dir);
    KILN_CO_ASSERT_OK(through_file);
    EXPECT_TRUE(*file);
    EXPECT_TRUE(*dir);
    EXPECT_FALSE(*through_file);
  });
}

TEST_F(PosixFileSystemTest, ExclusiveCreateOfAnExistingFileFails) {
  WriteFile("a", "keep me");
  Run([&]() -> Task<void> {
    Result<std::unique_ptr<File>> again =
        co_await fs_.open(P("a"), {.create = true, .exclusive = true});
    EXPECT_TRUE(again.status().IsInvalidArgument()) << again.status().ToString();
    Result<std::unique_ptr<File>> fresh =
        co_await fs_.open(P("b"), {.create = true, .exclusive = true});
    EXPECT_TRUE(fresh.ok()) << fresh.status().ToString();
    Result<std::unique_ptr<File>> no_create = co_await fs_.open(P("c"), {.exclusive = true});
    EXPECT_TRUE(no_create.status().IsInvalidArgument());
    auto f = co_await OpenOrFail(P("a"), {.read_only = true});
    KILN_CO_ASSERT(f != nullptr);
    EXPECT_EQ(co_await ReadAll(*f), "keep me");
  });
}

TEST_F(PosixFileSystemTest, ReadOnlyFilesRejectWrites) {
  WriteFile("a", "data");
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), {.read_only = true});
    KILN_CO_ASSERT(f != nullptr);
    EXPECT_TRUE((co_await f->write_at(0, AsBytes("x"))).IsInvalidArgument());
    EXPECT_TRUE((co_await f->append(AsBytes("x"))).IsInvalidArgument());
    EXPECT_TRUE((co_await f->truncate(0)).IsInvalidArgument());
    EXPECT_TRUE((co_await f->allocate(0, 100)).IsInvalidArgument());
    EXPECT_EQ(co_await ReadAll(*f), "data");
    EXPECT_TRUE((co_await fs_.open(P("a"), {.truncate = true, .read_only = true}))
                    .status()
                    .IsInvalidArgument());
  });
}

TEST_F(PosixFileSystemTest, ClosedFilesRejectEverything) {
  Run([&]() -> Task<void> {
    auto f = co_await OpenOrFail(P("a"), kCreate);
    KILN_CO_ASSERT(f != nullptr);
    KILN_CO_ASSERT_OK(co_await f->close());
    std::string buf(1, '\0');
    EXPECT_TRUE((co_await f->read_at(0, std::as_writable_bytes(std::span(buf))))
                    .status()
                    .IsInvalidArgument());
    EXPECT_TRUE((co_await f->append(AsBytes("x"))).IsInvalidArgument());
    EXPECT_TRUE((co_await f->sync()).IsInvalidArgument());
    EXPECT_TRUE((co_await f->size()).status().IsInvalidArgument());
    EXPECT_TRUE((co_await f->close()).IsInvalidArgument());
  });
}

TEST_F(PosixFileSystemTest, OpeningADirectoryIsAnError) {
  Run([&]() -> Task<void> {
    Result<std::unique_ptr<File>> f = co_await fs_.open(dir_.path(), {.read_only = true});
    EXPECT_TRUE(f.status().IsIOError()) << f.status().ToString();
  });
}

// Tries to take the lock from a child process: 1 if it is held, 0 if the child got it.
int LockFromAnotherProcess(const std::string& path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) ::_exit(2);
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) ::_exit(0);
    ::_exit(errno == EWOULDBLOCK ? 1 : 3);
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(PosixFileSystemTest, LockIsExclusiveUntilReleased) {
  Run([&]() -> Task<void> {
    Result<std::unique_ptr<FileLock>> first = co_await fs_.lock(P("LOCK"));
    KILN_CO_ASSERT_OK(first);
    // Again through this file system, another spelling, another instance, another process.
    Result<std::unique_ptr<FileLock>> again = co_await fs_.lock(P("LOCK"));
    EXPECT_TRUE(again.status().IsUnavailable()) << again.status().ToString();
    Result<std::unique_ptr<FileLock>> alias = co_await fs_.lock(dir_.path() + "/./LOCK");
    EXPECT_TRUE(alias.status().IsUnavailable()) << alias.status().ToString();
    PosixFileSystem other(scheduler_);
    Result<std::unique_ptr<FileLock>> other_fs = co_await other.lock(P("LOCK"));
    EXPECT_TRUE(other_fs.status().IsUnavailable()) << other_fs.status().ToString();
    EXPECT_EQ(LockFromAnotherProcess(P("LOCK")), 1);
    first->reset();  // Release.
    EXPECT_EQ(LockFromAnotherProcess(P("LOCK")), 0);
    Result<std::unique_ptr<FileLock>> after = co_await fs_.lock(P("LOCK"));
    EXPECT_TRUE(after.ok()) << after.status().ToString();
  });
}

TEST_F(PosixFileSystemTest, OpeningAndClosingTheLockFileKeepsTheLock) {
  Run([&]() -> Task<void> {
    Result<std::unique_ptr<FileLock>> lock = co_await fs_.lock(P("LOCK"));
    KILN_CO_ASSERT_OK(lock);
    {
      auto f = co_await OpenOrFail(P("LOCK"), {});
      KILN_CO_ASSERT(f != nullptr);
      KILN_CO_ASSERT_OK(co_await f->close());
    }
    EXPECT_EQ(LockFromAnotherProcess(P("LOCK")), 1);
  });
}

TEST(PosixErrorTest, MapsErrnoToCodes) {
  EXPECT_TRUE(PosixError("pwrite", "/d/f", ENOSPC).IsNoSpace());
  EXPECT_TRUE(PosixError("pwrite", "/d/f", EDQUOT).IsNoSpace());
  EXPECT_TRUE(PosixError("open", "/d/f", ENOENT).IsNotFound());
  EXPECT_TRUE(PosixError("pread", "/d/f", EIO).IsIOError());
  EXPECT_TRUE(PosixError("open", "/d/f", EACCES).IsIOError());
  EXPECT_TRUE(PosixError("fsync", "/d", EINVAL).IsIOError());
}

TEST(PosixErrorTest, MessageNamesTheOperationThePathAndTheError) {
  const Status s = PosixError("pwrite", "/data/wal/000001.log", ENOSPC);
  EXPECT_EQ(s.message(), "pwrite /data/wal/000001.log: No space left on device");
  EXPECT_EQ(PosixError("pread", "/x", EIO).message(), "pread /x: Input/output error");
}

TEST(PosixErrorTest, AnIOErrorIsNeverEndOfFile) {
  // A failed read must surface as an error, not as a read of fewer (or zero) bytes.
  const Status s = PosixError("pread", "/data/f", EIO);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsIOError());
  EXPECT_FALSE(s.IsNotFound());
  EXPECT_FALSE(s.IsNoSpace());
  const Result<size_t> read = s;
  EXPECT_FALSE(read.ok());
  EXPECT_TRUE(read.status().IsIOError());
}

// A model-based property: random writes, appends and truncates on a real file match the same
// operations on a byte string, and reads return the model's bytes (short only at its end).
struct FileOp {
  int kind;  // 0 write_at, 1 append, 2 truncate, 3 read_at.
  uint32_t offset;
  uint32_t length;
  char fill;
};

void showValue(const FileOp& op, std::ostream& os) {
  static constexpr const char* kNames[] = {"write_at", "append", "truncate", "read_at"};
  os << kNames[op.kind] << "(offset=" << op.offset << ", length=" << op.length << ", fill='"
     << op.fill << "')";
}

Task<void> CheckOps(PosixFileSystem& fs, std::string path, std::vector<FileOp> ops) {
  Result<std::unique_ptr<File>> opened = co_await fs.open(path, {.create = true, .truncate = true});
  RC_ASSERT(opened.ok());
  File& f = **opened;
  std::string model;
  for (const FileOp& op : ops) {
    const std::string data(op.length, op.fill);
    if (op.kind == 0) {
      RC_ASSERT((co_await f.write_at(op.offset, AsBytes(data))).ok());
      if (!data.empty()) {
        if (model.size() < op.offset + data.size()) model.resize(op.offset + data.size(), '\0');
        model.replace(op.offset, data.size(), data);
      }
    } else if (op.kind == 1) {
      RC_ASSERT((co_await f.append(AsBytes(data))).ok());
      model += data;
    } else if (op.kind == 2) {
      RC_ASSERT((co_await f.truncate(op.offset)).ok());
      model.resize(op.offset, '\0');
    } else {
      std::string buf(op.length, '?');
      Result<size_t> n = co_await f.read_at(op.offset, std::as_writable_bytes(std::span(buf)));
      RC_ASSERT(n.ok());
      const std::string expected =
          op.offset >= model.size() ? "" : model.substr(op.offset, op.length);
      RC_ASSERT(buf.substr(0, *n) == expected);
    }
  }
  Result<uint64_t> size = co_await f.size();
  RC_ASSERT(size.ok());
  RC_ASSERT(*size == model.size());
}

RC_GTEST_PROP(PosixFileSystemProperty, MatchesAByteStringModel, ()) {
  const auto ops = *rc::gen::container<std::vector<FileOp>>(
      rc::gen::build<FileOp>(rc::gen::set(&FileOp::kind, rc::gen::inRange(0, 4)),
                             rc::gen::set(&FileOp::offset, rc::gen::inRange<uint32_t>(0, 3000)),
                             rc::gen::set(&FileOp::length, rc::gen::inRange<uint32_t>(0, 700)),
                             rc::gen::set(&FileOp::fill, rc::gen::inRange('a', 'z'))));
  TempDir dir;
  AsioScheduler scheduler;
  PosixFileSystem fs(scheduler);
  RunToCompletion(scheduler, CheckOps(fs, dir.path() + "/model", ops));
}

}  // namespace
}  // namespace kiln
