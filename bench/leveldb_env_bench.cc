// LevelDB fill of 100K keys (16-byte keys, 100-byte values, sync=false) on SimLevelEnv (the
// simulated disk, background work drained before each write as the rules require) and on
// LevelDB's default Env (a fresh directory under /tmp), in the same run, and their ratio.
// Run: build/bench/kiln_bench_leveldb_env
#include <benchmark/benchmark.h>
#include <leveldb/db.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "simfs/sim_level_env.h"

namespace kiln::simfs {
namespace {

constexpr int kKeys = 100000;
double g_sim_keys_per_s = 0;
double g_posix_keys_per_s = 0;

std::string Key(int i) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "key%013d", i);
  return buf;
}

void Fill(leveldb::DB* db, const std::function<void()>& before_write) {
  const std::string value(100, 'v');
  leveldb::WriteOptions wo;
  for (int i = 0; i < kKeys; ++i) {
    before_write();
    leveldb::Status s = db->Put(wo, Key(i), value);
    if (!s.ok()) std::abort();
  }
}

void BM_FillSimLevelEnv(benchmark::State& state) {
  for (auto _ : state) {
    DeterministicRandom random(1);
    simclock::Trace trace;
    simclock::SimClock clock;
    SimDisk disk(random, trace);
    SimLevelEnv env(disk, clock, trace);
    leveldb::Options o = env.options();
    o.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    if (!leveldb::DB::Open(o, "/bench", &raw).ok()) std::abort();
    std::unique_ptr<leveldb::DB> db(raw);
    Fill(db.get(), [&] { env.drain_background_work(); });
    env.CloseDb(db);
  }
  state.SetItemsProcessed(state.iterations() * kKeys);
  state.counters["keys_per_s"] =
      benchmark::Counter(static_cast<double>(kKeys), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_FillDefaultEnv(benchmark::State& state) {
  for (auto _ : state) {
    char dir_template[] = "/tmp/kiln-bench-XXXXXX";
    const char* dir = mkdtemp(dir_template);
    if (dir == nullptr) std::abort();
    leveldb::Options o;  // LevelDB's default Env: the real disk and its background thread.
    o.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    if (!leveldb::DB::Open(o, std::string(dir) + "/db", &raw).ok()) std::abort();
    std::unique_ptr<leveldb::DB> db(raw);
    Fill(db.get(), [] {});
    db.reset();
    std::filesystem::remove_all(dir);
  }
  state.SetItemsProcessed(state.iterations() * kKeys);
  state.counters["keys_per_s"] =
      benchmark::Counter(static_cast<double>(kKeys), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_FillSimLevelEnv)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_FillDefaultEnv)->Unit(benchmark::kMillisecond)->Iterations(3);

// Prints the two fill rates and their ratio after the benchmarks ran.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      const double rate = kKeys / (r.real_accumulated_time / r.iterations);
      if (r.benchmark_name().find("SimLevelEnv") != std::string::npos) g_sim_keys_per_s = rate;
      if (r.benchmark_name().find("DefaultEnv") != std::string::npos) g_posix_keys_per_s = rate;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace
}  // namespace kiln::simfs

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  kiln::simfs::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  using kiln::simfs::g_posix_keys_per_s;
  using kiln::simfs::g_sim_keys_per_s;
  if (g_sim_keys_per_s > 0 && g_posix_keys_per_s > 0) {
    std::printf("fill 100K keys: SimLevelEnv %.0f keys/s, default Env %.0f keys/s, ratio %.2f\n",
                g_sim_keys_per_s, g_posix_keys_per_s, g_sim_keys_per_s / g_posix_keys_per_s);
  }
  return 0;
}
