// Trace: the record of a simulated run. Every scheduling decision, I/O, fault and client
// operation is recorded with its step and virtual time; the trace hash is the run's fingerprint
// (same seed, same build: same hash). With events kept, two runs can be compared step by step
// to name the first divergence, and exported as a timeline.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::simclock {

enum class TraceKind : uint8_t {
  kStep,     // The scheduler resumed a coroutine. a = ticket, b = root id.
  kSpawn,    // A top-level task was spawned. a = root id, b = process.
  kTaskEnd,  // A top-level task finished or was killed. a = root id.
  kIo,       // A disk operation. text = op and path.
  kFault,    // An injected fault. text = fault kind and detail.
  kClient,   // A client operation's invocation or completion.
  kProcess,  // A process was killed, crashed or booted.
  kNote,     // Anything else worth a line in the timeline.
};
std::string_view TraceKindName(TraceKind kind);

struct TraceEvent {
  uint64_t step = 0;
  int64_t time_us = 0;
  TraceKind kind = TraceKind::kNote;
  uint64_t a = 0;
  uint64_t b = 0;
  std::string text;

  std::string ToString() const;  // "step 12 t=0.000150s io write db/000003.log @0+57"
};

class Trace {
 public:
  // Keeping every event costs memory; the hash is kept either way.
  explicit Trace(bool keep_events = false) : keep_events_(keep_events) {}

  // The scheduler calls this before each step and when virtual time moves.
  void set_position(uint64_t step, int64_t time_us) {
    step_ = step;
    time_us_ = time_us;
  }
  uint64_t step() const { return step_; }
  int64_t time_us() const { return time_us_; }

  void record(TraceKind kind, uint64_t a, uint64_t b, std::string_view text);
  // Records a fault and counts it under `fault_kind` (e.g. "crash", "io-write").
  void record_fault(std::string_view fault_kind, std::string_view detail);

  // The fault gate, for shrinking. Every fault about to be injected first asks admit_fault(),
  // after its random draw (so suppressing a fault changes no other draw). Candidates are numbered
  // 1, 2, ... in the order they arise; all are admitted unless a mask is set, and then only the
  // numbers in it.
  bool admit_fault() {
    ++fault_candidates_;
    return !fault_mask_set_ || fault_mask_.count(fault_candidates_) != 0;
  }
  void set_fault_mask(std::set<uint64_t> admitted) {
    fault_mask_ = std::move(admitted);
    fault_mask_set_ = true;
  }
  uint64_t fault_candidates() const { return fault_candidates_; }

  uint64_t hash() const { return hash_; }
  uint64_t event_count() const { return event_count_; }
  const std::vector<TraceEvent>& events() const { return events_; }
  bool keeps_events() const { return keep_events_; }
  // Fault counts by kind, in name order.
  const std::map<std::string, uint64_t>& fault_counts() const { return fault_counts_; }

  // Called for every event as it is recorded (the text log uses it). Not part of the hash.
  void set_listener(std::function<void(const TraceEvent&)> listener) {
    listener_ = std::move(listener);
  }

 private:
  bool keep_events_;
  uint64_t step_ = 0;
  int64_t time_us_ = 0;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t event_count_ = 0;
  std::vector<TraceEvent> events_;
  std::map<std::string, uint64_t> fault_counts_;
  std::function<void(const TraceEvent&)> listener_;
  uint64_t fault_candidates_ = 0;
  bool fault_mask_set_ = false;
  std::set<uint64_t> fault_mask_;
};

}  // namespace kiln::simclock
