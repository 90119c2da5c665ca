// What the plain-main() benchmarks on the production runtime share (kv_commit_bench.cc,
// txn_bench.cc): steady_clock time and measured windows, a latency histogram with percentiles,
// temporary directories, the production runtime and a KvStore on it, the options every program
// takes, the build's identity and the report's header lines, and how busy the rest of the machine
// was during a run.
// Nothing here is asserted: a slow machine only gets smaller numbers.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/kv/kv_store.h"
#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/default_leveldb_host.h"
#include "engine/runtime/posix_file_system.h"
#include "engine/runtime/result.h"
#include "engine/runtime/system_clock.h"
#include "engine/runtime/task.h"

namespace CLI {
class App;
}

namespace kiln::bench {

// std::chrono::steady_clock, in nanoseconds.
int64_t NowNs();

// The wait from now until steady_clock reads `ns` (zero if it already has).
Duration UntilNs(int64_t ns);

// Latencies in nanoseconds, in log-linear buckets: values below 256 exactly, above that 128
// buckets per power of two, so a percentile is off by less than 1%. Fixed size, whatever the run.
class LatencyHistogram {
 public:
  void add(int64_t ns);
  void merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  double mean_ms() const { return count_ == 0 ? 0 : sum_ns_ / 1e6 / count_; }
  double max_ms() const { return max_ns_ / 1e6; }
  // The value at fraction `q` of the samples (the middle of its bucket), in milliseconds.
  double quantile_ms(double q) const;

 private:
  static constexpr int kSubBits = 7;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) << kSubBits;
  static size_t Index(uint64_t v);
  static uint64_t Middle(size_t i);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ns_ = 0;
  uint64_t max_ns_ = 0;
};

// Adds `name`_ms_p50, _p99, _p999, _mean and _max of `h` to the JSON object `j`.
void AddLatencyJson(nlohmann::json& j, const std::string& name, const LatencyHistogram& h);

// The measured part of a run, in steady_clock nanoseconds.
struct Window {
  int64_t begin_ns = 0;
  int64_t end_ns = 0;

  // The window that opens `warmup_seconds` from now and lasts `seconds`.
  static Window FromNow(double warmup_seconds, double seconds);
  bool contains(int64_t ns) const { return ns >= begin_ns && ns <= end_ns; }
};

// Counts an operation acknowledged at `end_ns` after `begin_ns` if it falls inside the window.
// Returns whether the caller should go on (the window is not over).
bool Record(const Window& w, LatencyHistogram& latency, int64_t begin_ns, int64_t end_ns);

// A fresh directory `parent`/`prefix`-XXXXXX, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir(const std::string& parent, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// $TMPDIR, or /tmp: the default parent of the temporary directories.
std::string DefaultParentDir();

// The filesystem type of `path` as statfs names it: it decides what a sync costs (tmpfs: nothing).
std::string FsType(const std::string& path);

// The build's commit (cmake/commit.cmake) and CMake build type.
std::string BuildCommit();
std::string BuildType();

// argv joined by spaces.
std::string Command(int argc, char** argv);

// "# commit C, build B, simulation hooks on|off, N hardware threads", then a newline.
void PrintBuildLine();

// The same facts for a JSON report, plus "dir" and its "fs_type".
nlohmann::json BuildJson(const std::string& dir);

// The options every plain-main benchmark on the production runtime takes, with their defaults.
struct RunOptions {
  std::string dir = DefaultParentDir();  // Parent of the temporary directories.
  double seconds = 2.0;                  // Measured window of each run.
  double warmup_seconds = 0.5;           // Unmeasured start of each run.
  size_t blocking_threads = 2;           // AsioSchedulerOptions' default.
  uint64_t checkpoint_every_records = kv::KvOptions{}.checkpoint_every_records;
  uint64_t seed = 1;
  bool json = false;  // One JSON object instead of the table.
};

// Adds --seconds, --warmup-seconds, --dir, --blocking-threads, --checkpoint-every-records,
// --seed (`seed_help` says what it seeds) and --json to `app`, writing into `o`, whose values
// are the defaults. `o` must outlive the parse.
void AddRunOptions(CLI::App& app, RunOptions& o, const std::string& seed_help);

// Parses argv into `app`'s options: nullopt to go on, else the exit status (0 after --help; 2
// after a usage error, which CLI11 has printed).
std::optional<int> Parse(CLI::App& app, int argc, char** argv);

// "# dir D (its fs type), seconds S, warmup_seconds W, blocking_threads B,
// checkpoint_every_records C, seed N", then a newline.
void PrintRunLine(const RunOptions& o);

// BuildJson(o.dir) with `o` and `command` added.
nlohmann::json RunJson(const RunOptions& o, const std::string& command);

// The production runtime, as a server would build it: the Asio scheduler, POSIX files, LevelDB's
// default Env, the system clock. Destroyed in reverse order, the scheduler last.
struct ProductionRuntime {
  explicit ProductionRuntime(size_t blocking_threads)
      : scheduler(AsioSchedulerOptions{.blocking_threads = blocking_threads}), fs(scheduler) {}

  AsioScheduler scheduler;
  PosixFileSystem fs;
  DefaultLevelDbHost host;
  SystemClock clock;
};

// Opens (creating) a KvStore in `dir`/kiln on `rt` with default options but these.
Task<Result<std::unique_ptr<kv::KvStore>>> OpenKvStore(ProductionRuntime& rt, std::string dir,
                                                       uint64_t checkpoint_every_records);

// CPU time the rest of the machine used while this process ran, from /proc/stat and
// /proc/self/stat: how far a run overlapped other work (builds, tests). Linux only; reads 0
// elsewhere.
class OtherCpu {
 public:
  // Starts the interval.
  OtherCpu();
  // Cores' worth of CPU that other processes kept busy since the start (0..hardware threads).
  double cores_busy() const;

 private:
  static bool Sample(uint64_t* all_busy_ticks, uint64_t* self_ticks);
  int64_t start_ns_ = 0;
  uint64_t start_all_ = 0;
  uint64_t start_self_ = 0;
  bool ok_ = false;
};

}  // namespace kiln::bench
