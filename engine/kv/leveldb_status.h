// FromLevelDb: a LevelDB status as a Kiln Status, with the context that names what failed.
// LevelDB reports a full disk as an IOError; its text says so (Kiln's simulated Env writes
// "NoSpace", POSIX "No space left on device"), and that becomes NoSpace.
#pragma once

#include <leveldb/status.h>

#include <string>
#include <string_view>

#include "engine/runtime/status.h"

namespace kiln::kv {

inline Status FromLevelDb(const leveldb::Status& s, std::string_view context) {
  if (s.ok()) return Status::Ok();
  const std::string text = std::string(context) + ": leveldb " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(text);
  if (s.IsCorruption()) return Status::Corruption(text);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(text);
  if (text.find("NoSpace") != std::string::npos ||
      text.find("No space left") != std::string::npos) {
    return Status::NoSpace(text);
  }
  return Status::IOError(text);  // IOError, and NotSupported (which the store never asks for).
}

}  // namespace kiln::kv
