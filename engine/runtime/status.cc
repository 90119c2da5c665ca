#include "engine/runtime/status.h"

#include <cassert>

namespace kiln {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "Ok";
    case Code::kNotFound:
      return "NotFound";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kCorruption:
      return "Corruption";
    case Code::kIOError:
      return "IOError";
    case Code::kNoSpace:
      return "NoSpace";
    case Code::kConflict:
      return "Conflict";
    case Code::kTooOld:
      return "TooOld";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kUnknown:
      return "Unknown";
  }
  return "Invalid";
}

std::string Status::ToString() const {
  if (ok()) return "Ok";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, msg);
}

}  // namespace kiln
