// Result<T>: a value or a non-Ok Status. Reading the value of an error (or the error of a value)
// is a programmer error and asserts.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "engine/runtime/status.h"

namespace kiln {

template <typename T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok(). An Ok status carries no value, so it cannot make a Result.
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok());
    if (status_.ok()) status_ = Status::InvalidArgument("Result built from an Ok status");
  }
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }  // Ok when a value is present.

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace kiln
