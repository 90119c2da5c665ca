// Signed assertions ingested per second end to end, beside the bare libsodium verify rate on the
// same machine; votes ingested per second; and by_subject_predicate latency with --assertions
// (1M) stored. All on the production runtime (PosixFileSystem, AsioScheduler, LevelDB's default
// Env, SystemClock), with the ledger as a server would run it (ledger.h).
//
// Method. Every assertion comes from one deterministic generator: number `seq` has a subject of
// --subjects, a predicate of --predicates and an agent of --agents (a hash of seed and seq),
// a text object of --object-bytes and timestamp 2000-01-01 + seq us; keys come from fixed seeds.
// - verify: 1024 assertions of that generator are signed beforehand; crypto_sign_verify_detached
//   (crypto.h's VerifyDetached) of their signed forms runs (a) in a loop on one thread and (b)
//   through Scheduler::blocking on the AsioScheduler's pool of --blocking-threads, fed by 64
//   waiting coroutines: how Ledger::submit verifies in production. Signing (SignDetached) is
//   timed on one thread too. Rates count calls that return inside the window.
// - ingest: for each of --clients, a fresh store; each client coroutine signs an assertion
//   (SignAssertion, on the loop thread, timed apart) and awaits Ledger::submit (validation and
//   the signature check on the blocking pool, the id hash, one transaction writing the record and
//   its three index entries), one after another. The rate counts sign+submit cycles that end in
//   the window; the latency is submit's alone (call to acknowledgement), signing is reported
//   beside it. The ratio columns divide the rate by each verify rate: one verify per assertion.
// - vote: for each of --clients, a fresh store holding --vote-assertions assertions (loaded by
//   submit first); clients sign votes (SignVote, on the loop) and await Ledger::vote. A vote goes
//   to one of the first --hot-assertions assertions with probability --hot-fraction, else to any;
//   its voter is one of the client's own share of --voters (so no two votes of one voter on one
//   assertion are ever in flight together), its timestamp increases with every vote issued.
// - query: one store loaded with --assertions assertions through Ledger::submit by
//   --load-clients clients (the load time and rate are reported), then for each of
//   --query-clients, by_subject_predicate(subject, predicate, --query-limit) of a uniformly random
//   pair, one after another, for the window.
// Every window opens --warmup-seconds after its clients start and lasts --seconds; latencies are
// on std::chrono::steady_clock. Each row also says how busy the loop thread and the whole process
// were (cores, getrusage) and how much CPU other processes used (bench::OtherCpu).
// The checks, each an exit 1 if it fails: every pre-signed form verifies; after each ingest run
// and after the load, one Ledger::scan passes CheckScan and holds exactly the acknowledged ids;
// after each vote run every assertion's tally equals the recount of the votes acknowledged
// (count and weight) and the scan passes CheckScan; every query returns min(stored, limit)
// assertions of its pair, as the generator placed them. Nothing else is asserted: a slow machine
// only gets smaller numbers.
// Run: build/bench/kiln_bench_ledger --seconds 5
#include <sys/resource.h>

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
#include <unordered_map>
#include <vector>

#include "bench/bench_util.h"
#include "engine/kv/kv_store.h"
#include "engine/ledger/crypto.h"
#include "engine/ledger/encoding.h"
#include "engine/ledger/ledger.h"
#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/event.h"
#include "engine/runtime/random.h"
#include "engine/txn/txn_store.h"

namespace kiln::ledger {
namespace {

using bench::LatencyHistogram;
using bench::NowNs;
using bench::UntilNs;
using bench::Window;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // An error, or a check failed: the numbers mean nothing.
// 2: a usage error (bench::Parse).

constexpr size_t kPresigned = 1024;  // Distinct signed forms the verify phase cycles through.
constexpr int kPoolFeeders = 64;     // Coroutines keeping the blocking pool's queue full.

struct Params {
  bench::RunOptions run;  // --seconds, --dir, --seed, --json, ...
  std::vector<std::string> phases = {"verify", "ingest", "vote", "query"};
  std::vector<int> clients = {1, 16, 128};
  std::vector<int> query_clients = {1, 16};
  uint64_t assertions = 1'000'000;
  uint32_t subjects = 100'000;
  uint32_t predicates = 4;
  uint32_t agents = 1000;
  size_t object_bytes = 32;
  size_t query_limit = 10;
  int load_clients = 64;
  uint32_t vote_assertions = 10'000;
  uint32_t hot_assertions = 10;
  double hot_fraction = 0.5;
  uint32_t voters = 10'000;

