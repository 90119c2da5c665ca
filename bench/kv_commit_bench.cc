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

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "engine/kv/kv_store.h"
#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/event.h"

namespace kiln::kv {
namespace {

using bench::LatencyHistogram;
using bench::NowNs;
using bench::Record;
using bench::TempDir;
using bench::UntilNs;
using bench::Window;

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

Task<Status> KilnMain(bench::ProductionRuntime& rt, const std::string& dir, KilnShared& shared) {
  Result<std::unique_ptr<KvStore>> opened =
      co_await bench::OpenKvStore(rt, dir, shared.params.checkpoint_every_records);
  if (!opened.ok()) co_return opened.status();
  std::unique_ptr<KvStore> store = std::move(opened).value();
  Event all_done(rt.scheduler, "bench-writers-done");
  shared.all_done = &all_done;
  shared.writers_running = shared.out.writers;
  shared.window = Window::FromNow(shared.params.warmup_seconds, shared.params.seconds);
  for (int w = 0; w < shared.out.writers; ++w) {
    rt.scheduler.spawn(KilnWriter(*store, shared, w), "bench-writer");
  }
  co_await rt.scheduler.sleep_for(UntilNs(shared.window.begin_ns));
  const wal::Lsn applied_begin = store->applied_lsn();
  co_await rt.scheduler.sleep_for(UntilNs(shared.window.end_ns));
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
    bench::ProductionRuntime rt(params.blocking_threads);
    s = RunToCompletion(rt.scheduler, KilnMain(rt, dir, shared));
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
  const Window window = Window::FromNow(params.warmup_seconds, params.seconds);
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
  nlohmann::json report = bench::BuildJson(p.dir);
  report["benchmark"] = "kv_commit";
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
  bench::PrintBuildLine();
  std::printf("# dir %s (%s), key_bytes %u, value_bytes %u\n", p.dir.c_str(),
              bench::FsType(p.dir).c_str(), p.key_bytes, p.value_bytes);
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
    TempDir dir(p.dir, "kiln-bench-kv-commit");
    if (!dir.ok()) {
      std::fprintf(stderr, "kv_commit: cannot create a directory under %s\n", p.dir.c_str());
      return false;
    }
    row->first = RunKiln(p, writers, dir.path());
  }
  {
    TempDir dir(p.dir, "kiln-bench-kv-commit");
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
  p.dir = bench::DefaultParentDir();
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
  const std::string command = bench::Command(argc, argv);
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
