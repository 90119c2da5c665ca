// Acknowledged commits per second and commit latency (p50, p99) of KvStore::put on the production
// runtime (PosixFileSystem, AsioScheduler, LevelDB's default Env) at 1, 8, 64 and 256 concurrent
// writers, beside LevelDB writing the same records with sync=true from as many threads, in the
// same run, and the ratio of their rates.
//
// Method: for each writer count, Kiln first, then LevelDB, each in a fresh directory under --dir
// that is removed afterwards. Kiln's writers are coroutines on the scheduler's loop, each putting
// its own keys one after another (`co_await put`); LevelDB's are threads calling DB::Put with
// sync=true (LevelDB groups concurrent writers itself). A commit counts if it is acknowledged
// inside the measured window, which starts after --warmup-seconds and lasts --seconds; its latency
// is from the call to the acknowledgement, read from std::chrono::steady_clock the same way for
// both. Kiln acknowledges a commit once its log record is durable and applies it to LevelDB
// afterwards, so the table also shows how fast its apply worker kept up ("kiln applied/s").
// Nothing here is asserted: a slow machine only gets smaller numbers.
// Run: build/bench/kiln_bench_kv_commit --seconds 2
#include <leveldb/db.h>
#include <leveldb/options.h>
#include <stdlib.h>
#include <sys/vfs.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/kv/kv_store.h"
#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/default_leveldb_host.h"
#include "engine/runtime/event.h"
#include "engine/runtime/posix_file_system.h"

namespace kiln::sim {
extern const char kBuildCommit[];  // Generated at build time (cmake/commit.cmake).
}

