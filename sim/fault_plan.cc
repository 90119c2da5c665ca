#include "sim/fault_plan.h"

#include <cmath>
#include <cstdio>

namespace kiln::sim {
namespace {

struct KindInfo {
  FaultKind kind;
  const char* name;
  double default_rate;  // Rate per simulated second, or a probability per operation.
  double swarm_max;     // Swarm draws log-uniformly in [swarm_max / 100, swarm_max].
  bool is_flag;         // On/off: the rate is 1.
  const char* help;
};

constexpr KindInfo kKinds[kFaultKindCount] = {
    {FaultKind::kCrash, "crash", 20.0, 100.0, false, "power loss, per simulated second"},
    {FaultKind::kLost, "lost", 1, 1, true, "a crash may lose unsynced writes"},
    {FaultKind::kTorn, "torn", 1, 1, true, "a crash may tear sectors of unsynced writes"},
    {FaultKind::kFull, "full", 10.0, 50.0, false, "disk-full windows, per simulated second"},
    {FaultKind::kIoRead, "io-read", 0.001, 0.01, false, "read IOError probability"},
    {FaultKind::kIoWrite, "io-write", 0.001, 0.01, false, "write IOError probability"},
    {FaultKind::kIoSync, "io-sync", 0.002, 0.02, false, "sync IOError probability"},
    {FaultKind::kIoMeta, "io-meta", 0.001, 0.01, false, "metadata-op IOError probability"},
    {FaultKind::kSticky, "sticky", 0.1, 0.5, false,
     "probability an injected I/O error sticks to its file until reboot"},
    {FaultKind::kClockJump, "clock-jump", 20.0, 100.0, false, "wall-clock jumps per second"},
    {FaultKind::kSlow, "slow", 0.01, 0.1, false, "probability an I/O is 50x slower"},
    {FaultKind::kDirPrefix, "dir-prefix", 1, 1, true,
     "stress: only sync_directory makes a name durable"},
    {FaultKind::kDirAny, "dir-any", 1, 1, true,
     "stress: a crash keeps any subset of unsynced directory operations"},
    {FaultKind::kCorrupt, "corrupt", 0.001, 0.01, false,
     "outside the contract: a read returns a flipped bit"},
    {FaultKind::kMisdirect, "misdirect", 0.001, 0.01, false,
     "outside the contract: a write lands at another offset"},
};

const KindInfo& Info(FaultKind kind) {
  return kKinds[static_cast<int>(kind)];
}

const KindInfo* FindKind(std::string_view name) {
  for (const auto& k : kKinds) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::string ValidKinds() {
  std::string out;
  for (const auto& k : kKinds) out += std::string(out.empty() ? "" : ", ") + k.name;
  return out;
}

// %.17g round-trips a double exactly, so a printed spec reproduces the run bit for bit.
std::string FormatRate(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Prefer the short form when it round-trips too.
  char short_buf[40];
  std::snprintf(short_buf, sizeof short_buf, "%.6g", v);
  return std::strtod(short_buf, nullptr) == v ? short_buf : buf;
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  return Info(kind).name;
}

std::string FaultKindHelp() {
  std::string out;
  for (const auto& k : kKinds) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-11s %s\n", k.name, k.help);
    out += line;
  }
  return out;
}

double FaultPlan::rate(FaultKind kind) const {
  auto it = rates_.find(kind);
  return it == rates_.end() ? 0.0 : it->second;
}

FaultPlan FaultPlan::Swarm(uint64_t seed, const std::vector<FaultKind>& kinds) {
  // A stream of its own: the plan's draws never shift the run's.
  DeterministicRandom random(seed ^ 0x5741524d504c414eULL);  // "SWARMPLAN"
  FaultPlan plan;
  for (FaultKind kind : kinds) {
    if (!random.chance(0.5)) continue;
    const KindInfo& info = Info(kind);
    if (info.is_flag) {
      plan.set(kind, 1);
    } else {
      // Log-uniform over two decades: both rare and frequent faults get explored.
      const double r = info.swarm_max * std::pow(10.0, -2.0 * random.unit());
      plan.set(kind, std::stod(FormatRate(r)));
    }
  }
  if (plan.empty() && !kinds.empty()) {
    const FaultKind kind = kinds[random.uniform(kinds.size())];
    plan.set(kind, Info(kind).default_rate);
  }
  return plan;
}

Result<FaultPlan> FaultPlan::Parse(std::string_view spec, uint64_t seed,
                                   const std::vector<FaultKind>& swarm_kinds) {
  if (spec == "none") return FaultPlan();
  if (spec == "swarm") return Swarm(seed, swarm_kinds);
  FaultPlan plan;
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    const KindInfo* info = FindKind(name);
    if (info == nullptr) {
      return Status::InvalidArgument("unknown fault kind '" + std::string(name) +
                                     "'; valid: none, swarm, or a comma list of: " + ValidKinds());
    }
    double rate = info->default_rate;
    if (eq != std::string_view::npos) {
      const std::string number(item.substr(eq + 1));
      char* end = nullptr;
      rate = std::strtod(number.c_str(), &end);
      if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(rate) ||
          rate < 0) {
        return Status::InvalidArgument("fault '" + std::string(name) +
                                       "' needs a finite number >= 0, got '" + number + "'");
      }
    }
    if (rate > 0) plan.set(info->kind, info->is_flag ? 1 : rate);
  }
  return plan;
}

std::string FaultPlan::ToSpec() const {
  if (rates_.empty()) return "none";
  std::string out;
  for (const auto& [kind, rate] : rates_) {
    if (!out.empty()) out += ',';
    out += Info(kind).name;
    if (!Info(kind).is_flag) out += "=" + FormatRate(rate);
  }
  return out;
}

simfs::DiskFaults FaultPlan::disk_faults() const {
  simfs::DiskFaults f;
  f.crash_loses_unsynced = enabled(FaultKind::kLost);
  f.crash_tears_sectors = enabled(FaultKind::kTorn);
  f.dir_crash_mode = enabled(FaultKind::kDirAny)      ? simfs::DirCrashMode::kAnySubset
                     : enabled(FaultKind::kDirPrefix) ? simfs::DirCrashMode::kPrefix
                                                      : simfs::DirCrashMode::kJournal;
  f.read_error_p = rate(FaultKind::kIoRead);
  f.write_error_p = rate(FaultKind::kIoWrite);
  f.sync_error_p = rate(FaultKind::kIoSync);
  f.metadata_error_p = rate(FaultKind::kIoMeta);
  f.sticky_error_p = rate(FaultKind::kSticky);
  f.read_corruption_p = rate(FaultKind::kCorrupt);
  f.misdirected_write_p = rate(FaultKind::kMisdirect);
  return f;
}

}  // namespace kiln::sim
