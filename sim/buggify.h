// SimBuggify: BUGGIFY for one simulation run, swarm-style. Per seed, BUGGIFY is on or off for
// the whole run (half the seeds), and each site is enabled with probability 1/4, decided by a
// hash of the seed and the site (not by call order, so a site's fate does not depend on which
// sites ran first); an enabled site fires on 1/4 of its evaluations, from its own random stream.
// The report lists every site reached: enabled or not, evaluations, firings.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "engine/runtime/buggify.h"
#include "engine/runtime/random.h"

namespace kiln::sim {

enum class BuggifyMode : uint8_t { kSwarm, kOn, kOff };

struct BuggifySite {
  bool enabled = false;
  uint64_t evaluations = 0;
  uint64_t fired = 0;
};

class SimBuggify final : public BuggifyContext {
 public:
  SimBuggify(uint64_t seed, BuggifyMode mode);
  bool fire(const char* file, int line) override;

  bool active() const { return active_; }
  // Sites reached, by "dir/file.cc:line".
  const std::map<std::string, BuggifySite>& sites() const { return sites_; }

 private:
  uint64_t seed_;
  bool active_;
  DeterministicRandom random_;
  std::map<std::string, BuggifySite> sites_;
};

// Installs a context for the scope of one run and uninstalls it, whatever happens.
class BuggifyScope {
 public:
  explicit BuggifyScope(BuggifyContext* context) { SetBuggify(context); }
  ~BuggifyScope() { SetBuggify(nullptr); }
  BuggifyScope(const BuggifyScope&) = delete;
  BuggifyScope& operator=(const BuggifyScope&) = delete;
};

}  // namespace kiln::sim
