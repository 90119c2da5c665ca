// Committed transactions per second, abort (Conflict) rate and the latency of a committed
// transaction on the production runtime (PosixFileSystem, AsioScheduler, LevelDB's default Env,
// SystemClock), at low and high contention and at 1, 16 and 128 concurrent clients:
// - uniform:     each transaction reads 2 distinct random keys of --keys (100K) and writes each
//                back incremented (read-modify-write): few conflicts;
// - hot:         the same over --hot-keys (10) keys: many;
// - counter-rmw: the same on one key (get, +1, put): every concurrent pair conflicts;
// - counter-add: Transaction::add(key, 1) on that one key: a blind add, which never conflicts.
//
// Method: for each workload and client count, a fresh KvStore and TxnStore in a new directory
// under --dir (removed afterwards). Clients are coroutines on the scheduler's loop; each runs one
// transaction after another through RunTransaction (its default RetryOptions: up to 100 attempts,
// backoff from 1 ms doubling to 100 ms with full jitter), keeping the same keys across the
// retries of one transaction. The body counts the attempts, so every aborted attempt is seen.
// A transaction counts if it ends inside the measured window (after --warmup-seconds, for
// --seconds). Its latency runs from the client's call (before the first begin()) to the
// acknowledged commit, on std::chrono::steady_clock: retries and their backoff included; the
// JSON also gives the committing attempt alone. A transaction that hits attempts_max Conflicts
// or TooOld "gives up" and is reported as such. At the end, a read-only transaction sums every
// value and checks that the sum is exactly the increments of the committed transactions: no
// update lost or doubled. Nothing here is asserted beyond that: a slow machine only gets smaller
// numbers.
// Run: build/bench/kiln_bench_txn --seconds 2
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/kv/kv_store.h"
#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/event.h"
#include "engine/runtime/random.h"
#include "engine/txn/txn_store.h"

namespace kiln::txn {
namespace {

using bench::LatencyHistogram;
using bench::NowNs;
using bench::UntilNs;
using bench::Window;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // An error, or the final check failed: the numbers mean nothing.
constexpr int kExitUsage = 2;

constexpr const char* kCounterKey = "counter";

struct Params {
  std::string dir;
  std::vector<int> clients = {1, 16, 128};
  std::vector<std::string> contention = {"uniform", "hot", "counter-rmw", "counter-add"};
  double seconds = 2.0;
  double warmup_seconds = 0.5;
  uint32_t keys = 100000;
  uint32_t hot_keys = 10;
  int attempts_max = RetryOptions{}.attempts_max;
  size_t blocking_threads = 2;  // AsioSchedulerOptions' default.
  uint64_t checkpoint_every_records = kv::KvOptions{}.checkpoint_every_records;
  uint64_t seed = 1;
  bool json = false;
};

struct Measurement {
  std::string workload;
  int clients = 0;
  double seconds = 0;
  // Transactions that ended inside the window. Latency of the committed ones: from the first
  // begin() to the ack; and of their committing attempt alone, from its body to the ack.
  LatencyHistogram latency;
  LatencyHistogram last_attempt;
  uint64_t attempts = 0;   // Every attempt of a transaction that ended in the window.
  uint64_t conflicts = 0;  // Attempts that aborted with Conflict.
  uint64_t gave_up = 0;    // Transactions that ended without committing.
  uint64_t too_old = 0;    // Attempts that aborted with TooOld (each one also gave up).
  // Transactions still running when the window closed (left out: their latency is unknown).
  uint64_t unfinished = 0;
  // The whole run: what the final check expects.
  uint64_t committed_total = 0;
  int64_t sum_expected = 0;
  int64_t sum_found = 0;
  // Cores' worth of CPU that other processes used during the window.
  double other_cores = 0;
  uint64_t errors = 0;
  std::string first_error;

  uint64_t commits() const { return latency.count(); }
  double commits_per_s() const { return commits() / seconds; }
  double abort_rate() const { return attempts == 0 ? 0 : double(attempts - commits()) / attempts; }
  double attempts_per_commit() const { return commits() == 0 ? 0 : double(attempts) / commits(); }
  void error(const Status& s) {
    if (errors++ == 0) first_error = s.ToString();
  }
};

// What the clients of one run share. They all run on the loop thread, so plain fields suffice.
struct Shared {
  const Params& params;
  std::string workload;
  Measurement& out;
  TxnStore* txns = nullptr;
  RetryOptions retry;
  Window window;
  int clients_running = 0;
  Event* all_done = nullptr;

