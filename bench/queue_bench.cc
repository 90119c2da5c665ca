// Queue claim+ack cycles per second on the production runtime (PosixFileSystem, AsioScheduler,
// LevelDB's default Env, SystemClock), at 1, 8 and 32 concurrent workers, with the latency of
// the claim, of the ack and of the whole cycle, and the Conflict retries behind them.
//
// Method: for each worker count, a fresh KvStore, TxnStore and Queue in a new directory under
// --dir (removed afterwards). First the queue is pre-filled with --items items (--fill-clients
// concurrent enqueuers; reported separately as enqueues/s, never part of the measured rate), so
// nothing is enqueued while the workers run. Then the workers, coroutines on the scheduler's
// loop, each claim an item with a lease (1 hour: none expires during a run) and ack it with the
// lease's token, one cycle after another. An operation counts if it ends inside the measured
// window (after --warmup-seconds, for --seconds); latencies are on std::chrono::steady_clock,
// from the call to its return: the queue's own Conflict retries and their backoff included.
// Retries: the queue retries Conflicts inside RunTransaction, which sleeps on the TxnStore's
// scheduler before every retry and uses that scheduler for nothing else; the TxnStore here gets
// a forwarding scheduler that counts those sleeps, read at the window's start and end. A claim
// or ack that returns Conflict or TooOld has given up (RetryOptions::attempts_max) and is
// reported as such. If the queue runs dry before the window ends, the run fails: raise --items.
// The check: no claim hands out an item that is leased or acked already, no item is acked twice,
// and at the end the queue holds exactly the items never acked, each with its own payload, all
// ready again (one scan of its items, one of its ready index, and stats): none lost, none
// doubled. Exit 1 if not. Nothing else is asserted: a slow machine only gets smaller
// numbers.
// Run: build/bench/kiln_bench_queue
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_util.h"
#include "engine/kv/kv_store.h"
#include "engine/queue/queue.h"
#include "engine/queue/queue_layout.h"
#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/event.h"
#include "engine/runtime/random.h"
#include "engine/txn/txn_store.h"

namespace kiln::queue {
namespace {

using bench::LatencyHistogram;
using bench::NowNs;
using bench::UntilNs;
using bench::Window;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // An error, or the final check failed: the numbers mean nothing.
// 2: a usage error (bench::Parse).

constexpr const char* kQueueName = "bench";
// Longer than any run (--warmup-seconds + --seconds are at most 1200 s), so no lease expires and
// an item claimed twice is a bug, not a lease handed on.
constexpr Duration kLease = std::chrono::hours(1);

struct Params {
  bench::RunOptions run;  // --seconds, --dir, --seed, --json, ...
  std::vector<int> workers = {1, 8, 32};
  uint64_t items = 50000;
  int fill_clients = 64;
  size_t payload_bytes = 100;
};

// What happened to each pre-filled item, as the workers saw it.
enum class Fate : uint8_t { kReady, kLeased, kAcked };

struct Measurement {
  int workers = 0;
  double seconds = 0;
  // The pre-fill (outside the window).
  uint64_t enqueued = 0;
  double fill_seconds = 0;
  // Operations that ended inside the window. A cycle is one claim and its ack; it ends at the
  // ack, so `cycle` and `ack` count the same operations.
  LatencyHistogram claim;
  LatencyHistogram ack;
  LatencyHistogram cycle;
  uint64_t retries = 0;  // Conflict retries of claims and acks during the window.
  uint64_t gave_up = 0;  // Claims or acks that returned Conflict or TooOld.
  // Claims and acks still running when the window closed (left out: their latency is unknown).
  uint64_t unfinished = 0;
  // The whole run: what the final check compares with the queue.
  uint64_t claimed_total = 0;
  uint64_t acked_total = 0;
  uint64_t live_found = 0;   // Items left in the queue (i/), ready or leased.
  uint64_t ready_found = 0;  // Of which ready (r/).
  // Cores' worth of CPU that other processes used during the window.
  double other_cores = 0;
  uint64_t errors = 0;
  std::string first_error;

