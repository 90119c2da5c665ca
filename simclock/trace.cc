#include "simclock/trace.h"

#include <cstdio>

namespace kiln::simclock {
namespace {
// FNV-1a over the bytes, then a final mix per event: cheap, and any changed field changes it.
uint64_t Mix(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

std::string_view TraceKindName(TraceKind kind) {
  switch (kind) {
    case TraceKind::kStep:
      return "step";
    case TraceKind::kSpawn:
      return "spawn";
    case TraceKind::kTaskEnd:
      return "task-end";
    case TraceKind::kIo:
      return "io";
    case TraceKind::kFault:
      return "fault";
    case TraceKind::kClient:
      return "client";
    case TraceKind::kProcess:
      return "process";
    case TraceKind::kNote:
      return "note";
  }
  return "?";
}

std::string TraceEvent::ToString() const {
  char head[96];
  std::snprintf(head, sizeof head, "step %llu t=%lld.%06llds %s a=%llu b=%llu ",
                static_cast<unsigned long long>(step), static_cast<long long>(time_us / 1000000),
                static_cast<long long>(time_us % 1000000), std::string(TraceKindName(kind)).c_str(),
                static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  return head + text;
}

void Trace::record(TraceKind kind, uint64_t a, uint64_t b, std::string_view text) {
  uint64_t h = hash_;
  h = Mix(h, step_);
  h = Mix(h, static_cast<uint64_t>(time_us_));
  h = Mix(h, static_cast<uint64_t>(kind));
  h = Mix(h, a);
  h = Mix(h, b);
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  hash_ = h;
  ++event_count_;
  if (keep_events_ || listener_) {
    TraceEvent e{step_, time_us_, kind, a, b, std::string(text)};
    if (listener_) listener_(e);
    if (keep_events_) events_.push_back(std::move(e));
  }
}

void Trace::record_fault(std::string_view fault_kind, std::string_view detail) {
  ++fault_counts_[std::string(fault_kind)];
  std::string text(fault_kind);
  text += ' ';
  text += detail;
  record(TraceKind::kFault, 0, 0, text);
}

}  // namespace kiln::simclock