namespace kiln::kv {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // A commit or an open failed: the numbers would mean nothing.
constexpr int kExitUsage = 2;
constexpr uint64_t kCommitsPerWriterMax = uint64_t{1} << 40;  // The time window ends a run first.

struct Params {
  std::string dir;
  std::vector<int> writers = {1, 8, 64, 256};
  double seconds = 2.0;
  double warmup_seconds = 0.5;
  uint32_t key_bytes = 16;
  uint32_t value_bytes = 100;
  size_t blocking_threads = 2;  // AsioSchedulerOptions' default.
  uint64_t checkpoint_every_records = KvOptions{}.checkpoint_every_records;
  bool json = false;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The wait from now until steady_clock reads `ns` (zero if it already has).
Duration UntilNs(int64_t ns) {
  return std::chrono::duration_cast<Duration>(
      std::chrono::nanoseconds(std::max<int64_t>(0, ns - NowNs())));
}

// Latencies in nanoseconds, in log-linear buckets: values below 256 exactly, above that 128
// buckets per power of two, so a percentile is off by less than 1%. Fixed size, whatever the run.
class LatencyHistogram {
 public:
  void add(int64_t ns) {
    assert(ns >= 0);
    const uint64_t v = static_cast<uint64_t>(ns);
    ++counts_[Index(v)];
    ++count_;
    sum_ns_ += v;
    max_ns_ = std::max(max_ns_, v);
  }
  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ns_ += other.sum_ns_;
    max_ns_ = std::max(max_ns_, other.max_ns_);
  }
  uint64_t count() const { return count_; }
  double mean_ms() const { return count_ == 0 ? 0 : sum_ns_ / 1e6 / count_; }
  double max_ms() const { return max_ns_ / 1e6; }
  // The value at fraction `q` of the samples (the middle of its bucket), in milliseconds.
  double quantile_ms(double q) const {
    assert(q > 0 && q <= 1);
    if (count_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min<uint64_t>(Middle(i), max_ns_) / 1e6;
    }
    assert(false && "rank beyond the count");
    return max_ms();
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) << kSubBits;
  static size_t Index(uint64_t v) {
    if (v < (uint64_t{2} << kSubBits)) return v;
    const int msb = 63 - std::countl_zero(v);
    const uint64_t sub = v >> (msb - kSubBits);  // In [128, 256).
    const size_t i = (static_cast<size_t>(msb - kSubBits + 1) << kSubBits) + (sub - 128);
    assert(i < kBuckets);
    return i;
  }
  static uint64_t Middle(size_t i) {
    if (i < (size_t{2} << kSubBits)) return i;
    const int shift = static_cast<int>(i >> kSubBits) - 1;
    const uint64_t lower = (128 + (i & 127)) << shift;
    return lower + (uint64_t{1} << shift) / 2;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ns_ = 0;
  uint64_t max_ns_ = 0;
};

// The measured part of a run, in steady_clock nanoseconds.
struct Window {
  int64_t begin_ns = 0;
  int64_t end_ns = 0;
};

struct Measurement {
  std::string system;
  int writers = 0;
  double seconds = 0;
  LatencyHistogram latency;  // Commits acknowledged inside the window.
  uint64_t errors = 0;
  std::string first_error;
  // Kiln only: records its apply worker applied to LevelDB inside the window, and how many were
  // acknowledged but not yet applied when the window ended. A commit rate above the apply rate
  // is not sustainable: the backlog grows, and reads wait for it.
  uint64_t applied = 0;
  uint64_t apply_backlog_records = 0;
  double commits_per_s() const { return latency.count() / seconds; }
  double applied_per_s() const { return applied / seconds; }
};

// Counts a commit acknowledged at `end_ns` after `begin_ns` if it falls inside the window.
// Returns whether the writer should go on (the window is not over).
bool Record(const Window& w, LatencyHistogram& latency, int64_t begin_ns, int64_t end_ns) {
  if (end_ns >= w.begin_ns && end_ns <= w.end_ns) latency.add(end_ns - begin_ns);
  return end_ns <= w.end_ns;
}

// `key_bytes` bytes, unique per (writer, seq) when there is room: "k...k" then the digits.
std::string MakeKey(int writer, uint64_t seq, uint32_t key_bytes) {
  char digits[40];
  const int n = std::snprintf(digits, sizeof digits, "%03d%012" PRIu64, writer, seq);
  assert(n > 0);
  std::string key(key_bytes, 'k');
  const size_t take = std::min<size_t>(key.size(), static_cast<size_t>(n));
  key.replace(key.size() - take, take, digits + n - take, take);
  assert(key.size() == key_bytes);
  return key;
}

// Bytes that do not compress (LevelDB's tables use Snappy; the logs of both do not).
std::string MakeValue(uint32_t value_bytes) {
  std::string value(value_bytes, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (char& c : value) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return value;
}

// A fresh directory under `parent`, removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& parent) {
    std::string tmpl = parent + "/kiln-bench-kv-commit-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// Kiln: KvStore::put from coroutines on the AsioScheduler.

// What Kiln's writers share. They all run on the loop thread, so plain fields suffice.
struct KilnShared {
  const Params& params;
  const std::string value;
  Window window;
  Measurement& out;
  int writers_running = 0;
  Event* all_done = nullptr;
};

Task<void> KilnWriter(KvStore& store, KilnShared& shared, int writer) {
  for (uint64_t seq = 0; seq < kCommitsPerWriterMax; ++seq) {
    std::string key = MakeKey(writer, seq, shared.params.key_bytes);
    std::string value = shared.value;
    const int64_t begin_ns = NowNs();
    const Status s = co_await store.put(std::move(key), std::move(value));
    const int64_t end_ns = NowNs();
    if (!s.ok()) {
      if (shared.out.errors++ == 0) shared.out.first_error = s.ToString();
      break;
    }
    if (!Record(shared.window, shared.out.latency, begin_ns, end_ns)) break;
  }
  assert(shared.writers_running > 0);
  if (--shared.writers_running == 0) shared.all_done->set();
}

Task<Status> KilnMain(AsioScheduler& scheduler, FileSystem& fs, LevelDbHost& host,
                      const std::string& dir, KilnShared& shared) {
  KvOptions options;
  options.dir = dir + "/kiln";
  options.checkpoint_every_records = shared.params.checkpoint_every_records;
  // NOTE (GCC 12, task.h): the options aggregate goes to Open outside the co_await expression.
  Task<Result<std::unique_ptr<KvStore>>> opening = KvStore::Open(fs, scheduler, host, options);
  Result<std::unique_ptr<KvStore>> opened = co_await std::move(opening);
  if (!opened.ok()) co_return opened.status();
  std::unique_ptr<KvStore> store = std::move(opened).value();
  Event all_done(scheduler, "bench-writers-done");
  shared.all_done = &all_done;
  shared.writers_running = shared.out.writers;
  const int64_t start_ns = NowNs();
  shared.window.begin_ns = start_ns + static_cast<int64_t>(shared.params.warmup_seconds * 1e9);
  shared.window.end_ns = shared.window.begin_ns + static_cast<int64_t>(shared.params.seconds * 1e9);
  for (int w = 0; w < shared.out.writers; ++w) {
    scheduler.spawn(KilnWriter(*store, shared, w), "bench-writer");
  }
  co_await scheduler.sleep_for(UntilNs(shared.window.begin_ns));
  const wal::Lsn applied_begin = store->applied_lsn();
  co_await scheduler.sleep_for(UntilNs(shared.window.end_ns));
  shared.out.applied = store->applied_lsn() - applied_begin;
  shared.out.apply_backlog_records = store->durable_lsn() - store->applied_lsn();
  co_await all_done.wait();
  assert(shared.writers_running == 0);
  co_return co_await store->close();
}

Measurement RunKiln(const Params& params, int writers, const std::string& dir) {
  Measurement m;
  m.system = "kiln";
  m.writers = writers;
  m.seconds = params.seconds;
  KilnShared shared{
      .params = params, .value = MakeValue(params.value_bytes), .window = {}, .out = m};
  Status s;
  {
    AsioScheduler scheduler(AsioSchedulerOptions{.blocking_threads = params.blocking_threads});
    PosixFileSystem fs(scheduler);
    DefaultLevelDbHost host;
    s = RunToCompletion(scheduler, KilnMain(scheduler, fs, host, dir, shared));
  }
  if (!s.ok() && m.errors++ == 0) m.first_error = s.ToString();
  return m;
}

// ---------------------------------------------------------------------------------------------
// LevelDB: DB::Put with sync=true from threads.

struct LevelDbWriter {
  LatencyHistogram latency;
  uint64_t errors = 0;
  std::string first_error;
};

void LevelDbLoop(leveldb::DB& db, const Params& params, const std::string& value,
                 const Window& window, int writer, LevelDbWriter& out) {
  leveldb::WriteOptions sync;
  sync.sync = true;
  for (uint64_t seq = 0; seq < kCommitsPerWriterMax; ++seq) {
    const std::string key = MakeKey(writer, seq, params.key_bytes);
    const int64_t begin_ns = NowNs();
    const leveldb::Status s = db.Put(sync, key, value);
    const int64_t end_ns = NowNs();
    if (!s.ok()) {
      if (out.errors++ == 0) out.first_error = s.ToString();
      break;
    }
    if (!Record(window, out.latency, begin_ns, end_ns)) break;
  }
}

Measurement RunLevelDb(const Params& params, int writers, const std::string& dir) {
  Measurement m;
  m.system = "leveldb";
  m.writers = writers;
  m.seconds = params.seconds;
  leveldb::Options options;  // LevelDB's defaults and its default Env, as Kiln uses it.
  options.create_if_missing = true;
  options.error_if_exists = true;
  leveldb::DB* raw = nullptr;
  const leveldb::Status opened = leveldb::DB::Open(options, dir + "/leveldb", &raw);
  if (!opened.ok()) {
    m.errors = 1;
    m.first_error = opened.ToString();
    return m;
  }
  std::unique_ptr<leveldb::DB> db(raw);
  const std::string value = MakeValue(params.value_bytes);
  std::vector<LevelDbWriter> outs(static_cast<size_t>(writers));
  Window window;
  window.begin_ns = NowNs() + static_cast<int64_t>(params.warmup_seconds * 1e9);
  window.end_ns = window.begin_ns + static_cast<int64_t>(params.seconds * 1e9);
  std::vector<std::thread> threads;
  threads.reserve(outs.size());
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] { LevelDbLoop(*db, params, value, window, w, outs[w]); });
  }
  for (std::thread& t : threads) t.join();
  for (const LevelDbWriter& out : outs) {
    m.latency.merge(out.latency);
    if (out.errors > 0 && m.errors == 0) m.first_error = out.first_error;
    m.errors += out.errors;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// The report.

// The filesystem type of `path` as statfs names it: it decides what a sync costs (tmpfs: nothing).
std::string FsType(const std::string& path) {
  struct statfs st {};
  if (statfs(path.c_str(), &st) != 0) return "unknown";
  switch (static_cast<uint64_t>(st.f_type)) {
    case 0xEF53:
      return "ext2/3/4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794C7630:
      return "overlayfs";
    case 0x2FC12FC1:
      return "zfs";
    case 0xF2F52010:
      return "f2fs";
    case 0x6969:
      return "nfs";
    default:
      break;
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(st.f_type));
  return hex;
}

std::string BuildType() {
#ifdef KILN_BENCH_BUILD_TYPE
  return KILN_BENCH_BUILD_TYPE;
#else
  return "unknown";
#endif
}

std::string Command(int argc, char** argv) {
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i == 0 ? "" : " ") + std::string(argv[i]);
  return command;
}

nlohmann::json ToJson(const Measurement& m) {
  nlohmann::json j = {{"system", m.system},
                      {"writers", m.writers},
                      {"commits", m.latency.count()},
                      {"commits_per_s", m.commits_per_s()},
                      {"latency_ms_p50", m.latency.quantile_ms(0.50)},
                      {"latency_ms_p99", m.latency.quantile_ms(0.99)},
                      {"latency_ms_p999", m.latency.quantile_ms(0.999)},
                      {"latency_ms_mean", m.latency.mean_ms()},
                      {"latency_ms_max", m.latency.max_ms()},
                      {"errors", m.errors},
                      {"first_error", m.first_error}};
  if (m.system == "kiln") {
    j["applied_per_s"] = m.applied_per_s();
    j["apply_backlog_records"] = m.apply_backlog_records;
  }
  return j;
}

void PrintJson(const Params& p, const std::string& command,
               const std::vector<std::pair<Measurement, Measurement>>& rows) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& [kiln, level] : rows) {
    const double ratio =
        level.commits_per_s() > 0 ? kiln.commits_per_s() / level.commits_per_s() : 0;
    runs.push_back({{"writers", kiln.writers},
                    {"kiln", ToJson(kiln)},
                    {"leveldb", ToJson(level)},
                    {"ratio_commits_per_s", ratio}});
  }
  nlohmann::json report;
  report["benchmark"] = "kv_commit";
  report["commit"] = std::string(sim::kBuildCommit);
  report["build_type"] = BuildType();
  report["simulation_hooks"] = KILN_SIMULATION_HOOKS != 0;
  report["hardware_threads"] = std::thread::hardware_concurrency();
  report["dir"] = p.dir;
  report["fs_type"] = FsType(p.dir);
  report["key_bytes"] = p.key_bytes;
  report["value_bytes"] = p.value_bytes;
  report["seconds"] = p.seconds;
  report["warmup_seconds"] = p.warmup_seconds;
  report["blocking_threads"] = p.blocking_threads;
  report["checkpoint_every_records"] = p.checkpoint_every_records;
  report["command"] = command;
  report["runs"] = runs;
  std::printf("%s\n", report.dump(2).c_str());
}