  double cycles_per_s() const { return cycle.count() / seconds; }
  double enqueues_per_s() const { return fill_seconds <= 0 ? 0 : enqueued / fill_seconds; }
  // Attempts: the transactions that committed, the ones that gave up, and every retry.
  uint64_t attempts() const { return claim.count() + ack.count() + gave_up + retries; }
  double abort_rate() const { return attempts() == 0 ? 0 : double(retries + gave_up) / attempts(); }
  double retries_per_cycle() const {
    return cycle.count() == 0 ? 0 : double(retries) / cycle.count();
  }
  void error(const Status& s) {
    if (errors++ == 0) first_error = s.ToString();
  }
};

// The TxnStore's scheduler: forwards everything to the real one and counts the sleeps, which
// are RunTransaction's backoffs before a retry (the TxnStore schedules nothing else).
class RetryCountingScheduler final : public Scheduler {
 public:
  explicit RetryCountingScheduler(Scheduler& base) : base_(base) {}
  uint64_t sleeps() const { return sleeps_; }

  void spawn(Task<void> task, std::string_view name) override {
    base_.spawn(std::move(task), name);
  }
  Ticket schedule(std::coroutine_handle<> h, Duration delay, const char* what) override {
    ++sleeps_;
    return base_.schedule(h, delay, what);
  }
  Ticket schedule_blocking(std::coroutine_handle<> h, std::function<void()> work) override {
    return base_.schedule_blocking(h, std::move(work));
  }
  Ticket park(std::coroutine_handle<> h, const char* what) override { return base_.park(h, what); }
  void unpark(Ticket ticket) override { base_.unpark(ticket); }
  void cancel(Ticket ticket) override { base_.cancel(ticket); }

