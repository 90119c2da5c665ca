// BUGGIFY: in a simulation run, per seed, make engine code take rare but legal paths (a tiny
// batch, an early rotation, a delayed apply, a spurious wake-up), so tests reach them often.
//
//   if (BUGGIFY) batch_bytes_max = 1;   // Legal, just rare in production.
//
// Outside a simulation run no context is installed and BUGGIFY is false. With the CMake option
// KILN_SIMULATION_HOOKS=OFF it is the constant false. A site must only ever take a path that is
// correct: BUGGIFY finds bugs in the rare path's neighbours, it is not a fault.
#pragma once

namespace kiln {

// Decides, for one run, whether a site fires. The simulator installs one (sim/buggify.h).
class BuggifyContext {
 public:
  virtual ~BuggifyContext() = default;
  // `site` is "file:line", a string literal's lifetime.
  virtual bool fire(const char* file, int line) = 0;
};

// The installed context, or nullptr (then BUGGIFY is false).
BuggifyContext* CurrentBuggify();
// Installs `context` (nullptr uninstalls). The simulator does this around one run.
void SetBuggify(BuggifyContext* context);

}  // namespace kiln

#if defined(KILN_SIMULATION_HOOKS) && KILN_SIMULATION_HOOKS
#define BUGGIFY \
  (::kiln::CurrentBuggify() != nullptr && ::kiln::CurrentBuggify()->fire(__FILE__, __LINE__))
#else
#define BUGGIFY false
#endif
