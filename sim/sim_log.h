// Routes a run's trace events to spdlog, each line stamped with virtual time and step number
// (never real time), so a replayed seed prints the same log every time.
#pragma once

#include <string>
#include <string_view>

#include "engine/runtime/status.h"
#include "simclock/trace.h"

namespace kiln::sim {

// Levels: off, error, warn, info (faults, crashes, boots, failures), debug (+ I/O and client
// operations), trace (+ every scheduling step). InvalidArgument for another name.
Status CheckLogLevel(std::string_view level);

// Attaches a listener to `trace` that logs at `level` to stderr. "off" attaches nothing.
void AttachTraceLog(simclock::Trace& trace, std::string_view level);

}  // namespace kiln::sim
