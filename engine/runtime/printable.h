// Printable: bytes shown safely in messages and reports. Keys and values are arbitrary bytes
// (NUL included); printed raw, a NUL cuts a C string short and control bytes garble a terminal.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

// Printable ASCII as is; a backslash as "\\"; every other byte as "\xNN" (lowercase hex).
inline std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b == '\\') {
      out += "\\\\";
    } else if (b >= 0x20 && b < 0x7f) {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

}  // namespace kiln
