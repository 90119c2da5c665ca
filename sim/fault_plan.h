// FaultPlan: which faults a run injects and how often. A plan comes from the seed ("swarm": each
// seed enables a random subset of the fault kinds a scenario allows, with random rates), from a
// list of kinds, or from an explicit spec; its spec string, printed in every report, reproduces it.
//
// Spec grammar: "none" | "swarm" | item ("," item)*, item = kind | kind "=" number.
//   crash=R       power loss of a machine, R times per simulated second on average
//   lost          a crash may lose unsynced writes (none / all / prefix / any subset)
//   torn          a crash may tear sectors of unsynced writes
//   full=R        disk-full windows per simulated second
//   io-read=P     probability that one read fails with IOError (likewise io-write, io-sync,
//   io-meta=P     and metadata operations)
//   clock-jump=R  wall-clock jumps (either direction) per simulated second
//   sticky=P      probability that an injected I/O error sticks: that file then fails every
//                 operation, reads included, until the machine reboots
//   slow=P        probability that one I/O is 50x slower
//   dir-prefix    stress: only sync_directory makes a name durable (POSIX-strict)
//   dir-any       stress: a crash keeps any subset of unsynced directory operations
//   corrupt=P     outside the contract: a read returns one flipped bit
//   misdirect=P   outside the contract: a write lands at another offset
// A kind given without a number takes its default rate.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/random.h"
#include "engine/runtime/result.h"
#include "simfs/disk_faults.h"

namespace kiln::sim {

enum class FaultKind : uint8_t {
  kCrash,
  kLost,
  kTorn,
  kFull,
  kIoRead,
  kIoWrite,
  kIoSync,
  kIoMeta,
  kSticky,
  kClockJump,
  kSlow,
  kDirPrefix,
  kDirAny,
  kCorrupt,
  kMisdirect,
};
inline constexpr int kFaultKindCount = 15;

std::string_view FaultKindName(FaultKind kind);
// Every kind with its one-line meaning, for usage errors.
std::string FaultKindHelp();

class FaultPlan {
 public:
  FaultPlan() = default;  // No faults.

  // Parses a spec (see above). "swarm" draws from `seed` among `swarm_kinds`. InvalidArgument
  // naming the valid kinds for an unknown kind or a bad number.
  static Result<FaultPlan> Parse(std::string_view spec, uint64_t seed,
                                 const std::vector<FaultKind>& swarm_kinds);
  // The swarm plan of `seed`: a random non-empty subset of `kinds` with random rates. Draws from
  // its own stream, so passing the resulting spec back explicitly gives the same run.
  static FaultPlan Swarm(uint64_t seed, const std::vector<FaultKind>& kinds);

  bool enabled(FaultKind kind) const { return rates_.count(kind) != 0; }
  // The kind's rate or probability; 0 when disabled.
  double rate(FaultKind kind) const;
  void set(FaultKind kind, double rate) { rates_[kind] = rate; }
  void disable(FaultKind kind) { rates_.erase(kind); }
  bool empty() const { return rates_.empty(); }

  // The exact spec that reproduces this plan ("none" when empty).
  std::string ToSpec() const;
  // What the plan asks of a disk.
  simfs::DiskFaults disk_faults() const;

 private:
  std::map<FaultKind, double> rates_;
};

}  // namespace kiln::sim
