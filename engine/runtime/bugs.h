// Known bugs: deliberately wrong code paths, compiled into the engine so that the simulator can
// prove it catches them. A bug is declared once, at namespace scope in the .cc file that uses it:
//
//   KILN_DEFINE_BUG(crc_unchecked, "wal-crc-unchecked", "recovery does not check record CRCs");
//   ...
//   if (!KILN_BUG(crc_unchecked)) { ...check the CRC... }
//
// KILN_BUG(x) is false unless a simulation run enabled the bug by name (`--bug NAME`). With the
// CMake option KILN_SIMULATION_HOOKS=OFF (production builds) it is the constant false and the
// wrong path compiles away. `kiln sim bugs` lists every registered bug.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/status.h"

namespace kiln {

class BugRegistry {
 public:
  struct Bug {
    std::string name;
    std::string description;
    bool enabled = false;
  };

  static BugRegistry& Instance();

  // Registers a bug at static-initialisation time. Aborts on a duplicate name.
  Bug* add(std::string_view name, std::string_view description);
  // NotFound, listing the valid names, if `name` is not registered.
  Status enable(std::string_view name);
  void disable_all();
  // Every registered bug, in name order.
  std::vector<const Bug*> list() const;
  // The names of the enabled bugs, in name order.
  std::vector<std::string> enabled_names() const;

 private:
  std::map<std::string, Bug, std::less<>> bugs_;
};

class BugFlag {
 public:
  BugFlag(std::string_view name, std::string_view description)
      : bug_(BugRegistry::Instance().add(name, description)) {}
  bool enabled() const { return bug_->enabled; }

 private:
  BugRegistry::Bug* bug_;
};

}  // namespace kiln

#if defined(KILN_SIMULATION_HOOKS) && KILN_SIMULATION_HOOKS
#define KILN_DEFINE_BUG(ident, name, description) \
  static ::kiln::BugFlag kiln_bug_##ident(name, description)
#define KILN_BUG(ident) (kiln_bug_##ident.enabled())
#else
#define KILN_DEFINE_BUG(ident, name, description) static_assert(true, "")
#define KILN_BUG(ident) false
#endif
