// Status and Result: table-driven checks of every code's constructor, IsX() and name, then the
// message rules (ToString, WithContext) and Result's value/error access.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/result.h"
#include "engine/runtime/status.h"

namespace kiln {
namespace {

struct CodeCase {
  Status status;
  Code code;
  const char* name;
};

std::vector<CodeCase> AllCodes() {
  return {
      {Status::NotFound("m"), Code::kNotFound, "NotFound"},
      {Status::InvalidArgument("m"), Code::kInvalidArgument, "InvalidArgument"},
      {Status::Corruption("m"), Code::kCorruption, "Corruption"},
      {Status::IOError("m"), Code::kIOError, "IOError"},
      {Status::NoSpace("m"), Code::kNoSpace, "NoSpace"},
      {Status::Conflict("m"), Code::kConflict, "Conflict"},
      {Status::TooOld("m"), Code::kTooOld, "TooOld"},
      {Status::Unavailable("m"), Code::kUnavailable, "Unavailable"},
      {Status::Unknown("m"), Code::kUnknown, "Unknown"},
  };
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "Ok");
  EXPECT_EQ(Status::Ok(), Status());
  EXPECT_EQ(CodeName(Code::kOk), "Ok");
}

TEST(StatusTest, EveryCodeHasItsConstructorNameAndCheck) {
  for (const CodeCase& c : AllCodes()) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(CodeName(c.code), c.name);
    EXPECT_EQ(c.status.message(), "m");
    EXPECT_EQ(c.status.ToString(), std::string(c.name) + ": m");
    // Exactly one IsX() is true.
    const int checks = c.status.IsNotFound() + c.status.IsInvalidArgument() +
                       c.status.IsCorruption() + c.status.IsIOError() + c.status.IsNoSpace() +
                       c.status.IsConflict() + c.status.IsTooOld() + c.status.IsUnavailable() +
                       c.status.IsUnknown();
    EXPECT_EQ(checks, 1);
  }
  EXPECT_TRUE(Status::NoSpace("x").IsNoSpace());
  EXPECT_FALSE(Status::NoSpace("x").IsIOError());
  EXPECT_TRUE(Status::Unknown("x").IsUnknown());
}

TEST(StatusTest, WithContextPrefixesTheMessageAndKeepsTheCode) {
  const Status s = Status::IOError("disk on fire").WithContext("open wal/000001.log");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "open wal/000001.log: disk on fire");
  EXPECT_EQ(s.ToString(), "IOError: open wal/000001.log: disk on fire");
  const Status twice = s.WithContext("recover");
  EXPECT_EQ(twice.message(), "recover: open wal/000001.log: disk on fire");
}

TEST(StatusTest, WithContextOnOkStaysOk) {
  const Status s = Status::Ok().WithContext("anything");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(Status::NotFound("a"), Status::NotFound("a"));
  EXPECT_FALSE(Status::NotFound("a") == Status::NotFound("b"));
  EXPECT_FALSE(Status::NotFound("a") == Status::IOError("a"));
}

TEST(ResultTest, HoldsAValue) {
  Result<int> r(42);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  *r = 7;
  EXPECT_EQ(r.value(), 7);
}

TEST(ResultTest, HoldsAnError) {
  Result<int> r(Status::NotFound("no such key"));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "no such key");
}

TEST(ResultTest, MovesAMoveOnlyValueOut) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, 5);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(ResultTest, ArrowReachesMembers) {
  Result<std::string> r(std::string("abc"));
  EXPECT_EQ(r->size(), 3u);
}

TEST(ResultTest, OkStatusCannotMakeAResult) {
#ifdef NDEBUG
  // Without asserts the Result degrades to an error rather than claiming a value it lacks.
  Result<int> r(Status::Ok());
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
#else
  EXPECT_DEATH({ Result<int> r(Status::Ok()); }, "");
#endif
}

}  // namespace
}  // namespace kiln
