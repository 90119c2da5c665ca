// Tests of the Chrome Trace export. Method: run real seeds with every event kept, export, parse
// the text back with nlohmann::json and check the format's rules (fields, named tracks, ordered
// instants), that faults and I/O show, that a failing run says so last, and that the same seed
// gives the same bytes. A hand-made trace covers escaping and tasks still open at the end.
#include "sim/chrome_trace.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

namespace kiln::sim {
namespace {

using nlohmann::json;
using simclock::TraceEvent;
using simclock::TraceKind;

RunReport RunSeed(uint64_t seed, const std::string& faults = "swarm",
                  std::vector<std::string> bugs = {}) {
  RunOptions o;
  o.scenario = "leveldb-crash";
  o.seed = seed;
  o.faults = faults;
  o.bugs = std::move(bugs);
  o.keep_trace_events = true;
  auto r = RunScenario(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : RunReport{};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Checks the rules every export must keep; returns the events for more specific checks.
json ParseAndCheck(const std::string& text) {
  json doc = json::parse(text);  // Throws (and fails the test) on invalid JSON.
  EXPECT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("displayTimeUnit"), "ms");
  EXPECT_TRUE(doc.at("otherData").is_object());
  const json& events = doc.at("traceEvents");
  EXPECT_TRUE(events.is_array());
  std::set<uint64_t> named, used;
  std::map<uint64_t, int64_t> last_instant_us;  // Per track.
  for (const json& e : events) {
    for (const char* key : {"ph", "ts", "pid", "tid", "name"}) {
      EXPECT_TRUE(e.contains(key)) << key << " missing: " << e.dump();
    }
    const std::string ph = e.at("ph");
    const uint64_t tid = e.at("tid");
    const int64_t ts = e.at("ts");
    EXPECT_GE(ts, 0);
    if (ph == "M") {
      if (e.at("name") == "thread_name") named.insert(tid);
      EXPECT_TRUE(e.at("args").at("name").is_string());
      continue;
    }
    used.insert(tid);
    EXPECT_TRUE(e.contains("cat")) << e.dump();
    EXPECT_TRUE(e.at("args").at("step").is_number_unsigned()) << e.dump();
    if (ph == "X") {
      EXPECT_GE(e.at("dur").get<int64_t>(), 0);
    } else {
      EXPECT_EQ(ph, "i") << e.dump();
      EXPECT_GE(ts, last_instant_us[tid]) << "instants out of order on track " << tid;
      last_instant_us[tid] = ts;
    }
  }
  for (uint64_t tid : used) EXPECT_EQ(named.count(tid), 1u) << "track " << tid << " unnamed";
  return events;
}

int CountCat(const json& events, const std::string& cat) {
  int n = 0;
  for (const json& e : events) n += e.value("cat", "") == cat ? 1 : 0;
  return n;
}

TEST(ChromeTrace, SeedWithFaultsExportsAValidTimeline) {
  const RunReport r = RunSeed(42);
  ASSERT_TRUE(r.ok) << r.message;
  ASSERT_FALSE(r.fault_counts.empty()) << "seed 42 should draw faults";
  ASSERT_EQ(r.events.size(), r.trace_events);
  const json events = ParseAndCheck(ChromeTraceJson(r));

  size_t steps = 0, spawns = 0;
  for (const TraceEvent& e : r.events) {
    steps += e.kind == TraceKind::kStep;
    spawns += e.kind == TraceKind::kSpawn;
  }
  EXPECT_EQ(CountCat(events, "step"), static_cast<int>(steps));   // One instant per step.
  EXPECT_EQ(CountCat(events, "task"), static_cast<int>(spawns));  // One lifetime per task.
  EXPECT_GT(CountCat(events, "io"), 0);
  EXPECT_GT(CountCat(events, "fault"), 0);
  EXPECT_GT(CountCat(events, "process"), 0);
  for (const json& e : events) {
    if (e.value("cat", "") == "fault") {
      EXPECT_EQ(e.at("s"), "g");  // Global: drawn across every track.
    }
  }
  const json doc = json::parse(ChromeTraceJson(r));
  EXPECT_EQ(doc.at("otherData").at("seed"), "42");
  EXPECT_EQ(doc.at("otherData").at("scenario"), "leveldb-crash");
  EXPECT_EQ(doc.at("otherData").at("ok"), "true");
}

TEST(ChromeTrace, SameSeedSameBytes) {
  const std::string dir = testing::TempDir();
  const RunReport a = RunSeed(42);
  const RunReport b = RunSeed(42);
  ASSERT_TRUE(WriteChromeTraceFile(a, dir + "/kiln-trace-a.json").ok());
  ASSERT_TRUE(WriteChromeTraceFile(b, dir + "/kiln-trace-b.json").ok());
  const std::string text = ReadFile(dir + "/kiln-trace-a.json");
  EXPECT_GT(text.size(), 1000u);
  EXPECT_EQ(text.front(), '{');
  EXPECT_TRUE(text == ReadFile(dir + "/kiln-trace-b.json")) << "same seed, different timeline";
  EXPECT_NE(text, ChromeTraceJson(RunSeed(43)));
}

TEST(ChromeTrace, FailingRunEndsWithTheFailure) {
  RunReport failed;
  for (uint64_t seed = 1; seed <= 20 && failed.ok; ++seed) {
    failed = RunSeed(seed, "crash", {"simfs-crash-loses-synced"});
  }
  ASSERT_FALSE(failed.ok) << "no failing seed in 1..20 for the known bug";
  const json events = ParseAndCheck(ChromeTraceJson(failed));
  std::string last_note;
  for (const json& e : events) {
    if (e.value("cat", "") == "note") last_note = e.at("name");
  }
  EXPECT_NE(last_note.find("FAILED"), std::string::npos) << last_note;
  EXPECT_NE(last_note.find(failed.property), std::string::npos) << last_note;
}

TEST(ChromeTrace, EscapesTextAndClosesOpenTasks) {
  std::vector<TraceEvent> trace = {
      {0, 0, TraceKind::kSpawn, 1, 0, "server \"main\"\n"},
      {1, 5, TraceKind::kStep, 7, 1, "start"},
      {1, 5, TraceKind::kIo, 3, 4, "write a\\b\t\x01"},
      {2, 9, TraceKind::kStep, 8, 0, "timer"},
      {2, 9, TraceKind::kNote, 0, 0, std::string("bad utf8 \xff\xfe")},
  };
  ChromeTraceInfo info;
  info.other_data["seed"] = "7";
  info.end_note = "run ok";
  info.end_time_us = 20;
  std::ostringstream out;
  ASSERT_TRUE(WriteChromeTrace(trace, info, out).ok());
  const json events = ParseAndCheck(out.str());
  bool saw_task = false, saw_io = false;
  for (const json& e : events) {
    if (e.at("ph") == "X") {
      saw_task = true;
      EXPECT_EQ(e.at("name"), "server \"main\"\n");
      EXPECT_EQ(e.at("ts"), 0);
      EXPECT_EQ(e.at("dur"), 20);  // Never ended: it lasts to the end of the run.
    }
    if (e.value("cat", "") == "io") {
      saw_io = true;
      EXPECT_EQ(e.at("tid"), 1);  // The step before it ran root 1.
      EXPECT_EQ(e.at("name"), "write a\\b\t\x01");
    }
  }
  EXPECT_TRUE(saw_task);
  EXPECT_TRUE(saw_io);
  EXPECT_EQ(events.back().at("name"), "run ok");
}

TEST(ChromeTrace, UnwritablePathIsAnInvalidArgument) {
  const RunReport r = RunSeed(5, "none");
  Status s = WriteChromeTraceFile(r, "/nonexistent-dir/x.json");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("/nonexistent-dir/x.json"), std::string::npos);
}

}  // namespace
}  // namespace kiln::sim
