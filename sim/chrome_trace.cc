// Chrome Trace Event JSON export (see chrome_trace.h for the mapping). Events are written one
// per line as they are read, so a million-event trace never sits in memory as a JSON tree.
#include "sim/chrome_trace.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string_view>

namespace kiln::sim {
namespace {

using simclock::TraceEvent;
using simclock::TraceKind;

constexpr uint64_t kPid = 1;            // The simulation: the only process in the file.
constexpr uint64_t kSimulatorTid = 0;   // Work outside any task, and the global instants.
constexpr size_t kTextBytesMax = 4096;  // Longer texts are cut: a name is for reading.

// Appends `text` as a JSON string literal. nlohmann does the escaping; `replace` turns invalid
// UTF-8 (a binary key in a note) into U+FFFD instead of throwing.
void AppendString(std::string& line, std::string_view text) {
  text = text.substr(0, kTextBytesMax);
  // Fast path: most texts are plain ASCII with nothing to escape, and nlohmann's way costs two
  // allocations per string.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c != '"' && c != '\\' && static_cast<unsigned char>(c) < 0x80;
  });
  if (plain) {
    line += '"';
    line += text;
    line += '"';
    return;
  }
  line += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <typename Int>
void AppendInt(std::string& line, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  assert(ec == std::errc());
  line.append(buf, end);
}

// Writes the "traceEvents" array one event at a time, keeping the tasks still open.
class EventWriter {
 public:
  explicit EventWriter(std::ostream& out) : out_(out) {}

  void ThreadName(uint64_t tid, std::string_view name) {
    Begin("M", tid, 0);
    line_ += ",\"name\":\"thread_name\",\"args\":{\"name\":";
    AppendString(line_, name);
    line_ += "}}";
    End();
  }

  void ProcessName(std::string_view name) {
    Begin("M", kSimulatorTid, 0);
    line_ += ",\"name\":\"process_name\",\"args\":{\"name\":";
    AppendString(line_, name);
    line_ += "}}";
    End();
  }

  // An instant; scope "t" (on its track) or "g" (across the whole timeline).
  // `extra` is appended inside args, after the step (either empty or starting with a comma).
  void Instant(uint64_t tid, const char* scope, std::string_view cat, const TraceEvent& e,
               std::string_view extra) {
    Begin("i", tid, e.time_us);
    line_ += ",\"s\":\"";
    line_ += scope;
    line_ += "\",\"cat\":\"";
    line_ += cat;
    line_ += "\",\"name\":";
    AppendString(line_, e.text);
    line_ += ",\"args\":{\"step\":";
    AppendInt(line_, e.step);
    line_ += extra;
    line_ += "}}";
    End();
  }

  void Complete(uint64_t tid, int64_t ts, int64_t dur, std::string_view name, uint64_t step,
                uint64_t end_step, uint64_t process, std::string_view how) {
    assert(dur >= 0);
    Begin("X", tid, ts);
    line_ += ",\"dur\":";
    AppendInt(line_, dur);
    line_ += ",\"cat\":\"task\",\"name\":";
    AppendString(line_, name);
    line_ += ",\"args\":{\"step\":";
    AppendInt(line_, step);
    line_ += ",\"end_step\":";
    AppendInt(line_, end_step);
    line_ += ",\"process\":";
    AppendInt(line_, process);
    line_ += ",\"end\":";
    AppendString(line_, how);
    line_ += "}}";
    End();
  }

 private:
  void Begin(const char* ph, uint64_t tid, int64_t ts) {
    line_.clear();
    line_ += first_ ? "\n{\"ph\":\"" : ",\n{\"ph\":\"";
    first_ = false;
    line_ += ph;
    line_ += "\",\"ts\":";
    AppendInt(line_, ts);
    line_ += ",\"pid\":";
    AppendInt(line_, kPid);
    line_ += ",\"tid\":";
    AppendInt(line_, tid);
  }
  void End() { out_.write(line_.data(), static_cast<std::streamsize>(line_.size())); }

  std::ostream& out_;
  std::string line_;  // Reused: one allocation for the whole file, not one per event.
  bool first_ = true;
};

std::string Args(std::initializer_list<std::pair<const char*, uint64_t>> fields) {
  std::string out;
  for (const auto& [key, value] : fields) {
    out += ",\"";
    out += key;
    out += "\":";
    AppendInt(out, value);
  }
  return out;
}

// Maps trace events to timeline events, in one pass (the mapping is in chrome_trace.h).
class Timeline {
 public:
  explicit Timeline(std::ostream& out) : w_(out) {}

  void Start(const ChromeTraceInfo& info) {
    std::string process = "kiln sim";
    for (const char* key : {"scenario", "seed"}) {
      auto it = info.other_data.find(key);
      if (it != info.other_data.end()) process += std::string(" ") + key + " " + it->second;
    }
    w_.ProcessName(process);
    w_.ThreadName(kSimulatorTid, "simulator");
  }