  bool add() const { return workload == "counter-add"; }
  // Keys one transaction writes (the check's factor).
  int keys_per_txn() const { return workload == "uniform" || workload == "hot" ? 2 : 1; }
};

std::string KeyName(uint32_t i) {
  char key[16];
  std::snprintf(key, sizeof key, "k%06" PRIu32, i);
  return key;
}

// The keys of the next transaction: 2 distinct ones of the keyspace, or the counter.
void PickKeys(const Shared& shared, Random& random, std::vector<std::string>& keys) {
  keys.clear();
  if (shared.keys_per_txn() == 1) {
    keys.emplace_back(kCounterKey);
    return;
  }
  const uint32_t n = shared.workload == "uniform" ? shared.params.keys : shared.params.hot_keys;
  assert(n >= 2);
  const auto a = static_cast<uint32_t>(random.uniform(n));
  auto b = static_cast<uint32_t>(random.uniform(n - 1));
  if (b >= a) ++b;  // Distinct from a, uniform over the rest.
  keys.push_back(KeyName(a));
  keys.push_back(KeyName(b));
}

// One attempt: read each key and write it back plus one, or add 1 blindly.
Task<Status> Body(Transaction& txn, const std::vector<std::string>& keys, bool add) {
  if (add) co_return txn.add(keys.front(), 1);
  for (const std::string& key : keys) {
    Result<std::optional<std::string>> v = co_await txn.get(key);
    if (!v.ok()) co_return v.status();
    int64_t n = 0;
    if (v->has_value() && !kv::ParseInt64(**v, &n)) {
      co_return Status::Corruption("bench: a value is not a decimal int64");
    }
    if (Status s = txn.put(key, std::to_string(n + 1)); !s.ok()) co_return s;
  }
  co_return Status::Ok();
}

// A body that only returns `s`.
Task<Status> Return(Status s) {
  co_return s;
}

Task<void> Client(Shared& shared, int client) {
  DeterministicRandom random(shared.params.seed * 1'000'003 + static_cast<uint64_t>(client));
  Measurement& out = shared.out;
  std::vector<std::string> keys;
  const bool add = shared.add();
  for (;;) {
    PickKeys(shared, random, keys);
    int attempts = 0;
    int64_t attempt_ns = 0;
    bool stopped = false;  // The window ended before this transaction committed: not counted.
    const Window& window = shared.window;
    std::function<Task<Status>(Transaction&)> body = [&keys, &attempts, &attempt_ns, &stopped,
                                                      &window, add](Transaction& txn) {
      attempt_ns = NowNs();
      if (attempts > 0 && attempt_ns > window.end_ns) {
        stopped = true;
        return Return(Status::Unavailable("bench: the window is over"));
      }
      ++attempts;
      return Body(txn, keys, add);
    };
    const int64_t begin_ns = NowNs();
    // NOTE (GCC 12, task.h): the function object goes to RunTransaction outside co_await.
    Task<Status> running = RunTransaction(*shared.txns, random, std::move(body), shared.retry);
    const Status s = co_await std::move(running);
    const int64_t end_ns = NowNs();
    const bool counted = window.contains(end_ns);
    if (end_ns > window.end_ns && begin_ns <= window.end_ns) ++out.unfinished;
    if (s.ok()) {
      ++out.committed_total;
      if (counted) {
        out.latency.add(end_ns - begin_ns);
        out.last_attempt.add(end_ns - attempt_ns);
        out.attempts += attempts;
        out.conflicts += attempts - 1;
      }
    } else if (s.IsConflict() || s.IsTooOld()) {  // Gave up (RunTransaction's attempts_max).
      if (counted) {
        ++out.gave_up;
        out.attempts += attempts;
        out.conflicts += s.IsConflict() ? attempts : attempts - 1;
        out.too_old += s.IsTooOld() ? 1 : 0;
      }
    } else if (!stopped) {
      out.error(s);
      break;
    }
    if (end_ns > window.end_ns) break;
  }
  assert(shared.clients_running > 0);
  if (--shared.clients_running == 0) shared.all_done->set();
}

// Sums every value: it must be the committed transactions' increments, no more, no less.
Task<Status> Check(TxnStore& txns, Shared& shared) {
  Result<std::unique_ptr<Transaction>> begun = co_await txns.begin();
  if (!begun.ok()) co_return begun.status();
  std::unique_ptr<Transaction> txn = std::move(begun).value();
  Result<kv::KeyValues> all = co_await txn->scan_range("", "", SIZE_MAX);
  if (!all.ok()) co_return all.status();
  int64_t sum = 0;
  for (const auto& [key, value] : *all) {
    int64_t n = 0;
    if (!kv::ParseInt64(value, &n)) co_return Status::Corruption("bench check: not an integer");
    sum += n;
  }
  txn->abort();
  shared.out.sum_found = sum;
  shared.out.sum_expected =
      static_cast<int64_t>(shared.out.committed_total) * shared.keys_per_txn();
  if (sum != shared.out.sum_expected) {
    co_return Status::Corruption("bench check: the values sum to " + std::to_string(sum) +
                                 ", the committed transactions added " +
                                 std::to_string(shared.out.sum_expected));
  }
  co_return Status::Ok();
}

Task<Status> TxnMain(bench::ProductionRuntime& rt, const std::string& dir, Shared& shared) {
  Result<std::unique_ptr<kv::KvStore>> opened =
      co_await bench::OpenKvStore(rt, dir, shared.params.checkpoint_every_records);
  if (!opened.ok()) co_return opened.status();
  std::unique_ptr<kv::KvStore> store = std::move(opened).value();
  TxnStore txns(*store, rt.scheduler, rt.clock);
  shared.txns = &txns;
  Event all_done(rt.scheduler, "bench-clients-done");
  shared.all_done = &all_done;
  shared.clients_running = shared.out.clients;
  shared.window = Window::FromNow(shared.params.warmup_seconds, shared.params.seconds);
  for (int c = 0; c < shared.out.clients; ++c) {
    rt.scheduler.spawn(Client(shared, c), "bench-client");
  }
  co_await rt.scheduler.sleep_for(UntilNs(shared.window.begin_ns));
  bench::OtherCpu others;
  co_await rt.scheduler.sleep_for(UntilNs(shared.window.end_ns));
  shared.out.other_cores = others.cores_busy();
  co_await all_done.wait();
  assert(shared.clients_running == 0);
  Status checked = Status::Ok();
  if (shared.out.errors == 0) checked = co_await Check(txns, shared);
  Status closed = co_await store->close();
  co_return checked.ok() ? closed : checked;
}

Measurement Run(const Params& params, const std::string& workload, int clients,
                const std::string& dir) {
  Measurement m;
  m.workload = workload;
  m.clients = clients;
  m.seconds = params.seconds;
  Shared shared{.params = params,
                .workload = workload,
                .out = m,
                .retry = RetryOptions{.attempts_max = params.attempts_max},
                .window = {}};
  Status s;
  {
    bench::ProductionRuntime rt(params.blocking_threads);
    s = RunToCompletion(rt.scheduler, TxnMain(rt, dir, shared));
  }
  if (!s.ok()) m.error(s);
  return m;
}

// ---------------------------------------------------------------------------------------------
// The report.

nlohmann::json ToJson(const Measurement& m) {
  return {{"workload", m.workload},
          {"clients", m.clients},
          {"commits", m.commits()},
          {"commits_per_s", m.commits_per_s()},
          {"attempts", m.attempts},
          {"conflicts", m.conflicts},
          {"abort_rate", m.abort_rate()},
          {"attempts_per_commit", m.attempts_per_commit()},
          {"gave_up", m.gave_up},
          {"too_old", m.too_old},
          {"unfinished", m.unfinished},
          {"latency_ms_p50", m.latency.quantile_ms(0.50)},
          {"latency_ms_p99", m.latency.quantile_ms(0.99)},
          {"latency_ms_p999", m.latency.quantile_ms(0.999)},
          {"latency_ms_mean", m.latency.mean_ms()},
          {"latency_ms_max", m.latency.max_ms()},
          {"last_attempt_ms_p50", m.last_attempt.quantile_ms(0.50)},
          {"last_attempt_ms_p99", m.last_attempt.quantile_ms(0.99)},
          {"committed_total", m.committed_total},
          {"check_sum_expected", m.sum_expected},
          {"check_sum_found", m.sum_found},
          {"other_cores_busy", m.other_cores},
          {"errors", m.errors},
          {"first_error", m.first_error}};
}

void PrintJson(const Params& p, const std::string& command, const std::vector<Measurement>& rows) {
  nlohmann::json runs = nlohmann::json::array();
  for (const Measurement& m : rows) runs.push_back(ToJson(m));
  nlohmann::json report = bench::BuildJson(p.dir);
  report["benchmark"] = "txn";
  report["keys"] = p.keys;
  report["hot_keys"] = p.hot_keys;
  report["seconds"] = p.seconds;
  report["warmup_seconds"] = p.warmup_seconds;
  report["attempts_max"] = p.attempts_max;
  report["blocking_threads"] = p.blocking_threads;
  report["checkpoint_every_records"] = p.checkpoint_every_records;
  report["seed"] = p.seed;
  report["command"] = command;
  report["runs"] = runs;
  std::printf("%s\n", report.dump(2).c_str());
}

void PrintHeader(const Params& p, const std::string& command) {
  std::printf(
      "# txn: committed transactions/s, abort rate and latency of RunTransaction on the "
      "production runtime\n");
  bench::PrintBuildLine();
  std::printf(
      "# dir %s (%s), seconds %g, warmup_seconds %g, blocking_threads %zu, "
      "checkpoint_every_records %llu, seed %llu\n",
      p.dir.c_str(), bench::FsType(p.dir).c_str(), p.seconds, p.warmup_seconds, p.blocking_threads,
      static_cast<unsigned long long>(p.checkpoint_every_records),
      static_cast<unsigned long long>(p.seed));
  std::printf(
      "# uniform: get+put 2 random keys of %u; hot: the same over %u keys; counter-rmw: get+put "
      "1 key; counter-add: add(1) to 1 key\n",
      p.keys, p.hot_keys);
  std::printf(
      "# latency: first begin() to acknowledged commit, retries and backoff included; abort %%: "
      "attempts that aborted (Conflict); attempts_max %d\n",
      p.attempts_max);
  std::printf("# command: %s\n", command.c_str());
  std::fflush(stdout);
}

void PrintColumns() {
  std::printf("%-11s %7s | %9s %7s %10s | %8s %8s | %7s | %9s\n", "workload", "clients",
              "commits/s", "abort %", "att/commit", "p50 ms", "p99 ms", "gave up", "other cpu");
}

void PrintRow(const Measurement& m) {
  std::printf("%-11s %7d | %9.0f %7.1f %10.2f | %8.3f %8.3f | %7llu | %9.2f\n", m.workload.c_str(),
              m.clients, m.commits_per_s(), 100 * m.abort_rate(), m.attempts_per_commit(),
              m.latency.quantile_ms(0.50), m.latency.quantile_ms(0.99),
              static_cast<unsigned long long>(m.gave_up), m.other_cores);
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Params p;
  p.dir = bench::DefaultParentDir();
  CLI::App app{"Kiln transactions: commits/s, abort rate and latency at low and high contention"};
  app.add_option("--clients", p.clients, "concurrent client counts, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--contention", p.contention,
                 "workloads, comma-separated: uniform, hot, counter-rmw, counter-add")
      ->delimiter(',')
      ->check(CLI::IsMember(Params{}.contention))
      ->capture_default_str();
  app.add_option("--seconds", p.seconds, "measured window per run")
      ->check(CLI::Range(0.01, 600.0))
      ->capture_default_str();
  app.add_option("--warmup-seconds", p.warmup_seconds, "unmeasured start of each run")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--keys", p.keys, "keyspace of `uniform`")
      ->check(CLI::Range(2u, 100'000'000u))
      ->capture_default_str();
  app.add_option("--hot-keys", p.hot_keys, "keyspace of `hot`")
      ->check(CLI::Range(2u, 100'000'000u))
      ->capture_default_str();
  app.add_option("--attempts-max", p.attempts_max, "RetryOptions::attempts_max")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--dir", p.dir, "parent of the temporary directories ($TMPDIR or /tmp)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  app.add_option("--blocking-threads", p.blocking_threads, "the scheduler's blocking pool")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--checkpoint-every-records", p.checkpoint_every_records,
                 "KvOptions::checkpoint_every_records")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--seed", p.seed, "seeds the clients' key choices and backoff jitter")
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
  std::vector<Measurement> rows;
  for (const std::string& workload : p.contention) {
    for (int clients : p.clients) {
      bench::TempDir dir(p.dir, "kiln-bench-txn");
      if (!dir.ok()) {
        std::fprintf(stderr, "txn: cannot create a directory under %s\n", p.dir.c_str());
        return kExitError;
      }
      Measurement m = Run(p, workload, clients, dir.path());
      if (m.errors > 0) {
        std::fprintf(stderr, "txn: %s at %d clients: %llu errors, the first: %s\n",
                     workload.c_str(), clients, static_cast<unsigned long long>(m.errors),
                     m.first_error.c_str());
        return kExitError;
      }
      if (!p.json) PrintRow(m);
      rows.push_back(std::move(m));
    }
  }
  if (p.json) PrintJson(p, command, rows);
  return kExitOk;
}

}  // namespace
}  // namespace kiln::txn

int main(int argc, char** argv) {
  return kiln::txn::Main(argc, argv);
}
