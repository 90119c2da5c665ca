// How run reports are printed: one JSON object (--json), or text that starts with the seed and
// the build and ends with the command that replays the run.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/runner.h"

namespace kiln::tools {

nlohmann::json ReportJson(const sim::RunReport& r, int64_t wall_ms);
std::string ReportText(const sim::RunReport& r, int64_t wall_ms);
std::string HashHex(uint64_t hash);

}  // namespace kiln::tools
