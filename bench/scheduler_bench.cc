// Scheduler events per second: coroutines that yield or sleep in a loop on the seeded scheduler,
// counting every step (one resumed coroutine) as an event. Run: build/bench/kiln_bench_scheduler
#include <benchmark/benchmark.h>

#include "engine/runtime/random.h"
#include "simclock/sim_scheduler.h"

namespace kiln::simclock {
namespace {

Task<void> Yielder(Scheduler& s, int n) {
  for (int i = 0; i < n; ++i) co_await s.yield();
}

Task<void> Sleeper(Scheduler& s, Random& r, int n) {
  for (int i = 0; i < n; ++i) co_await s.sleep_for(Duration(r.range(1, 1000)));
}

void BM_SchedulerSteps(benchmark::State& state) {
  const int tasks = static_cast<int>(state.range(0));
  const bool sleep = state.range(1) != 0;
  constexpr int kStepsPerTask = 1000;
  uint64_t steps = 0;
  for (auto _ : state) {
    SimClock clock;
    DeterministicRandom random(1);
    DeterministicRandom workload(2);
    Trace trace;
    SimScheduler sched(clock, random, trace);
    for (int t = 0; t < tasks; ++t) {
      if (sleep) {
        sched.spawn(Sleeper(sched, workload, kStepsPerTask), "sleeper");
      } else {
        sched.spawn(Yielder(sched, kStepsPerTask), "yielder");
      }
    }
    sched.run_until(nullptr, UINT64_MAX);
    steps += sched.steps();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SchedulerSteps)
    ->ArgsProduct({{1, 16, 256}, {0, 1}})
    ->ArgNames({"tasks", "sleep"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kiln::simclock

BENCHMARK_MAIN();
