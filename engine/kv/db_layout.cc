// The KV store's LevelDB key layout: see db_layout.h.
#include "engine/kv/db_layout.h"

#include <cassert>

namespace kiln::kv {

std::string UserKey(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 1);
  out.push_back(kUserPrefix);
  out.append(key);
  return out;
}

std::string_view UserKeyOf(std::string_view db_key) {
  assert(!db_key.empty() && db_key[0] == kUserPrefix);
  return db_key.substr(1);
}

std::string EncodeLsn(wal::Lsn lsn) {
  std::string out(kLsnBytes, '\0');
  for (size_t i = 0; i < kLsnBytes; ++i) {
    out[i] = static_cast<char>((lsn >> (8 * (kLsnBytes - 1 - i))) & 0xff);
  }
  return out;
}

Result<wal::Lsn> DecodeLsn(std::string_view bytes, std::string_view what) {
  if (bytes.size() != kLsnBytes) {
    return Status::Corruption("kv metadata " + std::string(what) + ": an LSN of " +
                              std::to_string(bytes.size()) + " bytes, not " +
                              std::to_string(kLsnBytes));
  }
  wal::Lsn lsn = 0;
  for (char c : bytes) lsn = (lsn << 8) | static_cast<uint8_t>(c);
  return lsn;
}

std::string CounterKey(std::string_view key) {
  std::string k(kCounterPrefix);
  k.append(key);
  return k;
}

std::string BatchMarkerKey(wal::Lsn last) {
  return std::string(kBatchMarkerPrefix) + EncodeLsn(last);
}

Result<wal::Lsn> BatchMarkerLsn(std::string_view db_key) {
  if (!db_key.starts_with(kBatchMarkerPrefix)) {
    return Status::Corruption("kv metadata: not a batch marker key");
  }
  return DecodeLsn(db_key.substr(kBatchMarkerPrefix.size()), "batch marker key");
}

}  // namespace kiln::kv
