// Status: the result of an operation that can fail in an expected way. A small value type with
// named constructors and IsX() checks, after LevelDB's. Expected failures return a Status; they
// never throw across the engine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

enum class Code : uint8_t {
  kOk = 0,
  kNotFound,
  kInvalidArgument,
  kCorruption,
  kIOError,
  kNoSpace,
  kConflict,
  kTooOld,
  kUnavailable,
  // The outcome of a commit is not known: it may or may not be durable. Never "failed".
  kUnknown,
};

// The code's name as a person reads it: "Ok", "NotFound", ...
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // Ok.

  static Status Ok() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status NoSpace(std::string_view msg) { return Status(Code::kNoSpace, msg); }
  static Status Conflict(std::string_view msg) { return Status(Code::kConflict, msg); }
  static Status TooOld(std::string_view msg) { return Status(Code::kTooOld, msg); }
  static Status Unavailable(std::string_view msg) { return Status(Code::kUnavailable, msg); }
  static Status Unknown(std::string_view msg) { return Status(Code::kUnknown, msg); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsNoSpace() const { return code_ == Code::kNoSpace; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsTooOld() const { return code_ == Code::kTooOld; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  bool IsUnknown() const { return code_ == Code::kUnknown; }

  // "Ok", or "<CodeName>: <message>".
  std::string ToString() const;

  // The same code with `context` prefixed to the message ("open wal/000001.log: ...").
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace kiln
