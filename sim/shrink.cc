#include "sim/shrink.h"

#include <algorithm>
#include <cassert>
#include <vector>

namespace kiln::sim {
namespace {

class Shrinker {
 public:
  Shrinker(const RunReport& original, const ShrinkOptions& shrink, RunOptions start)
      : property_(original.property),
        shrink_(shrink),
        best_opts_(std::move(start)),
        best_(original) {}

  // True if `o` still fails the same property; then it becomes the best so far.
  bool Fails(const RunOptions& o) {
    if (runs_ >= shrink_.runs_max) return false;
    ++runs_;
    auto r = RunScenario(o);
    if (!r.ok() || r->ok || r->property != property_) return false;
    best_opts_ = o;
    best_ = std::move(*r);
    return true;
  }

  void Note(const std::string& line) {
    if (shrink_.progress) shrink_.progress(line);
  }

  // Lowers knob `name` (if the scenario has it) as far as the run keeps failing, to >= floor.
  void ShrinkKnob(const std::string& name, int64_t floor) {
    auto it = best_.params.find(name);
    if (it == best_.params.end()) return;
    int64_t hi = it->second;  // Known to fail.
    int64_t lo = floor - 1;   // Not known to fail.
    // Halve first: big steps while they work, then bisect the last gap.
    while (hi > floor) {
      RunOptions o = best_opts_;
      o.params[name] = std::max(floor, hi / 2);
      if (!Fails(o)) {
        lo = std::max(floor, hi / 2);
        break;
      }
      hi = o.params[name];
    }
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      RunOptions o = best_opts_;
      o.params[name] = mid;
      if (Fails(o))
        hi = mid;
      else
        lo = mid;
    }
    Note(name + " -> " + std::to_string(best_.params.at(name)));
  }

  // ddmin over the fault candidates of the best run so far.
  void ShrinkFaults() {
    std::vector<uint64_t> c;
    if (best_opts_.only_faults) {
      c.assign(best_opts_.only_faults->begin(), best_opts_.only_faults->end());
    } else {
      for (uint64_t f = 1; f <= best_.fault_events; ++f) c.push_back(f);
    }
    if (TryFaults({})) {
      Note("fault events -> 0");
      return;
    }
    size_t n = 2;
    while (c.size() >= 2 && runs_ < shrink_.runs_max) {
      bool reduced = false;
      const size_t chunk = (c.size() + n - 1) / n;
      for (size_t start = 0; start < c.size() && !reduced; start += chunk) {
        const size_t end = std::min(c.size(), start + chunk);
        const std::vector<uint64_t> subset(c.begin() + static_cast<ptrdiff_t>(start),
                                           c.begin() + static_cast<ptrdiff_t>(end));
        std::vector<uint64_t> complement(c.begin(), c.begin() + static_cast<ptrdiff_t>(start));
        complement.insert(complement.end(), c.begin() + static_cast<ptrdiff_t>(end), c.end());
        if (TryFaults(subset)) {
          c = subset;
          n = 2;
          reduced = true;
        } else if (n > 2 && TryFaults(complement)) {
          c = complement;
          n = std::max<size_t>(n - 1, 2);
          reduced = true;
        }
      }
      if (!reduced) {
        if (n >= c.size()) break;
        n = std::min(c.size(), n * 2);
      }
    }
    Note("fault events -> " + std::to_string(best_.fault_events));
  }

  uint64_t runs() const { return runs_; }
  const RunReport& best() const { return best_; }

 private:
  bool TryFaults(const std::vector<uint64_t>& faults) {
    RunOptions o = best_opts_;
    o.only_faults = std::set<uint64_t>(faults.begin(), faults.end());
    return Fails(o);
  }

  std::string property_;
  ShrinkOptions shrink_;
  RunOptions best_opts_;
  RunReport best_;
  uint64_t runs_ = 0;
};

}  // namespace

Result<ShrinkReport> Shrink(const RunOptions& options, const ShrinkOptions& shrink) {
  auto original = RunScenario(options);
  if (!original.ok()) return original.status();
  if (original->ok) {
    return Status::InvalidArgument("seed " + std::to_string(options.seed) + " of " +
                                   options.scenario + " holds every property: nothing to shrink");
  }
  // Pin everything the seed chose, so each step changes one thing.
  RunOptions start = options;
  start.faults = original->faults;
  start.params = original->params;
  start.keep_trace_events = false;
  start.until_step = 0;
  start.log_level = "off";
  Shrinker s(*original, shrink, start);
  s.ShrinkKnob("ops", 1);
  s.ShrinkKnob("clients", 1);
  s.ShrinkFaults();
  s.ShrinkKnob("ops", 1);  // Fewer faults can let fewer operations fail too.
  ShrinkReport report{std::move(*original), s.best(), s.runs() + 1};
  assert(!report.minimal.ok);
  return report;
}

}  // namespace kiln::sim