  void Add(const TraceEvent& e) {
    assert(e.time_us >= last_us_);  // Virtual time never goes back.
    last_us_ = e.time_us;
    last_step_ = e.step;
    switch (e.kind) {
      case TraceKind::kSpawn:
        w_.ThreadName(e.a, e.text + " (process " + std::to_string(e.b) + ")");
        open_[e.a] = OpenTask{e.text, e.b, e.time_us, e.step};
        break;
      case TraceKind::kTaskEnd:
        if (auto node = open_.extract(e.a); !node.empty()) {  // Else never spawned: no bar.
          Close(e.a, node.mapped(), e.time_us, e.step, e.text);
        }
        break;
      case TraceKind::kStep:
        current_tid_ = e.b;
        w_.Instant(current_tid_, "t", "step", e, Args({{"ticket", e.a}}));
        break;
      case TraceKind::kIo:
        w_.Instant(current_tid_, "t", "io", e, Args({{"inode", e.a}, {"handle", e.b}}));
        break;
      case TraceKind::kClient:
        w_.Instant(current_tid_, "t", "client", e, Args({{"a", e.a}, {"b", e.b}}));
        break;
      case TraceKind::kFault:
        w_.Instant(kSimulatorTid, "g", "fault", e, "");
        break;
      case TraceKind::kProcess:
        w_.Instant(kSimulatorTid, "g", "process", e, Args({{"process", e.a}, {"b", e.b}}));
        break;
      case TraceKind::kNote:
        w_.Instant(kSimulatorTid, "g", "note", e, Args({{"a", e.a}, {"b", e.b}}));
        break;
    }
  }

  // Closes the tasks still open at the end of the run, then adds the end note.
  void Finish(const ChromeTraceInfo& info) {
    const int64_t end_us = std::max(last_us_, info.end_time_us);
    for (const auto& [id, task] : open_) {
      Close(id, task, end_us, last_step_, "still running at the end of the run");
    }
    open_.clear();
    if (!info.end_note.empty()) {
      const TraceEvent end{last_step_, end_us, TraceKind::kNote, 0, 0, info.end_note};
      w_.Instant(kSimulatorTid, "g", "note", end, "");
    }
  }

 private:
  struct OpenTask {
    std::string name;
    uint64_t process = 0;
    int64_t spawn_us = 0;
    uint64_t spawn_step = 0;
  };

  void Close(uint64_t id, const OpenTask& t, int64_t end_us, uint64_t end_step,
             std::string_view how) {
    w_.Complete(id, t.spawn_us, end_us - t.spawn_us, t.name, t.spawn_step, end_step, t.process,
                how);
  }

  EventWriter w_;
  std::map<uint64_t, OpenTask> open_;     // By root id: ordered, so the end of the run is too.
  uint64_t current_tid_ = kSimulatorTid;  // The track of the step most recently run.
  int64_t last_us_ = 0;
  uint64_t last_step_ = 0;
};

}  // namespace

Status WriteChromeTrace(const std::vector<TraceEvent>& events, const ChromeTraceInfo& info,
                        std::ostream& out) {
  out << "{\"displayTimeUnit\":\"ms\",\"otherData\":"
      << nlohmann::json(info.other_data)
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
      << ",\"traceEvents\":[";
  Timeline timeline(out);
  timeline.Start(info);
  for (const TraceEvent& e : events) timeline.Add(e);
  timeline.Finish(info);
  out << "\n]}\n";
  out.flush();
  if (!out) return Status::IOError("writing the Chrome trace failed");
  return Status::Ok();
}

ChromeTraceInfo ChromeTraceInfoFor(const RunReport& r) {
  ChromeTraceInfo info;
  char hash[20];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(r.trace_hash));
  std::string bugs;
  for (const auto& b : r.bugs) bugs += (bugs.empty() ? "" : ",") + b;
  info.other_data = {
      {"scenario", r.scenario},
      {"seed", std::to_string(r.seed)},
      {"faults", r.faults},
      {"bugs", bugs},
      {"commit", r.commit},
      {"trace_hash", hash},
      {"steps", std::to_string(r.steps)},
      {"sim_time_us", std::to_string(r.sim_time_us)},
      {"ok", r.ok ? "true" : "false"},
      {"replay", r.replay_command},
  };
  if (!r.ok) info.other_data["failure"] = r.property + ": " + r.message;
  if (r.stopped_at_step) {
    info.end_note = "run stopped at step " + std::to_string(r.steps);
  } else {
    info.end_note =
        r.ok ? "run ok" : "run FAILED (" + r.failure_kind + "): " + r.property + ": " + r.message;
  }
  info.end_time_us = r.sim_time_us;
  return info;
}

std::string ChromeTraceJson(const RunReport& report) {
  assert(!report.events.empty() || report.trace_events == 0);
  std::ostringstream out;
  Status s = WriteChromeTrace(report.events, ChromeTraceInfoFor(report), out);
  assert(s.ok());  // A string stream does not fail.
  (void)s;
  return out.str();
}

Status WriteChromeTraceFile(const RunReport& report, const std::string& path) {
  assert(!report.events.empty() || report.trace_events == 0);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return Status::InvalidArgument("cannot write the trace file '" + path +
                                   "': " + std::strerror(errno));
  }
  Status s = WriteChromeTrace(report.events, ChromeTraceInfoFor(report), out);
  if (!s.ok()) return Status::IOError("writing the trace file '" + path + "' failed");
  return s;
}

}  // namespace kiln::sim