void PrintHeader(const Params& p, const std::string& command) {
  std::printf(
      "# kv_commit: acknowledged commits/s and commit latency, Kiln KvStore::put vs LevelDB "
      "Put(sync=true)\n");
  std::printf("# commit %s, build %s, simulation hooks %s, %u hardware threads\n",
              sim::kBuildCommit, BuildType().c_str(), KILN_SIMULATION_HOOKS ? "on" : "off",
              std::thread::hardware_concurrency());
  std::printf("# dir %s (%s), key_bytes %u, value_bytes %u\n", p.dir.c_str(), FsType(p.dir).c_str(),
              p.key_bytes, p.value_bytes);
  std::printf(
      "# seconds %g, warmup_seconds %g; Kiln: blocking_threads %zu, "
      "checkpoint_every_records %llu\n",
      p.seconds, p.warmup_seconds, p.blocking_threads,
      static_cast<unsigned long long>(p.checkpoint_every_records));
  std::printf("# command: %s\n", command.c_str());
  std::fflush(stdout);
}

void PrintColumns() {
  std::printf("%7s | %9s %7s %7s | %11s %7s %7s | %12s | %14s\n", "writers", "kiln c/s", "p50 ms",
              "p99 ms", "leveldb c/s", "p50 ms", "p99 ms", "kiln/leveldb", "kiln applied/s");
}