 private:
  Scheduler& base_;
  uint64_t sleeps_ = 0;  // Loop thread only, like everything on a Scheduler.
};

// What the workers (and fillers) of one run share. They all run on the loop thread.
struct Shared {
  const Params& params;
  Measurement& out;
  Queue* queue = nullptr;
  const RetryCountingScheduler* retries = nullptr;
  Window window{};
  // Item ordinal -> fate; id -> ordinal. Filled before the workers start.
  std::vector<Fate> fates{};
  std::unordered_map<std::string, uint64_t> ordinals{};
  uint64_t next_fill = 0;
  bool dry = false;  // A claim found nothing before the window ended.
  int running = 0;
  Event* all_done = nullptr;
};

// Item `i`'s payload: its ordinal, padded to --payload-bytes, so a claim's payload names it.
std::string Payload(uint64_t i, size_t bytes) {
  std::string p = std::to_string(i);
  if (p.size() < bytes) p.resize(bytes, '.');
  return p;
}

void Finished(Shared& shared) {
  assert(shared.running > 0);
  if (--shared.running == 0) shared.all_done->set();
}

Task<void> Filler(Shared& shared) {
  while (shared.next_fill < shared.params.items && shared.out.errors == 0) {
    const uint64_t i = shared.next_fill++;
    Result<std::string> id =
        co_await shared.queue->enqueue(kQueueName, Payload(i, shared.params.payload_bytes));
    if (!id.ok()) {
      shared.out.error(id.status().WithContext("enqueue"));
      break;
    }
    shared.ordinals.emplace(*id, i);
  }
  Finished(shared);
}

// Marks item `id` leased (a claim returned it with `payload`). Error if the queue handed out
// something it was never given, or an item that is leased or acked already.
Status Claimed(Shared& shared, const Claim& c) {
  auto it = shared.ordinals.find(c.id);
  if (it == shared.ordinals.end()) return Status::Corruption("check: a claim of an unknown id");
  const uint64_t i = it->second;
  if (c.payload != Payload(i, shared.params.payload_bytes)) {
    return Status::Corruption("check: item " + std::to_string(i) + " came with another payload");
  }
  if (shared.fates[i] != Fate::kReady) {
    return Status::Corruption("check: item " + std::to_string(i) + " was claimed while " +
                              (shared.fates[i] == Fate::kLeased ? "leased" : "acked"));
  }
  shared.fates[i] = Fate::kLeased;
  ++shared.out.claimed_total;
  return Status::Ok();
}

Status Acked(Shared& shared, const Claim& c) {
  const uint64_t i = shared.ordinals.at(c.id);  // Claimed() found it.
  if (shared.fates[i] != Fate::kLeased) {
    return Status::Corruption("check: item " + std::to_string(i) + " acked twice");
  }
  shared.fates[i] = Fate::kAcked;
  ++shared.out.acked_total;
  return Status::Ok();
}

// Counts an operation of [begin_ns, end_ns] that returned `s`: its latency if it succeeded in
// the window, a give-up, or an error. Returns false on an error.
bool Count(Shared& shared, LatencyHistogram& latency, const Status& s, int64_t begin_ns,
           int64_t end_ns) {
  assert(end_ns >= begin_ns);
  Measurement& out = shared.out;
  const Window& w = shared.window;
  if (end_ns > w.end_ns && begin_ns <= w.end_ns) ++out.unfinished;
  if (s.ok()) {
    if (w.contains(end_ns)) latency.add(end_ns - begin_ns);
    return true;
  }
  if (s.IsConflict() || s.IsTooOld()) {
    if (w.contains(end_ns)) ++out.gave_up;
    return true;
  }
  out.error(s);
  return false;
}

// One claim and its ack after another until the window closes. A claim that gave up is tried
// again; an ack that gave up too (the item stays leased, and the final check says so).
Task<void> Worker(Shared& shared) {
  Measurement& out = shared.out;
  for (int64_t end_ns = 0; end_ns <= shared.window.end_ns && out.errors == 0;) {
    const int64_t begin_ns = NowNs();
    Result<std::optional<Claim>> claimed = co_await shared.queue->claim(kQueueName, kLease);
    const int64_t claimed_ns = NowNs();
    end_ns = claimed_ns;
    if (!Count(shared, out.claim, claimed.status(), begin_ns, claimed_ns)) break;
    if (!claimed.ok()) continue;  // Gave up; try again.
    if (!claimed->has_value()) {
      if (claimed_ns <= shared.window.end_ns) shared.dry = true;
      break;
    }
    const Claim& c = **claimed;
    if (Status s = Claimed(shared, c); !s.ok()) {
      out.error(s);
      break;
    }
    Status acked = co_await shared.queue->ack(kQueueName, c.id, c.token);
    end_ns = NowNs();
    if (!Count(shared, out.ack, acked, claimed_ns, end_ns)) break;
    if (!acked.ok()) continue;  // Gave up: the item stays leased.
    if (shared.window.contains(end_ns)) out.cycle.add(end_ns - begin_ns);
    if (Status s = Acked(shared, c); !s.ok()) {
      out.error(s);
      break;
    }
  }
  Finished(shared);
}

// The rows of `part` ("i/" items, "r/" ready index) of the queue, read in `t`: one range read,
// so any number of items fits TxnOptions::reads_max.
Task<Result<kv::KeyValues>> ScanPart(txn::Transaction& t, const std::string& part) {
  std::string begin = Prefix(kQueueName) + part;
  std::string end = begin;
  end.back() = static_cast<char>(end.back() + 1);  // Past every key that starts with `begin`.
  co_return co_await t.scan_range(std::move(begin), std::move(end), SIZE_MAX);
}

// The live items (i/) are exactly the ones not acked, each with its own payload; the ready ones
// (r/) exactly the ones never claimed; nothing is leased or dead. None lost, none doubled.
Task<Status> Check(Shared& shared, txn::TxnStore& txns) {
  Measurement& out = shared.out;
  Result<std::unique_ptr<txn::Transaction>> begun = co_await txns.begin();
  if (!begun.ok()) co_return begun.status();
  std::unique_ptr<txn::Transaction> t = std::move(begun).value();
  Result<kv::KeyValues> items = co_await ScanPart(*t, "i/");
  if (!items.ok()) co_return items.status();
  Result<kv::KeyValues> ready = co_await ScanPart(*t, "r/");
  if (!ready.ok()) co_return ready.status();
  t->abort();
  uint64_t leased = 0;
  for (Fate f : shared.fates) leased += f == Fate::kLeased ? 1 : 0;
  assert(shared.fates.size() == shared.params.items);
  assert(out.acked_total + leased <= shared.params.items);
  const uint64_t live_expected = shared.params.items - out.acked_total;
  for (const auto& [key, value] : *items) {
    auto it = shared.ordinals.find(IdOf(key));
    if (it == shared.ordinals.end() || shared.fates[it->second] == Fate::kAcked) {
      co_return Status::Corruption("check: a live item that was acked or never enqueued");
    }
    Result<Item> item = DecodeItem(value);
    if (!item.ok()) co_return item.status();
    if (item->payload != Payload(it->second, shared.params.payload_bytes)) {
      co_return Status::Corruption("check: an item with another item's payload");
    }
  }
  for (const auto& [key, value] : *ready) {
    auto it = shared.ordinals.find(IdOf(key));
    if (it == shared.ordinals.end() || shared.fates[it->second] != Fate::kReady) {
      co_return Status::Corruption("check: a ready item that was claimed or never enqueued");
    }
  }
  out.live_found = items->size();
  out.ready_found = ready->size();
  if (out.live_found != live_expected || out.ready_found != live_expected - leased) {
    co_return Status::Corruption(
        "check: " + std::to_string(out.live_found) + " live items (" +
        std::to_string(out.ready_found) + " ready), expected " + std::to_string(live_expected) +
        " (" + std::to_string(live_expected - leased) + "): items lost or doubled");
  }
  Result<QueueStats> stats = co_await shared.queue->stats(kQueueName);
  if (!stats.ok()) co_return stats.status();
  if (stats->ready != out.ready_found || stats->leased != leased || stats->dead != 0) {
    co_return Status::Corruption("check: stats say " + std::to_string(stats->ready) + " ready, " +
                                 std::to_string(stats->leased) + " leased, " +
                                 std::to_string(stats->dead) + " dead");
  }
  if (leased != 0) {
    co_return Status::Corruption("check: " + std::to_string(leased) +
                                 " items stayed leased (an ack gave up)");
  }
  co_return Status::Ok();
}

// Spawns `n` copies of `make(shared)` and waits for them all.
Task<void> RunAll(bench::ProductionRuntime& rt, Shared& shared, int n, Task<void> (*make)(Shared&),
                  const char* name) {
  assert(n > 0);
  assert(shared.running == 0);
  assert(shared.all_done == nullptr);
  Event done(rt.scheduler, name);
  shared.all_done = &done;
  shared.running = n;
  for (int i = 0; i < n; ++i) rt.scheduler.spawn(make(shared), name);
  co_await done.wait();
  shared.all_done = nullptr;
}

Task<Status> Fill(bench::ProductionRuntime& rt, Shared& shared) {
  const Params& p = shared.params;
  shared.fates.assign(p.items, Fate::kReady);
  shared.ordinals.reserve(p.items);
  const int64_t begin_ns = NowNs();
  const int fillers = static_cast<int>(std::min<uint64_t>(p.fill_clients, p.items));
  co_await RunAll(rt, shared, fillers, Filler, "bench-filler");
  shared.out.fill_seconds = (NowNs() - begin_ns) / 1e9;
  shared.out.enqueued = shared.ordinals.size();
  if (shared.out.errors == 0 && shared.out.enqueued != p.items) {
    co_return Status::Corruption("fill: duplicate ids from enqueue");
  }
  co_return Status::Ok();
}

// Reads the window's edges on a timer of its own (the workers may all be waiting then): the
// retries during it and the other processes' CPU.
Task<void> Timer(bench::ProductionRuntime& rt, Shared& shared, Event& measured) {
  co_await rt.scheduler.sleep_for(UntilNs(shared.window.begin_ns));
  const uint64_t retries_begin = shared.retries->sleeps();
  bench::OtherCpu others;
  co_await rt.scheduler.sleep_for(UntilNs(shared.window.end_ns));
  shared.out.retries = shared.retries->sleeps() - retries_begin;
  shared.out.other_cores = others.cores_busy();
  measured.set();
}

Task<Status> Measure(bench::ProductionRuntime& rt, Shared& shared, txn::TxnStore& txns) {
  shared.window = Window::FromNow(shared.params.run.warmup_seconds, shared.params.run.seconds);
  Event measured(rt.scheduler, "bench-window");
  rt.scheduler.spawn(Timer(rt, shared, measured), "bench-window");
  co_await RunAll(rt, shared, shared.out.workers, Worker, "bench-worker");
  co_await measured.wait();
  if (shared.out.errors > 0) co_return Status::Ok();  // Reported by the caller.
  if (shared.dry) {
    co_return Status::Unavailable("the queue ran dry before the window ended: raise --items");
  }
  co_return co_await Check(shared, txns);
}

Task<Status> QueueMain(bench::ProductionRuntime& rt, const std::string& dir, Shared& shared) {
  Result<std::unique_ptr<kv::KvStore>> opened =
      co_await bench::OpenKvStore(rt, dir, shared.params.run.checkpoint_every_records);
  if (!opened.ok()) co_return opened.status();
  std::unique_ptr<kv::KvStore> store = std::move(opened).value();
  RetryCountingScheduler counting(rt.scheduler);
  shared.retries = &counting;
  txn::TxnStore txns(*store, counting, rt.clock);
  DeterministicRandom random(shared.params.run.seed);
  Result<std::unique_ptr<Queue>> queue = co_await Queue::Open(txns, rt.clock, random);
  Status s = queue.status();
  if (s.ok()) {
    shared.queue = queue->get();
    s = co_await Fill(rt, shared);
    if (s.ok() && shared.out.errors == 0) s = co_await Measure(rt, shared, txns);
  }
  Status closed = co_await store->close();
  co_return s.ok() ? closed : s;
}

Measurement Run(const Params& params, int workers, const std::string& dir) {
  Measurement m;
  m.workers = workers;
  m.seconds = params.run.seconds;
  Shared shared{.params = params, .out = m};
  Status s;
  {
    bench::ProductionRuntime rt(params.run.blocking_threads);
    s = RunToCompletion(rt.scheduler, QueueMain(rt, dir, shared));
  }
  if (!s.ok()) m.error(s);
  return m;
}

// ---------------------------------------------------------------------------------------------
// The report.

nlohmann::json ToJson(const Measurement& m) {
  nlohmann::json j = {{"workers", m.workers},
                      {"cycles", m.cycle.count()},
                      {"cycles_per_s", m.cycles_per_s()},
                      {"claims", m.claim.count()},
                      {"acks", m.ack.count()},
                      {"retries", m.retries},
                      {"retries_per_cycle", m.retries_per_cycle()},
                      {"abort_rate", m.abort_rate()},
                      {"gave_up", m.gave_up},
                      {"unfinished", m.unfinished},
                      {"enqueued", m.enqueued},
                      {"fill_seconds", m.fill_seconds},
                      {"enqueues_per_s", m.enqueues_per_s()},
                      {"claimed_total", m.claimed_total},
                      {"acked_total", m.acked_total},
                      {"check_live_found", m.live_found},
                      {"check_ready_found", m.ready_found},
                      {"other_cores_busy", m.other_cores},
                      {"errors", m.errors},
                      {"first_error", m.first_error}};
  bench::AddLatencyJson(j, "claim", m.claim);
  bench::AddLatencyJson(j, "ack", m.ack);
  bench::AddLatencyJson(j, "cycle", m.cycle);
  return j;
}

void PrintJson(const Params& p, const std::string& command, const std::vector<Measurement>& rows) {
  nlohmann::json runs = nlohmann::json::array();
  for (const Measurement& m : rows) runs.push_back(ToJson(m));
  nlohmann::json report = bench::RunJson(p.run, command);
  report["benchmark"] = "queue";
  report["items"] = p.items;
  report["fill_clients"] = p.fill_clients;
  report["payload_bytes"] = p.payload_bytes;
  report["lease_seconds"] = std::chrono::duration<double>(kLease).count();
  report["runs"] = runs;
  std::printf("%s\n", report.dump(2).c_str());
}

void PrintHeader(const Params& p, const std::string& command) {
  std::printf("# queue: claim+ack cycles/s and latency of Queue on the production runtime\n");
  bench::PrintBuildLine();
  bench::PrintRunLine(p.run);
  std::printf(
      "# pre-filled with %llu items of %zu bytes by %d enqueuers (enq/s: the fill, not "
      "measured with the workers); lease 1 h\n",
      static_cast<unsigned long long>(p.items), p.payload_bytes, p.fill_clients);
  std::printf(
      "# latency: call to return, the queue's Conflict retries and backoff included; abort %%: "
      "claim/ack attempts that aborted\n");
  std::printf("# command: %s\n", command.c_str());
  std::fflush(stdout);
}

void PrintColumns() {
  std::printf("%7s | %8s %7s %9s | %8s %8s | %8s %8s | %8s | %7s | %8s | %9s\n", "workers",
              "cycles/s", "abort %", "retry/cyc", "claim50", "claim99", "ack50", "ack99", "cycle99",
              "gave up", "enq/s", "other cpu");
}

void PrintRow(const Measurement& m) {
  std::printf(
      "%7d | %8.0f %7.1f %9.2f | %8.3f %8.3f | %8.3f %8.3f | %8.3f | %7llu | %8.0f | %9.2f\n",
      m.workers, m.cycles_per_s(), 100 * m.abort_rate(), m.retries_per_cycle(),
      m.claim.quantile_ms(0.50), m.claim.quantile_ms(0.99), m.ack.quantile_ms(0.50),
      m.ack.quantile_ms(0.99), m.cycle.quantile_ms(0.99),
      static_cast<unsigned long long>(m.gave_up), m.enqueues_per_s(), m.other_cores);
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Params p;
  CLI::App app{"Kiln queue: claim+ack cycles/s and latency at 1, 8 and 32 workers"};
  app.add_option("--workers", p.workers, "concurrent worker counts, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--items", p.items, "items enqueued before the workers start")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--fill-clients", p.fill_clients, "concurrent enqueuers of the pre-fill")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--payload-bytes", p.payload_bytes, "bytes per item (at least its ordinal)")
      ->check(CLI::Range(size_t{1}, size_t{64} << 10))
      ->capture_default_str();
  bench::AddRunOptions(app, p.run, "seeds the lease tokens and the backoff jitter");
  if (std::optional<int> exit = bench::Parse(app, argc, argv)) return *exit;
  const std::string command = bench::Command(argc, argv);
  if (!p.run.json) {
    PrintHeader(p, command);
    PrintColumns();
  }
  std::vector<Measurement> rows;
  for (int workers : p.workers) {
    bench::TempDir dir(p.run.dir, "kiln-bench-queue");
    if (!dir.ok()) {
      std::fprintf(stderr, "queue: cannot create a directory under %s\n", p.run.dir.c_str());
      return kExitError;
    }
    Measurement m = Run(p, workers, dir.path());
    if (m.errors > 0) {
      std::fprintf(stderr, "queue: %d workers: %llu errors, the first: %s\n", workers,
                   static_cast<unsigned long long>(m.errors), m.first_error.c_str());
      return kExitError;
    }
    if (!p.run.json) PrintRow(m);
    rows.push_back(std::move(m));
  }
  if (p.run.json) PrintJson(p, command, rows);
  return kExitOk;
}

}  // namespace
}  // namespace kiln::queue

int main(int argc, char** argv) {
  return kiln::queue::Main(argc, argv);
}
