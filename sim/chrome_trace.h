// Exports a run's trace as Chrome Trace Event JSON: the timeline that Perfetto (ui.perfetto.dev)
// and chrome://tracing open, one track per top-level task, laid out in virtual time.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "engine/runtime/status.h"
#include "sim/runner.h"
#include "simclock/trace.h"

namespace kiln::sim {

// The mapping. Everything is in one process (pid 1, the simulation); ts is virtual time in
// microseconds, so the viewer's clock is the simulated one.
//  - Each top-level task (kSpawn: a = root id, b = process) is a track, tid = root id, named
//    "NAME (process P)" by a "thread_name" metadata event. Its lifetime is one complete ("X")
//    event from its spawn to its kTaskEnd, or to the end of the run if it never ended.
//  - Each kStep is an instant ("i") on its task's track, named by what the task waited on.
//    Work armed outside any task runs on tid 0, "simulator".
//  - kIo and kClient are instants on the track of the step most recently run, named by their
//    text. NOTE: the trace has no end-of-step event, so I/O the harness makes between steps (a
//    boot during heal) lands on the track of the step before it.
//  - kFault, kProcess and kNote are global instants ("s":"g") named by their text.
// "cat" is the kind (task, step, io, client, fault, process, note) so a viewer can filter by it;
// every event but the metadata has the trace step in args.step.
struct ChromeTraceInfo {
  std::map<std::string, std::string> other_data;  // Written as "otherData" (run metadata).
  std::string end_note;     // If not empty: a last global note at the end, e.g. how the run ended.
  int64_t end_time_us = 0;  // The end of the run; raised to the last event's time if earlier.
};

// Writes `events` to `out` as one JSON object in the Object Format: {"traceEvents": [...],
// "displayTimeUnit": "ms", "otherData": {...}}, one event per line. Streams: memory grows with
// the number of tasks, not of events. The bytes are a pure function of the arguments (same
// events, same file). Strings are escaped; invalid UTF-8 becomes U+FFFD.
// REQUIRES: events in recording order (as Trace::events() keeps them).
// Returns IOError if `out` fails.
Status WriteChromeTrace(const std::vector<simclock::TraceEvent>& events,
                        const ChromeTraceInfo& info, std::ostream& out);

// A report's metadata for the export: otherData names the scenario, seed, fault plan, bugs,
// commit, trace hash, outcome and replay command; the end note says how the run ended
// ("run ok" or "run FAILED: PROPERTY: MESSAGE").
ChromeTraceInfo ChromeTraceInfoFor(const RunReport& report);

// The whole JSON text of a report's timeline (for tests and small runs).
// REQUIRES: the run kept its trace events (RunOptions::keep_trace_events).
std::string ChromeTraceJson(const RunReport& report);

// Writes a report's timeline to `path`, creating or truncating it. InvalidArgument if the file
// cannot be opened (a usage error: the path is the user's), IOError if writing fails.
// REQUIRES: the run kept its trace events (RunOptions::keep_trace_events).
Status WriteChromeTraceFile(const RunReport& report, const std::string& path);

}  // namespace kiln::sim
