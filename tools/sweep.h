// kiln sim sweep: runs many seeds of one scenario (or all) in parallel worker processes, prints
// every failure with the command that replays it, and a summary table; optionally JSON lines and
// a JUnit XML file for CI. One sweep can be split over machines with --shard I/N.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/result.h"

namespace kiln::tools {

struct SweepOptions {
  std::string scenario;  // A name, or "all".
  uint64_t seeds = 0;    // Seeds per scenario: first_seed .. first_seed + seeds - 1.
  uint64_t first_seed = 1;
  std::string faults = "swarm";
  std::vector<std::string> bugs;
  // Worker processes at once; 0: the number of cores. Each seed runs in its own forked child.
  uint32_t jobs = 0;
  // "I/N": run only the seeds of shard I (1-based) of N. Seed index i (0-based, counting from
  // first_seed, per scenario) belongs to shard I iff i % N == I - 1, so the N shards of one sweep
  // run every seed exactly once. "1/1" runs them all.
  std::string shard = "1/1";
  int64_t timeout_s = 120;  // A seed still running after this much wall time is a "hang".
  std::string junit_path;   // Empty: no JUnit file.
  // One JSON line per run on `out`, in seed order; failures and the summary then go to `err` so
  // that `out` stays pure JSON lines.
  bool json = false;
  // Start no seed after the first failure; the seeds already running finish and are reported.
  bool fail_fast = false;
};

struct Shard {
  uint64_t index = 1;  // 1-based.
  uint64_t count = 1;
};

// Parses "I/N" with 1 <= I <= N; InvalidArgument saying what is valid otherwise.
Result<Shard> ParseShard(std::string_view text);

// Runs the sweep; true if every run held, false if any failed. A seed whose worker dies by a
// signal or exits without a report is a failure of kind "crash"; one past timeout_s is killed and
// is a failure of kind "hang"; both still print the exact replay command. A usage error (unknown
// scenario, bad faults, unknown bug, bad shard, seeds 0) is an error status before any seed runs.
// Progress goes to stderr: a redrawn bar when stderr is a terminal, a plain line every ~10%
// otherwise. JSON lines and JUnit test cases are in seed order whatever order the workers end in.
// REQUIRES: the process is single-threaded (each seed is a fork()ed child).
Result<bool> RunSweep(const SweepOptions& options, std::FILE* out, std::FILE* err = stderr);

}  // namespace kiln::tools
