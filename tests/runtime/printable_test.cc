#include "engine/runtime/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln {
namespace {

TEST(Printable, KeepsPrintableAsciiAndEscapesEverythingElse) {
  EXPECT_EQ(Printable("k1 =~"), "k1 =~");
  EXPECT_EQ(Printable(std::string("k\0\x07", 3)), "k\\x00\\x07");
  EXPECT_EQ(Printable("a\\b"), "a\\\\b");
  EXPECT_EQ(Printable("\xff\x7f\n"), "\\xff\\x7f\\x0a");
  EXPECT_EQ(Printable(""), "");
}

TEST(Printable, TheResultHasNoNulSoACStringCarriesAllOfIt) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string shown = Printable(all);
  EXPECT_EQ(shown.find('\0'), std::string::npos);
  EXPECT_EQ(std::string(shown.c_str()), shown);
}

}  // namespace
}  // namespace kiln
