#include "engine/runtime/buggify.h"

namespace kiln {
namespace {
BuggifyContext* g_context = nullptr;  // One run at a time: the simulator is single-threaded.
}  // namespace

BuggifyContext* CurrentBuggify() {
  return g_context;
}
void SetBuggify(BuggifyContext* context) {
  g_context = context;
}

}  // namespace kiln
