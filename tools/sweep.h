// kiln sim sweep: runs many seeds of one scenario (or all), prints every failure with the command
// that replays it, and a summary table; optionally JSON lines and a JUnit XML file for CI.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/runtime/result.h"

namespace kiln::tools {

struct SweepOptions {
  std::string scenario;  // A name, or "all".
  uint64_t seeds = 0;
  uint64_t first_seed = 1;
  std::string faults = "swarm";
  std::vector<std::string> bugs;
  std::string junit_path;  // Empty: no JUnit file.
  bool json = false;       // One JSON line per run instead of progress lines.
  bool fail_fast = false;
};

// True if every run held; false if any failed. A usage error (unknown scenario, bad faults,
// unknown bug) is an error status, before anything runs.
Result<bool> RunSweep(const SweepOptions& options, std::FILE* out);

}  // namespace kiln::tools
