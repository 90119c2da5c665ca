// WriteBatch: an ordered group of puts and deletes that the store logs and applies atomically.
#include "engine/kv/kv_store.h"

namespace kiln::kv {

void WriteBatch::put(std::string key, std::string value) {
  ops_.push_back(Op{.is_delete = false, .key = std::move(key), .value = std::move(value)});
}

void WriteBatch::del(std::string key) {
  ops_.push_back(Op{.is_delete = true, .key = std::move(key), .value = {}});
}

}  // namespace kiln::kv
