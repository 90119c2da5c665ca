#include "sim/buggify.h"

#include <string_view>

namespace kiln::sim {
namespace {

uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashSite(uint64_t seed, std::string_view site) {
  uint64_t h = Mix(seed ^ 0x4255474749465931ULL);  // "BUGGIFY1"
  for (char c : site) h = Mix(h ^ static_cast<unsigned char>(c));
  return h;
}

// "…/kiln/engine/wal/writer.cc" -> "wal/writer.cc": stable across checkouts and build dirs.
std::string SiteName(const char* file, int line) {
  std::string_view f(file);
  size_t cut = f.rfind('/');
  if (cut != std::string_view::npos && cut > 0) cut = f.rfind('/', cut - 1);
  if (cut != std::string_view::npos) f.remove_prefix(cut + 1);
  return std::string(f) + ":" + std::to_string(line);
}

}  // namespace

SimBuggify::SimBuggify(uint64_t seed, BuggifyMode mode)
    : seed_(seed),
      active_(mode == BuggifyMode::kOn ||
              (mode == BuggifyMode::kSwarm && (Mix(seed ^ 0x5357524dULL) & 1) == 0)),
      random_(seed ^ 0x4255474759524e44ULL) {}

bool SimBuggify::fire(const char* file, int line) {
  if (!active_) return false;
  const std::string name = SiteName(file, line);
  auto [it, inserted] = sites_.try_emplace(name);
  BuggifySite& site = it->second;
  if (inserted) site.enabled = HashSite(seed_, name) % 4 == 0;
  ++site.evaluations;
  if (!site.enabled || !random_.chance(0.25)) return false;
  ++site.fired;
  return true;
}

}  // namespace kiln::sim