  bool has(const std::string& phase) const {
    return std::find(phases.begin(), phases.end(), phase) != phases.end();
  }
};

struct Errors {
  uint64_t count = 0;
  std::string first;
  void add(const Status& s) {
    if (count++ == 0) first = s.ToString();
  }
};

// ---------------------------------------------------------------------------------------------
// CPU use.

// CPU seconds used so far by the calling thread and by the whole process.
struct CpuSeconds {
  double thread = 0;
  double process = 0;
};

double Seconds(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

CpuSeconds CpuNow() {
  rusage thread{};
  rusage self{};
  getrusage(RUSAGE_THREAD, &thread);
  getrusage(RUSAGE_SELF, &self);
  return {Seconds(thread), Seconds(self)};
}

// Cores' worth of CPU over an interval: the loop thread, all of this process's threads (the
// loop, the blocking pool, LevelDB's compaction thread), and every other process.
struct Busy {
  double loop_cores = 0;
  double process_cores = 0;
  double other_cores = 0;
};

// Started on the loop thread (so "thread" is the loop); read() there too.
class BusyMeter {
 public:
  BusyMeter() : start_(CpuNow()), start_ns_(NowNs()) {}
  Busy read() const {
    const CpuSeconds now = CpuNow();
    const double seconds = std::max(1e-9, static_cast<double>(NowNs() - start_ns_) / 1e9);
    return {(now.thread - start_.thread) / seconds, (now.process - start_.process) / seconds,
            others_.cores_busy()};
  }

 private:
  bench::OtherCpu others_;
  CpuSeconds start_;
  int64_t start_ns_;
};

// Sleeps until the window opens, then until it closes; returns how busy it was.
Task<Busy> MeasureWindow(Scheduler& scheduler, Window window) {
  co_await scheduler.sleep_for(UntilNs(window.begin_ns));
  BusyMeter meter;
  co_await scheduler.sleep_for(UntilNs(window.end_ns));
  co_return meter.read();
}

// ---------------------------------------------------------------------------------------------
// The generator.

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A 32-byte key seed: the run's seed, a kind (agents 1, voters 2) and an index.
std::string KeySeed(uint64_t seed, uint64_t kind, uint64_t index) {
  std::string s = BigEndian64(seed) + BigEndian64(kind) + BigEndian64(index);
  s.resize(kSeedBytes, '\0');
  return s;
}

struct Keys {
  std::vector<KeyPair> agents;
  std::vector<KeyPair> voters;
};

Keys MakeKeys(const Params& p) {
  Keys keys;
  keys.agents.reserve(p.agents);
  for (uint32_t i = 0; i < p.agents; ++i) {
    keys.agents.push_back(KeyPairFromSeed(KeySeed(p.run.seed, 1, i)));
  }
  if (p.has("vote")) {
    keys.voters.reserve(p.voters);
    for (uint32_t i = 0; i < p.voters; ++i) {
      keys.voters.push_back(KeyPairFromSeed(KeySeed(p.run.seed, 2, i)));
    }
  }
  return keys;
}

// Where assertion `seq` goes: the same for every run of one seed, whatever the interleaving.
struct Shape {
  uint32_t subject = 0;
  uint32_t predicate = 0;
  uint32_t agent = 0;
};

Shape ShapeOf(const Params& p, uint64_t seq) {
  const uint64_t h = Mix(p.run.seed * 0x100000001b3ULL + seq);
  return {static_cast<uint32_t>(h % p.subjects), static_cast<uint32_t>((h >> 32) % p.predicates),
          static_cast<uint32_t>(Mix(h) % p.agents)};
}

std::string SubjectName(uint32_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "subject-%07" PRIu32, i);
  return name;
}

std::string PredicateName(uint32_t i) {
  return "predicate-" + std::to_string(i);
}

size_t PairIndex(const Params& p, uint32_t subject, uint32_t predicate) {
  return size_t{subject} * p.predicates + predicate;
}

AssertionBody MakeBody(const Params& p, const Keys& keys, const Shape& shape, uint64_t seq) {
  AssertionBody body;
  body.agent = keys.agents[shape.agent].public_key;
  body.subject = SubjectName(shape.subject);
  body.predicate = PredicateName(shape.predicate);
  std::string text = "object-" + std::to_string(seq);
  if (text.size() < p.object_bytes) text.resize(p.object_bytes, '.');
  body.object = std::move(text);
  body.confidence = 0.9;
  body.timestamp_us = kTimestampMinUs + static_cast<int64_t>(seq);
  return body;
}

// ---------------------------------------------------------------------------------------------
// The store.

// An open ledger on the production runtime. Destroyed in reverse order: ledger, txns, kv.
struct Store {
  explicit Store(uint64_t seed) : random(seed) {}
  std::unique_ptr<kv::KvStore> kv;
  std::unique_ptr<txn::TxnStore> txns;
  DeterministicRandom random;  // The ledger's retry jitter.
  std::unique_ptr<Ledger> ledger;
};

Task<Result<std::unique_ptr<Store>>> OpenStore(bench::ProductionRuntime& rt, std::string dir,
                                               const Params& p) {
  Result<std::unique_ptr<kv::KvStore>> kv =
      co_await bench::OpenKvStore(rt, dir, p.run.checkpoint_every_records);
  if (!kv.ok()) co_return kv.status();
  auto store = std::make_unique<Store>(p.run.seed);
  store->kv = std::move(kv).value();
  store->txns = std::make_unique<txn::TxnStore>(*store->kv, rt.scheduler, rt.clock);
  store->ledger = std::make_unique<Ledger>(*store->txns, rt.scheduler, store->random);
  co_return std::move(store);
}

// Runs the task `start(rt)` makes on a fresh production runtime, which is gone (its scheduler
// last) before this returns: one store's life, as in every run of every phase.
template <typename Start>
Status RunOnRuntime(const Params& p, Start start) {
  bench::ProductionRuntime rt(p.run.blocking_threads);
  return RunToCompletion(rt.scheduler, start(rt));
}

// One scan of everything: it must pass CheckScan and hold exactly the ids in `acked`.
Task<Status> CheckStored(Ledger& ledger, std::vector<AssertionId>& acked) {
  Result<LedgerScan> scan = co_await ledger.scan();
  if (!scan.ok()) co_return scan.status();
  if (Status s = CheckScan(*scan); !s.ok()) co_return s;
  std::vector<AssertionId> stored;
  stored.reserve(scan->assertions.size());
  for (const StoredAssertion& a : scan->assertions) stored.push_back(a.id);
  std::sort(stored.begin(), stored.end());
  std::sort(acked.begin(), acked.end());
  if (stored != acked) {
    co_return Status::Corruption("check: the store holds " + std::to_string(stored.size()) +
                                 " assertions, " + std::to_string(acked.size()) +
                                 " were acknowledged, and the ids differ");
  }
  co_return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// verify: the bare libsodium rates.

struct Presigned {
  std::string form;
  std::string signature;
  std::string key;
  std::string secret_key;
};

Result<std::vector<Presigned>> Presign(const Params& p, const Keys& keys) {
  std::vector<Presigned> out;
  for (uint64_t seq = 0; seq < kPresigned; ++seq) {
    const Shape shape = ShapeOf(p, seq);
    Result<std::string> form = SignedForm(MakeBody(p, keys, shape, seq));
    if (!form.ok()) return form.status();
    const KeyPair& k = keys.agents[shape.agent];
    Result<std::string> signature = SignDetached(*form, k.secret_key);
    if (!signature.ok()) return signature.status();
    out.push_back(
        {std::move(form).value(), std::move(signature).value(), k.public_key, k.secret_key});
  }
  return out;
}

struct VerifyRates {
  size_t form_bytes = 0;    // Of the first pre-signed form (they differ by a digit or two).
  double single_per_s = 0;  // VerifyDetached, one thread.
  double pool_per_s = 0;    // VerifyDetached through Scheduler::blocking.
  double sign_per_s = 0;    // SignDetached, one thread.
  double single_other_cores = 0;
  Busy pool_busy;
  uint64_t rejected = 0;  // Pre-signed forms that did not verify: the check.
};

// Calls `op(i)` for i = 0, 1, ... on this thread; the rate of calls that end inside the window.
double OneThreadRate(const Params& p, const std::function<void(uint64_t)>& op,
                     double* other_cores) {
  const Window window = Window::FromNow(p.run.warmup_seconds, p.run.seconds);
  std::optional<bench::OtherCpu> others;
  uint64_t n = 0;
  for (uint64_t i = 0;; ++i) {
    op(i);
    const int64_t now = NowNs();
    if (now < window.begin_ns) continue;
    if (!others.has_value()) others.emplace();
    if (now > window.end_ns) break;
    ++n;
  }
  if (other_cores != nullptr) *other_cores = others->cores_busy();
  return static_cast<double>(n) / p.run.seconds;
}

struct PoolShared {
  PoolShared(const std::vector<Presigned>& f, Scheduler& s, Window w)
      : forms(f), scheduler(s), window(w) {}
  const std::vector<Presigned>& forms;
  Scheduler& scheduler;
  Window window;
  uint64_t verified = 0;  // Inside the window.
  uint64_t rejected = 0;
  int running = 0;
  Event* done = nullptr;
};

Task<void> PoolVerifier(PoolShared& sh, size_t first) {
  for (size_t i = first;; i += kPoolFeeders) {
    const Presigned& m = sh.forms[i % sh.forms.size()];
    Task<bool> verifying =
        sh.scheduler.blocking([&m] { return VerifyDetached(m.form, m.signature, m.key); });
    const bool valid = co_await std::move(verifying);
    const int64_t end_ns = NowNs();
    if (!valid) ++sh.rejected;
    if (sh.window.contains(end_ns)) ++sh.verified;
    if (end_ns > sh.window.end_ns) break;
  }
  assert(sh.running > 0);
  if (--sh.running == 0) sh.done->set();
}

Task<Busy> PoolMain(PoolShared& sh) {
  Event done(sh.scheduler, "bench-verifiers-done");
  sh.done = &done;
  sh.running = kPoolFeeders;
  for (int i = 0; i < kPoolFeeders; ++i) {
    sh.scheduler.spawn(PoolVerifier(sh, static_cast<size_t>(i)), "bench-verifier");
  }
  Busy busy = co_await MeasureWindow(sh.scheduler, sh.window);
  co_await done.wait();
  co_return busy;
}

Result<VerifyRates> MeasureVerify(const Params& p, const Keys& keys) {
  Result<std::vector<Presigned>> forms = Presign(p, keys);
  if (!forms.ok()) return forms.status();
  const std::vector<Presigned>& f = *forms;
  VerifyRates r;
  r.form_bytes = f.front().form.size();
  r.single_per_s = OneThreadRate(
      p,
      [&f, &r](uint64_t i) {
        const Presigned& m = f[i % f.size()];
        if (!VerifyDetached(m.form, m.signature, m.key)) ++r.rejected;
      },
      &r.single_other_cores);
  r.sign_per_s = OneThreadRate(
      p,
      [&f](uint64_t i) {
        const Presigned& m = f[i % f.size()];
        Result<std::string> signature = SignDetached(m.form, m.secret_key);
        assert(signature.ok());
        assert(*signature == m.signature);  // Ed25519 is deterministic.
      },
      nullptr);
  bench::ProductionRuntime rt(p.run.blocking_threads);
  PoolShared sh(f, rt.scheduler, Window::FromNow(p.run.warmup_seconds, p.run.seconds));
  r.pool_busy = RunToCompletion(rt.scheduler, PoolMain(sh));
  r.pool_per_s = static_cast<double>(sh.verified) / p.run.seconds;
  r.rejected += sh.rejected;
  return r;
}

// ---------------------------------------------------------------------------------------------
// ingest (and the loads before the vote and query phases): sign, then submit.

struct IngestShared {
  IngestShared(const Params& p, const Keys& k) : params(p), keys(k) {}
  const Params& params;
  const Keys& keys;
  Ledger* ledger = nullptr;
  Window window;                  // A load's is everything: {0, INT64_MAX}.
  uint64_t seq_next = 0;          // The next assertion to sign.
  uint64_t seq_end = UINT64_MAX;  // A load stops here; a timed run at the window's end.
  uint64_t progress_every = 0;    // A load prints progress to stderr every so many (0: never).
  int64_t start_ns = 0;
  // Cycles that ended in the window: submit (call to ack) and signing, apart.
  LatencyHistogram submit;
  LatencyHistogram sign;
  std::vector<AssertionId> acked;          // Every acknowledged id.
  std::vector<uint32_t>* pairs = nullptr;  // A load counts assertions per (subject, predicate).
  Errors errors;
  int running = 0;
  Event* done = nullptr;
};

void Progress(const IngestShared& sh) {
  if (sh.progress_every == 0 || sh.acked.size() % sh.progress_every != 0) return;
  std::fprintf(stderr, "# load: %zu of %llu assertions acknowledged, %.0f s\n", sh.acked.size(),
               static_cast<unsigned long long>(sh.seq_end),
               static_cast<double>(NowNs() - sh.start_ns) / 1e9);
}

Task<void> IngestClient(IngestShared& sh) {
  while (sh.errors.count == 0 && sh.seq_next < sh.seq_end) {
    const uint64_t seq = sh.seq_next++;
    const Shape shape = ShapeOf(sh.params, seq);
    const int64_t sign_ns = NowNs();
    Result<Assertion> a =
        SignAssertion(MakeBody(sh.params, sh.keys, shape, seq), sh.keys.agents[shape.agent]);
    const int64_t begin_ns = NowNs();
    if (!a.ok()) {
      sh.errors.add(a.status());
      break;
    }
    Task<Result<AssertionId>> submitting = sh.ledger->submit(std::move(a).value());
    Result<AssertionId> id = co_await std::move(submitting);
    const int64_t end_ns = NowNs();
    if (!id.ok()) {
      sh.errors.add(id.status());
      break;
    }
    sh.acked.push_back(std::move(id).value());
    if (sh.pairs != nullptr) ++(*sh.pairs)[PairIndex(sh.params, shape.subject, shape.predicate)];
    Progress(sh);
    if (sh.window.contains(end_ns)) {
      sh.submit.add(end_ns - begin_ns);
      sh.sign.add(begin_ns - sign_ns);
    }
    if (end_ns > sh.window.end_ns) break;
  }
  assert(sh.running > 0);
  if (--sh.running == 0) sh.done->set();
}

// Starts `clients` ingest clients on `sh`; `done` is set when the last one stops.
void StartIngest(Scheduler& scheduler, IngestShared& sh, int clients, Event& done) {
  assert(clients >= 1);
  sh.done = &done;
  sh.running = clients;
  sh.start_ns = NowNs();
  for (int c = 0; c < clients; ++c) scheduler.spawn(IngestClient(sh), "bench-ingest");
}

// Submits assertions 0 .. n-1 through `ledger` with --load-clients clients.
struct Load {
  uint64_t assertions = 0;
  double seconds = 0;
  LatencyHistogram submit;
  Busy busy;
  double check_seconds = 0;  // The scan and its checks afterwards.
};

Task<Status> LoadStore(Scheduler& scheduler, Ledger& ledger, IngestShared& sh, uint64_t n,
                       Load& out) {
  sh.ledger = &ledger;
  sh.window = Window{0, INT64_MAX};
  sh.seq_end = n;
  BusyMeter meter;
  const int64_t begin_ns = NowNs();
  Event done(scheduler, "bench-load-done");
  StartIngest(scheduler, sh, sh.params.load_clients, done);
  co_await done.wait();
  out.seconds = static_cast<double>(NowNs() - begin_ns) / 1e9;
  out.busy = meter.read();
  out.assertions = sh.acked.size();
  out.submit = sh.submit;
  if (sh.errors.count > 0) co_return Status::Unknown("load: " + sh.errors.first);
  co_return Status::Ok();
}

struct IngestRow {
  int clients = 0;
  double seconds = 0;
  LatencyHistogram latency;  // Of submit alone.
  LatencyHistogram sign;
  uint64_t acked_total = 0;
  Busy busy;
  double per_s() const { return static_cast<double>(latency.count()) / seconds; }
};

Task<Status> IngestMain(bench::ProductionRuntime& rt, std::string dir, IngestShared& sh,
                        IngestRow& row) {
  Result<std::unique_ptr<Store>> opened = co_await OpenStore(rt, dir, sh.params);
  if (!opened.ok()) co_return opened.status();
  std::unique_ptr<Store> store = std::move(opened).value();
  sh.ledger = store->ledger.get();
  sh.window = Window::FromNow(sh.params.run.warmup_seconds, sh.params.run.seconds);
  Event done(rt.scheduler, "bench-ingest-done");
  StartIngest(rt.scheduler, sh, row.clients, done);
  row.busy = co_await MeasureWindow(rt.scheduler, sh.window);
  co_await done.wait();
  Status checked = Status::Unknown(sh.errors.first);
  if (sh.errors.count == 0) checked = co_await CheckStored(*store->ledger, sh.acked);
  Status closed = co_await store->kv->close();
  co_return checked.ok() ? closed : checked;
}

Result<IngestRow> RunIngestRow(const Params& p, const Keys& keys, int clients,
                               const std::string& dir) {
  IngestRow row;
  row.clients = clients;
  row.seconds = p.run.seconds;
  IngestShared sh(p, keys);
  const Status s = RunOnRuntime(
      p, [&dir, &sh, &row](bench::ProductionRuntime& rt) { return IngestMain(rt, dir, sh, row); });
  if (!s.ok()) return s;
  row.latency = sh.submit;
  row.sign = sh.sign;
  row.acked_total = sh.acked.size();
  return row;
}

// ---------------------------------------------------------------------------------------------
// vote: votes on a store of --vote-assertions, some hot.

struct VoteShared {
  VoteShared(const Params& p, const Keys& k, int c) : params(p), keys(k), clients(c) {}
  const Params& params;
  const Keys& keys;
  Ledger* ledger = nullptr;
  const std::vector<AssertionId>* targets = nullptr;  // The first hot_assertions are hot.
  Window window;
  const int clients;
  int64_t timestamp_next_us = kTimestampMinUs;  // Every vote issued is newer than the last.
  // The last acknowledged vote's weight_micros per (target, voter): the standing votes.
  std::unordered_map<uint64_t, int64_t> standing;
  // Votes that ended in the window (call to ack), their signing apart, and how many were hot.
  LatencyHistogram vote;
  LatencyHistogram sign;
  uint64_t hot_votes = 0;
  uint64_t acked_total = 0;
  Errors errors;
  int running = 0;
  Event* done = nullptr;
};

Task<void> VoteClient(VoteShared& sh, int client) {
  const Params& p = sh.params;
  DeterministicRandom random(Mix(p.run.seed) + static_cast<uint64_t>(client));
  // This client's voters: no other client votes as them, so one voter's votes never overlap.
  const uint64_t voter_first = uint64_t{p.voters} * client / sh.clients;
  const uint64_t voter_count = uint64_t{p.voters} * (client + 1) / sh.clients - voter_first;
  assert(voter_count >= 1);
  while (sh.errors.count == 0) {
    const bool hot = random.chance(p.hot_fraction);
    const uint64_t target = random.uniform(hot ? p.hot_assertions : sh.targets->size());
    const uint64_t voter = voter_first + random.uniform(voter_count);
    const double weight = 0.5 + static_cast<double>(random.uniform(100)) / 10;
    const int64_t sign_ns = NowNs();
    Result<Vote> v = SignVote({(*sh.targets)[target], "", weight, sh.timestamp_next_us++},
                              sh.keys.voters[voter]);
    const int64_t begin_ns = NowNs();
    if (!v.ok()) {
      sh.errors.add(v.status());
      break;
    }
    Task<Status> voting = sh.ledger->vote(std::move(v).value());
    const Status s = co_await std::move(voting);
    const int64_t end_ns = NowNs();
    if (!s.ok()) {
      sh.errors.add(s);
      break;
    }
    ++sh.acked_total;
    sh.standing[target * p.voters + voter] = WeightMicros(weight);
    if (sh.window.contains(end_ns)) {
      sh.vote.add(end_ns - begin_ns);
      sh.sign.add(begin_ns - sign_ns);
      sh.hot_votes += hot ? 1 : 0;
    }
    if (end_ns > sh.window.end_ns) break;
  }
  assert(sh.running > 0);
  if (--sh.running == 0) sh.done->set();
}

// Every target's stored tally must be the recount of the acknowledged votes on it.
Task<Status> CheckTallies(VoteShared& sh) {
  const std::vector<AssertionId>& targets = *sh.targets;
  std::vector<Tally> expected(targets.size());
  for (const auto& [slot, micros] : sh.standing) {
    Tally& t = expected[slot / sh.params.voters];
    ++t.votes;
    t.weight_micros += micros;
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    Result<Tally> stored = co_await sh.ledger->tally(targets[i]);
    if (!stored.ok()) co_return stored.status();
    if (*stored != expected[i]) {
      co_return Status::Corruption(
          "check: assertion " + std::to_string(i) + " has a tally of " +
          std::to_string(stored->votes) + " votes, " + std::to_string(stored->weight_micros) +
          " weight_micros; the acknowledged votes make " + std::to_string(expected[i].votes) +
          ", " + std::to_string(expected[i].weight_micros));
    }
  }
  co_return Status::Ok();
}

struct VoteRow {
  int clients = 0;
  double seconds = 0;
  Load load;                 // Of the targets, before the window.
  LatencyHistogram latency;  // Of vote alone.
  LatencyHistogram sign;
  uint64_t hot_votes = 0;
  uint64_t acked_total = 0;
  Busy busy;
  double per_s() const { return static_cast<double>(latency.count()) / seconds; }
};

// After the load: the voters, in the window, then the checks.
Task<Status> VoteWindow(bench::ProductionRuntime& rt, Store& store, VoteShared& sh, VoteRow& row) {
  Event done(rt.scheduler, "bench-voters-done");
  sh.done = &done;
  sh.running = sh.clients;
  sh.window = Window::FromNow(sh.params.run.warmup_seconds, sh.params.run.seconds);
  for (int c = 0; c < sh.clients; ++c) rt.scheduler.spawn(VoteClient(sh, c), "bench-voter");
  row.busy = co_await MeasureWindow(rt.scheduler, sh.window);
  co_await done.wait();
  if (sh.errors.count > 0) co_return Status::Unknown(sh.errors.first);
  if (Status s = co_await CheckTallies(sh); !s.ok()) co_return s;
  Result<LedgerScan> scan = co_await store.ledger->scan();
  if (!scan.ok()) co_return scan.status();
  co_return CheckScan(*scan);
}

Task<Status> VoteMain(bench::ProductionRuntime& rt, std::string dir, VoteShared& sh, VoteRow& row) {
  const Params& p = sh.params;
  Result<std::unique_ptr<Store>> opened = co_await OpenStore(rt, dir, p);
  if (!opened.ok()) co_return opened.status();
  std::unique_ptr<Store> store = std::move(opened).value();
  IngestShared loader(p, sh.keys);
  Status s = co_await LoadStore(rt.scheduler, *store->ledger, loader, p.vote_assertions, row.load);
  // The targets in seq order (the first ones hot), whatever order the load acknowledged them in.
  std::vector<AssertionId> targets;
  for (uint64_t seq = 0; s.ok() && seq < p.vote_assertions; ++seq) {
    Result<AssertionId> id = ComputeId(MakeBody(p, sh.keys, ShapeOf(p, seq), seq));
    if (!id.ok()) s = id.status();
    if (s.ok()) targets.push_back(std::move(id).value());
  }
  sh.targets = &targets;
  sh.ledger = store->ledger.get();
  if (s.ok()) s = co_await VoteWindow(rt, *store, sh, row);
  Status closed = co_await store->kv->close();
  co_return s.ok() ? closed : s;
}

Result<VoteRow> RunVoteRow(const Params& p, const Keys& keys, int clients, const std::string& dir) {
  VoteRow row;
  row.clients = clients;
  row.seconds = p.run.seconds;
  VoteShared sh(p, keys, clients);
  const Status s = RunOnRuntime(
      p, [&dir, &sh, &row](bench::ProductionRuntime& rt) { return VoteMain(rt, dir, sh, row); });
  if (!s.ok()) return s;
  row.latency = sh.vote;
  row.sign = sh.sign;
  row.hot_votes = sh.hot_votes;
  row.acked_total = sh.acked_total;
  return row;
}

// ---------------------------------------------------------------------------------------------
// query: by_subject_predicate with --assertions stored.

struct QueryShared {
  QueryShared(const Params& p, Ledger& l, const std::vector<uint32_t>& counts)
      : params(p), ledger(l), pairs(counts) {}
  const Params& params;
  Ledger& ledger;
  const std::vector<uint32_t>& pairs;  // Assertions stored per (subject, predicate).
  Window window;
  // Queries that ended in the window (call to return) and the rows they returned.
  LatencyHistogram latency;
  uint64_t rows = 0;
  Errors errors;
  int running = 0;
  Event* done = nullptr;
};

// The rows of a query must be min(stored, limit) assertions of the pair asked for.
Status CheckRows(const QueryShared& sh, uint32_t subject, uint32_t predicate,
                 const std::vector<StoredAssertion>& rows) {
  const size_t stored = sh.pairs[PairIndex(sh.params, subject, predicate)];
  const size_t expected = std::min(stored, sh.params.query_limit);
  if (rows.size() != expected) {
    return Status::Corruption("check: (" + SubjectName(subject) + ", " + PredicateName(predicate) +
                              ") returned " + std::to_string(rows.size()) +
                              " assertions, expected " + std::to_string(expected) + " of " +
                              std::to_string(stored));
  }
  for (const StoredAssertion& row : rows) {
    const AssertionBody& body = row.assertion.body;
    if (body.subject != SubjectName(subject) || body.predicate != PredicateName(predicate)) {
      return Status::Corruption("check: a query for (" + SubjectName(subject) + ", " +
                                PredicateName(predicate) + ") returned one about (" + body.subject +
                                ", " + body.predicate + ")");
    }
  }
  return Status::Ok();
}

Task<void> QueryClient(QueryShared& sh, int client) {
  const Params& p = sh.params;
  DeterministicRandom random(Mix(p.run.seed + 7) + static_cast<uint64_t>(client));
  while (sh.errors.count == 0) {
    const auto subject = static_cast<uint32_t>(random.uniform(p.subjects));
    const auto predicate = static_cast<uint32_t>(random.uniform(p.predicates));
    const int64_t begin_ns = NowNs();
    Task<Result<std::vector<StoredAssertion>>> querying = sh.ledger.by_subject_predicate(
        SubjectName(subject), PredicateName(predicate), p.query_limit);
    Result<std::vector<StoredAssertion>> rows = co_await std::move(querying);
    const int64_t end_ns = NowNs();
    if (!rows.ok()) {
      sh.errors.add(rows.status());
      break;
    }
    if (Status s = CheckRows(sh, subject, predicate, *rows); !s.ok()) {
      sh.errors.add(s);
      break;
    }
    if (sh.window.contains(end_ns)) {
      sh.latency.add(end_ns - begin_ns);
      sh.rows += rows->size();
    }
    if (end_ns > sh.window.end_ns) break;
  }
  assert(sh.running > 0);
  if (--sh.running == 0) sh.done->set();
}

struct QueryRow {
  int clients = 0;
  double seconds = 0;
  LatencyHistogram latency;
  uint64_t rows = 0;
  Busy busy;
  double per_s() const { return static_cast<double>(latency.count()) / seconds; }
  double rows_mean() const {
    return latency.count() == 0 ? 0 : static_cast<double>(rows) / latency.count();
  }
};

Task<Status> QueryWindow(Scheduler& scheduler, QueryShared& sh, QueryRow& row) {
  Event done(scheduler, "bench-queries-done");
  sh.done = &done;
  sh.running = row.clients;
  sh.window = Window::FromNow(sh.params.run.warmup_seconds, sh.params.run.seconds);
  for (int c = 0; c < row.clients; ++c) scheduler.spawn(QueryClient(sh, c), "bench-query");
  row.busy = co_await MeasureWindow(scheduler, sh.window);
  co_await done.wait();
  row.latency = sh.latency;
  row.rows = sh.rows;
  if (sh.errors.count > 0) co_return Status::Unknown(sh.errors.first);
  co_return Status::Ok();
}

struct QueryPhase {
  Load load;
  std::vector<QueryRow> rows;
};

void PrintLoad(const Params& p, const Load& l);
void PrintQueryColumns(const Params& p);
void PrintQueryRow(const QueryRow& row);

// Loads the store, checks it, then runs the queries at each client count; prints each part as it
// ends (a 1M load takes minutes).
Task<Status> QueryMain(bench::ProductionRuntime& rt, std::string dir, const Params& p,
                       const Keys& keys, QueryPhase& out) {
  Result<std::unique_ptr<Store>> opened = co_await OpenStore(rt, dir, p);
  if (!opened.ok()) co_return opened.status();
  std::unique_ptr<Store> store = std::move(opened).value();
  std::vector<uint32_t> pairs(size_t{p.subjects} * p.predicates, 0);
  IngestShared loader(p, keys);
  loader.pairs = &pairs;
  loader.progress_every = p.assertions >= 100'000 ? p.assertions / 10 : 0;
  Status s = co_await LoadStore(rt.scheduler, *store->ledger, loader, p.assertions, out.load);
  if (s.ok()) {
    const int64_t check_ns = NowNs();
    s = co_await CheckStored(*store->ledger, loader.acked);
    out.load.check_seconds = static_cast<double>(NowNs() - check_ns) / 1e9;
  }
  if (s.ok() && !p.run.json) {
    std::printf("\n");
    PrintLoad(p, out.load);
    PrintQueryColumns(p);
  }
  for (size_t i = 0; s.ok() && i < p.query_clients.size(); ++i) {
    QueryShared sh(p, *store->ledger, pairs);
    QueryRow row;
    row.clients = p.query_clients[i];
    row.seconds = p.run.seconds;
    s = co_await QueryWindow(rt.scheduler, sh, row);
    if (s.ok() && !p.run.json) PrintQueryRow(row);
    out.rows.push_back(std::move(row));
  }
  Status closed = co_await store->kv->close();
  co_return s.ok() ? closed : s;
}

// ---------------------------------------------------------------------------------------------
// The report.

struct Report {
  std::optional<VerifyRates> verify;
  std::vector<IngestRow> ingest;
  std::vector<VoteRow> votes;
  std::optional<QueryPhase> query;
};

nlohmann::json BusyJson(const Busy& b) {
  return {{"loop_cores_busy", b.loop_cores},
          {"process_cores_busy", b.process_cores},
          {"other_cores_busy", b.other_cores}};
}

nlohmann::json LoadJson(const Load& l) {
  nlohmann::json j = {{"assertions", l.assertions},
                      {"seconds", l.seconds},
                      {"per_s", static_cast<double>(l.assertions) / l.seconds},
                      {"check_seconds", l.check_seconds}};
  bench::AddLatencyJson(j, "submit", l.submit);
  j.update(BusyJson(l.busy));
  return j;
}

// The ratio of `rate` to a verify rate, or null without one.
nlohmann::json Ratio(double rate, const std::optional<VerifyRates>& v, bool pool) {
  if (!v.has_value()) return nullptr;
  const double base = pool ? v->pool_per_s : v->single_per_s;
  return base == 0 ? nlohmann::json(nullptr) : nlohmann::json(rate / base);
}

nlohmann::json ReportJson(const Params& p, const std::string& command, const Report& r) {
  nlohmann::json j = bench::RunJson(p.run, command);
  j["benchmark"] = "ledger";
  j["phases"] = p.phases;
  j["assertions"] = p.assertions;
  j["subjects"] = p.subjects;
  j["predicates"] = p.predicates;
  j["agents"] = p.agents;
  j["object_bytes"] = p.object_bytes;
  j["query_limit"] = p.query_limit;
  j["load_clients"] = p.load_clients;
  j["vote_assertions"] = p.vote_assertions;
  j["hot_assertions"] = p.hot_assertions;
  j["hot_fraction"] = p.hot_fraction;
  j["voters"] = p.voters;
  if (r.verify.has_value()) {
    const VerifyRates& v = *r.verify;
    j["verify"] = {{"signed_form_bytes", v.form_bytes},
                   {"one_thread_per_s", v.single_per_s},
                   {"one_thread_other_cores_busy", v.single_other_cores},
                   {"pool_per_s", v.pool_per_s},
                   {"pool_threads", p.run.blocking_threads},
                   {"pool_busy", BusyJson(v.pool_busy)},
                   {"sign_one_thread_per_s", v.sign_per_s}};
  }
  j["ingest"] = nlohmann::json::array();
  for (const IngestRow& row : r.ingest) {
    nlohmann::json x = {{"clients", row.clients},
                        {"assertions_per_s", row.per_s()},
                        {"ratio_to_verify_one_thread", Ratio(row.per_s(), r.verify, false)},
                        {"ratio_to_verify_pool", Ratio(row.per_s(), r.verify, true)},
                        {"acknowledged_total", row.acked_total}};
    bench::AddLatencyJson(x, "submit", row.latency);
    bench::AddLatencyJson(x, "sign", row.sign);
    x.update(BusyJson(row.busy));
    j["ingest"].push_back(x);
  }
  j["votes"] = nlohmann::json::array();
  for (const VoteRow& row : r.votes) {
    nlohmann::json x = {{"clients", row.clients},
                        {"votes_per_s", row.per_s()},
                        {"ratio_to_verify_one_thread", Ratio(row.per_s(), r.verify, false)},
                        {"ratio_to_verify_pool", Ratio(row.per_s(), r.verify, true)},
                        {"hot_votes", row.hot_votes},
                        {"acknowledged_total", row.acked_total},
                        {"load", LoadJson(row.load)}};
    bench::AddLatencyJson(x, "vote", row.latency);
    bench::AddLatencyJson(x, "sign", row.sign);
    x.update(BusyJson(row.busy));
    j["votes"].push_back(x);
  }
  if (r.query.has_value()) {
    j["load"] = LoadJson(r.query->load);
    j["query"] = nlohmann::json::array();
    for (const QueryRow& row : r.query->rows) {
      nlohmann::json x = {
          {"clients", row.clients}, {"queries_per_s", row.per_s()}, {"rows_mean", row.rows_mean()}};
      bench::AddLatencyJson(x, "query", row.latency);
      x.update(BusyJson(row.busy));
      j["query"].push_back(x);
    }
  }
  return j;
}

void PrintHeader(const Params& p, const std::string& command) {
  std::printf(
      "# ledger: signed assertions ingested/s end to end beside the bare Ed25519 verify rate, "
      "votes/s, by_subject_predicate latency with %llu stored\n",
      static_cast<unsigned long long>(p.assertions));
  bench::PrintBuildLine();
  bench::PrintRunLine(p.run);
  std::printf(
      "# subjects %u, predicates %u, agents %u, object_bytes %zu, query_limit %zu, load_clients "
      "%d, vote_assertions %u (hot %u, hot_fraction %g), voters %u\n",
      p.subjects, p.predicates, p.agents, p.object_bytes, p.query_limit, p.load_clients,
      p.vote_assertions, p.hot_assertions, p.hot_fraction, p.voters);
  std::printf("# cpu columns: cores busy in the window: the loop thread, this process, others\n");
  std::printf("# command: %s\n", command.c_str());
  std::fflush(stdout);
}

void PrintVerify(const Params& p, const VerifyRates& v) {
  std::printf("\nverify: crypto_sign_verify_detached of %zu-byte assertion signed forms\n",
              v.form_bytes);
  std::printf("  one thread                  %9.0f /s   other cpu %.2f\n", v.single_per_s,
              v.single_other_cores);
  std::printf("  blocking pool, %2zu threads   %9.0f /s   cpu %.2f %.2f %.2f\n",
              p.run.blocking_threads, v.pool_per_s, v.pool_busy.loop_cores,
              v.pool_busy.process_cores, v.pool_busy.other_cores);
  std::printf("  sign (SignDetached), 1 thr  %9.0f /s\n", v.sign_per_s);
  std::fflush(stdout);
}

std::string RatioText(double rate, const std::optional<VerifyRates>& v, bool pool) {
  const nlohmann::json r = Ratio(rate, v, pool);
  if (r.is_null()) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", r.get<double>());
  return text;
}

void PrintRateColumns(const char* what, const char* latency) {
  std::printf("clients | %9s %7s %7s | %6s p50 %7s | sign p50 | cpu: loop  proc other\n", what,
              "/verify", "/pool", latency, "p99 ms");
}

void PrintRateRow(int clients, double rate, const std::optional<VerifyRates>& v,
                  const LatencyHistogram& latency, const LatencyHistogram& sign, const Busy& b) {
  std::printf("%7d | %9.0f %7s %7s | %10.3f %7.3f | %8.3f |      %5.2f %5.2f %5.2f\n", clients,
              rate, RatioText(rate, v, false).c_str(), RatioText(rate, v, true).c_str(),
              latency.quantile_ms(0.50), latency.quantile_ms(0.99), sign.quantile_ms(0.50),
              b.loop_cores, b.process_cores, b.other_cores);
  std::fflush(stdout);
}

void PrintLoad(const Params& p, const Load& l) {
  std::printf(
      "load: %llu assertions by %d clients in %.1f s (%.0f /s), submit p50 %.3f ms p99 %.3f "
      "ms, cpu: loop %.2f proc %.2f other %.2f",
      static_cast<unsigned long long>(l.assertions), p.load_clients, l.seconds,
      static_cast<double>(l.assertions) / l.seconds, l.submit.quantile_ms(0.5),
      l.submit.quantile_ms(0.99), l.busy.loop_cores, l.busy.process_cores, l.busy.other_cores);
  if (l.check_seconds > 0) std::printf("; check (scan + CheckScan) %.1f s", l.check_seconds);
  std::printf("\n");
  std::fflush(stdout);
}

void PrintQueryColumns(const Params& p) {
  std::printf(
      "\nquery: by_subject_predicate, limit %zu, a uniform pair of %u subjects x %u predicates\n",
      p.query_limit, p.subjects, p.predicates);
  std::printf("clients | queries/s | p50 ms  p99 ms | rows/query | cpu: loop  proc other\n");
  std::fflush(stdout);
}

void PrintQueryRow(const QueryRow& row) {
  std::printf("%7d | %9.0f | %6.3f %7.3f | %10.2f |      %5.2f %5.2f %5.2f\n", row.clients,
              row.per_s(), row.latency.quantile_ms(0.50), row.latency.quantile_ms(0.99),
              row.rows_mean(), row.busy.loop_cores, row.busy.process_cores, row.busy.other_cores);
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// main.

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "ledger: %s: %s\n", what, s.ToString().c_str());
  return kExitError;
}

// Runs `run` at each of --clients, each in a fresh directory, printing each row as it ends.
template <typename Row>
int RunRows(const Params& p, const Keys& keys, const char* what,
            Result<Row> (*run)(const Params&, const Keys&, int, const std::string&),
            const std::optional<VerifyRates>& verify, std::vector<Row>& rows) {
  for (int clients : p.clients) {
    bench::TempDir dir(p.run.dir, "kiln-bench-ledger");
    if (!dir.ok()) return Fail(what, Status::IOError("cannot create a directory in " + p.run.dir));
    Result<Row> row = run(p, keys, clients, dir.path());
    if (!row.ok()) return Fail(what, row.status());
    if (!p.run.json) {
      PrintRateRow(clients, row->per_s(), verify, row->latency, row->sign, row->busy);
    }
    rows.push_back(std::move(row).value());
  }
  return kExitOk;
}

int RunQueryPhase(const Params& p, const Keys& keys, Report& report) {
  bench::TempDir dir(p.run.dir, "kiln-bench-ledger");
  if (!dir.ok()) return Fail("query", Status::IOError("cannot create a directory in " + p.run.dir));
  QueryPhase phase;
  const Status s = RunOnRuntime(p, [&dir, &p, &keys, &phase](bench::ProductionRuntime& rt) {
    return QueryMain(rt, dir.path(), p, keys, phase);
  });
  if (!s.ok()) return Fail("query", s);
  report.query = std::move(phase);
  return kExitOk;
}

void AddOptions(CLI::App& app, Params& p) {
  app.add_option("--phases", p.phases, "phases, comma-separated: verify, ingest, vote, query")
      ->delimiter(',')
      ->check(CLI::IsMember(Params{}.phases))
      ->capture_default_str();
  app.add_option("--clients", p.clients, "client counts of ingest and vote, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--query-clients", p.query_clients, "client counts of query, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--assertions", p.assertions, "assertions stored (by submit) before the queries")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--subjects", p.subjects, "distinct subjects")
      ->check(CLI::Range(1u, 10'000'000u))
      ->capture_default_str();
  app.add_option("--predicates", p.predicates, "distinct predicates")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  app.add_option("--agents", p.agents, "distinct signing keys of assertions")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  app.add_option("--object-bytes", p.object_bytes, "text object bytes (at least its ordinal)")
      ->check(CLI::Range(size_t{1}, kTextBytesMax))
      ->capture_default_str();
  app.add_option("--query-limit", p.query_limit, "by_subject_predicate's limit")
      ->check(CLI::Range(size_t{1}, size_t{100'000}))
      ->capture_default_str();
  app.add_option("--load-clients", p.load_clients, "concurrent submitters of the loads")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--vote-assertions", p.vote_assertions, "assertions the votes go to")
      ->check(CLI::Range(1u, 10'000'000u))
      ->capture_default_str();
  app.add_option("--hot-assertions", p.hot_assertions, "the hot ones among them")
      ->check(CLI::Range(1u, 10'000'000u))
      ->capture_default_str();
  app.add_option("--hot-fraction", p.hot_fraction, "share of votes that go to a hot assertion")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--voters", p.voters, "distinct voter keys, split among the clients")
      ->check(CLI::Range(1u, 10'000'000u))
      ->capture_default_str();
  bench::AddRunOptions(app, p.run, "seeds the keys, the generator and the clients' choices");
}

// What CLI11 cannot check alone; empty if fine.
std::string Inconsistent(const Params& p) {
  if (p.hot_assertions > p.vote_assertions) return "--hot-assertions exceeds --vote-assertions";
  const int clients_max = *std::max_element(p.clients.begin(), p.clients.end());
  if (p.has("vote") && p.voters < static_cast<uint32_t>(clients_max)) {
    return "--voters must be at least the largest --clients (each client has its own voters)";
  }
  if (uint64_t{p.subjects} * p.predicates > 100'000'000) {
    return "--subjects x --predicates is over 100M pairs";
  }
  return "";
}

int Main(int argc, char** argv) {
  Params p;
  CLI::App app{"Kiln ledger: signed assertions and votes ingested/s, by_subject_predicate latency"};
  AddOptions(app, p);
  if (std::optional<int> exit = bench::Parse(app, argc, argv)) return *exit;
  if (const std::string why = Inconsistent(p); !why.empty()) {
    std::fprintf(stderr, "ledger: %s\n", why.c_str());
    return 2;
  }
  const std::string command = bench::Command(argc, argv);
  if (!p.run.json) PrintHeader(p, command);
  InitSodium();
  const Keys keys = MakeKeys(p);
  Report report;
  if (p.has("verify")) {
    Result<VerifyRates> v = MeasureVerify(p, keys);
    if (!v.ok()) return Fail("verify", v.status());
    if (v->rejected > 0) {
      return Fail("verify", Status::Corruption("check: " + std::to_string(v->rejected) +
                                               " pre-signed forms did not verify"));
    }
    if (!p.run.json) PrintVerify(p, *v);
    report.verify = std::move(v).value();
  }
  if (p.has("ingest")) {
    if (!p.run.json) {
      std::printf("\ningest: sign (on the loop) + Ledger::submit; latency: submit alone\n");
      PrintRateColumns("assert/s", "submit");
    }
    const int rc = RunRows(p, keys, "ingest", RunIngestRow, report.verify, report.ingest);
    if (rc != kExitOk) return rc;
  }
  if (p.has("vote")) {
    if (!p.run.json) {
      std::printf(
          "\nvote: sign (on the loop) + Ledger::vote on %u assertions, %g of them to %u hot "
          "ones; latency: vote alone\n",
          p.vote_assertions, p.hot_fraction, p.hot_assertions);
      PrintRateColumns("votes/s", "  vote");
    }
    const int rc = RunRows(p, keys, "vote", RunVoteRow, report.verify, report.votes);
    if (rc != kExitOk) return rc;
  }
  if (p.has("query")) {
    if (int rc = RunQueryPhase(p, keys, report); rc != kExitOk) return rc;
  }
  if (p.run.json) std::printf("%s\n", ReportJson(p, command, report).dump(2).c_str());
  return kExitOk;
}

}  // namespace
}  // namespace kiln::ledger

int main(int argc, char** argv) {
  return kiln::ledger::Main(argc, argv);
}
