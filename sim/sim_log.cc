#include "sim/sim_log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace kiln::sim {
namespace {

constexpr std::string_view kLevels[] = {"off", "error", "warn", "info", "debug", "trace"};

std::shared_ptr<spdlog::logger> SimLogger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("kiln-sim",
                                              std::make_shared<spdlog::sinks::stderr_sink_st>());
    l->set_pattern("%v");  // The line carries virtual time itself; real time would differ.
    return l;
  }();
  return logger;
}

spdlog::level::level_enum LevelOf(simclock::TraceKind kind) {
  switch (kind) {
    case simclock::TraceKind::kStep:
      return spdlog::level::trace;
    case simclock::TraceKind::kIo:
    case simclock::TraceKind::kClient:
    case simclock::TraceKind::kSpawn:
    case simclock::TraceKind::kTaskEnd:
      return spdlog::level::debug;
    default:
      return spdlog::level::info;
  }
}

}  // namespace

Status CheckLogLevel(std::string_view level) {
  for (auto l : kLevels) {
    if (l == level) return Status::Ok();
  }
  return Status::InvalidArgument("unknown log level '" + std::string(level) +
                                 "'; valid: off, error, warn, info, debug, trace");
}

void AttachTraceLog(simclock::Trace& trace, std::string_view level) {
  if (level == "off" || !CheckLogLevel(level).ok()) return;
  auto logger = SimLogger();
  logger->set_level(spdlog::level::from_str(std::string(level)));
  trace.set_listener([logger](const simclock::TraceEvent& e) {
    const auto lvl = LevelOf(e.kind);
    if (!logger->should_log(lvl)) return;
    char stamp[64];
    std::snprintf(
        stamp, sizeof stamp, "[t=%lld.%06llds #%llu] ", static_cast<long long>(e.time_us / 1000000),
        static_cast<long long>(e.time_us % 1000000), static_cast<unsigned long long>(e.step));
    logger->log(lvl, "{}{} {}", stamp, simclock::TraceKindName(e.kind), e.text);
  });
}

}  // namespace kiln::sim
