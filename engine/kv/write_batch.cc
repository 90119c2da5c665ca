// WriteBatch: an ordered group of puts, deletes and adds that the store logs and applies
// atomically; ParseInt64, the form of a counter.
#include <charconv>

#include "engine/kv/kv_store.h"

namespace kiln::kv {

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty() || text.front() == '+') return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

void WriteBatch::put(std::string key, std::string value) {
  ops_.push_back(Op{.is_delete = false, .key = std::move(key), .value = std::move(value)});
}

void WriteBatch::del(std::string key) {
  ops_.push_back(Op{.is_delete = true, .key = std::move(key), .value = {}});
}

void WriteBatch::add(std::string key, int64_t delta) {
  ops_.push_back(Op{.is_add = true, .key = std::move(key), .value = {}, .delta = delta});
}

}  // namespace kiln::kv
