#include "engine/queue/queue_layout.h"

#include <cassert>

namespace kiln::queue {

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t FromBigEndian64(std::string_view bytes) {
  assert(bytes.size() >= 8);
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

namespace {

constexpr size_t kFixedBytes = 4 + 1 + 8 + 8 + 8 + 8 + 8;

}  // namespace

std::string EncodeItem(const Item& item) {
  std::string out;
  out.reserve(kFixedBytes + item.payload.size());
  out += BigEndian64(item.attempts).substr(4);
  out.push_back(item.leased ? '\1' : '\0');
  out += BigEndian64(item.token);
  out += BigEndian64(item.lease_epoch);
  out += BigEndian64(static_cast<uint64_t>(item.lease_expiry_us));
  out += BigEndian64(item.visible_epoch);
  out += BigEndian64(static_cast<uint64_t>(item.visible_at_us));
  out += item.payload;
  return out;
}

Result<Item> DecodeItem(std::string_view bytes) {
  if (bytes.size() < kFixedBytes) return Status::Corruption("queue item: cut short");
  Item item;
  item.attempts = static_cast<uint32_t>(
      FromBigEndian64(std::string(4, '\0') + std::string(bytes.substr(0, 4))));
  const char leased = bytes[4];
  if (leased != '\0' && leased != '\1') return Status::Corruption("queue item: bad lease flag");
  item.leased = leased == '\1';
  item.token = FromBigEndian64(bytes.substr(5));
  item.lease_epoch = FromBigEndian64(bytes.substr(13));
  item.lease_expiry_us = static_cast<int64_t>(FromBigEndian64(bytes.substr(21)));
  item.visible_epoch = FromBigEndian64(bytes.substr(29));
  item.visible_at_us = static_cast<int64_t>(FromBigEndian64(bytes.substr(37)));
  item.payload = std::string(bytes.substr(kFixedBytes));
  return item;
}

Status ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("queue: a name is 1 to 64 bytes");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return Status::InvalidArgument("queue: a name is made of [A-Za-z0-9_.-]");
  }
  return Status::Ok();
}

std::string Prefix(std::string_view name) {
  return "q/" + std::string(name) + "/";
}
std::string ItemKey(std::string_view name, std::string_view id) {
  return Prefix(name) + "i/" + std::string(id);
}
std::string ReadyKey(std::string_view name, std::string_view id) {
  return Prefix(name) + "r/" + std::string(id);
}
std::string LeaseKey(std::string_view name, uint64_t epoch, int64_t expiry_us,
                     std::string_view id) {
  return Prefix(name) + "l/" + BigEndian64(epoch) + BigEndian64(static_cast<uint64_t>(expiry_us)) +
         std::string(id);
}
std::string DeadKey(std::string_view name, std::string_view id) {
  return Prefix(name) + "d/" + std::string(id);
}
std::string IdOf(std::string_view key) {
  assert(key.size() >= kIdBytes);
  return std::string(key.substr(key.size() - kIdBytes));
}

}  // namespace kiln::queue