void PrintRow(const Measurement& kiln, const Measurement& level) {
  const double ratio = level.commits_per_s() > 0 ? kiln.commits_per_s() / level.commits_per_s() : 0;
  std::printf("%7d | %9.0f %7.3f %7.3f | %11.0f %7.3f %7.3f | %12.2f | %14.0f\n", kiln.writers,
              kiln.commits_per_s(), kiln.latency.quantile_ms(0.50), kiln.latency.quantile_ms(0.99),
              level.commits_per_s(), level.latency.quantile_ms(0.50),
              level.latency.quantile_ms(0.99), ratio, kiln.applied_per_s());
  std::fflush(stdout);
}

// Runs both systems at one writer count, each in its own fresh directory.
bool RunPair(const Params& p, int writers, std::pair<Measurement, Measurement>* row) {
  {
    TempDir dir(p.dir);
    if (!dir.ok()) {
      std::fprintf(stderr, "kv_commit: cannot create a directory under %s\n", p.dir.c_str());
      return false;
    }
    row->first = RunKiln(p, writers, dir.path());
  }
  {
    TempDir dir(p.dir);
    if (!dir.ok()) return false;
    row->second = RunLevelDb(p, writers, dir.path());
  }
  for (const Measurement* m : {&row->first, &row->second}) {
    if (m->errors == 0) continue;
    std::fprintf(stderr, "kv_commit: %s at %d writers: %llu errors, the first: %s\n",
                 m->system.c_str(), writers, static_cast<unsigned long long>(m->errors),
                 m->first_error.c_str());
    return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  Params p;
  const char* tmpdir = std::getenv("TMPDIR");
  p.dir = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  CLI::App app{"Kiln KvStore::put vs LevelDB Put(sync=true): commits/s and latency"};
  app.add_option("--writers", p.writers, "concurrent writer counts, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--seconds", p.seconds, "measured window per run")
      ->check(CLI::Range(0.01, 600.0))
      ->capture_default_str();
  app.add_option("--warmup-seconds", p.warmup_seconds, "unmeasured start of each run")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--key-bytes", p.key_bytes, "key size (unique per commit from 15 bytes up)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--value-bytes", p.value_bytes, "value size")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  app.add_option("--dir", p.dir, "parent of the temporary directories ($TMPDIR or /tmp)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  app.add_option("--blocking-threads", p.blocking_threads, "Kiln's blocking pool")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--checkpoint-every-records", p.checkpoint_every_records,
                 "Kiln's KvOptions::checkpoint_every_records")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_flag("--json", p.json, "one JSON object instead of the table");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  const std::string command = Command(argc, argv);
  if (!p.json) {
    PrintHeader(p, command);
    PrintColumns();
  }
  std::vector<std::pair<Measurement, Measurement>> rows;
  for (int writers : p.writers) {
    std::pair<Measurement, Measurement> row;
    if (!RunPair(p, writers, &row)) return kExitError;
    if (!p.json) PrintRow(row.first, row.second);
    rows.push_back(std::move(row));
  }
  if (p.json) PrintJson(p, command, rows);
  return kExitOk;
}

}  // namespace
}  // namespace kiln::kv

int main(int argc, char** argv) {
  return kiln::kv::Main(argc, argv);
}
