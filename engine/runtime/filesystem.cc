#include "engine/runtime/filesystem.h"

namespace kiln {

Status ValidatePath(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("path is empty");
  if (path.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("path contains a NUL byte");
  }
  return Status::Ok();
}

std::string ParentDir(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace kiln
