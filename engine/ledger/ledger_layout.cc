#include "engine/ledger/ledger_layout.h"

#include <cassert>
#include <cmath>
#include <utility>

#include "engine/ledger/encoding.h"

namespace kiln::ledger {

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

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && prefix.back() == '\xff') prefix.pop_back();
  assert(!prefix.empty());  // Every ledger prefix starts with "l/".
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

namespace {

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

const std::string kNul(1, '\0');

std::string Ts(const AssertionBody& body) {
  return BigEndian64(static_cast<uint64_t>(body.timestamp_us));
}

// u32 length | encoding | signature.
std::string Frame(std::string_view encoding, std::string_view signature) {
  std::string out;
  const auto n = static_cast<uint32_t>(encoding.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(encoding);
  out.append(signature);
  return out;
}

// Splits a Frame back into (encoding, signature); Corruption if it cannot be one.
Result<std::pair<std::string_view, std::string_view>> Unframe(std::string_view value,
                                                              std::string_view what) {
  if (value.size() < 4) return Status::Corruption(std::string(what) + ": value truncated");
  uint32_t n = 0;
  for (size_t i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(value[i]);
  if (value.size() - 4 < n) return Status::Corruption(std::string(what) + ": value truncated");
  return std::pair{value.substr(4, n), value.substr(4 + size_t{n})};
}

}  // namespace

std::string AssertionKey(std::string_view id) {
  return Cat({"l/a/", id});
}
std::string RetractionKey(std::string_view id) {
  return Cat({"l/r/", id});
}
std::string SupersedesPrefix(std::string_view parent) {
  return Cat({"l/s/", parent});
}
std::string SupersedesKey(std::string_view parent, std::string_view child) {
  return Cat({"l/s/", parent, child});
}
std::string SubjectPrefix(std::string_view subject) {
  return Cat({"l/xs/", subject, kNul});
}
std::string SubjectKey(const AssertionBody& body, std::string_view id) {
  return Cat({SubjectPrefix(body.subject), Ts(body), id});
}
std::string SubjectPredicatePrefix(std::string_view subject, std::string_view predicate) {
  return Cat({"l/xp/", subject, kNul, predicate, kNul});
}
std::string SubjectPredicateKey(const AssertionBody& body, std::string_view id) {
  return Cat({SubjectPredicatePrefix(body.subject, body.predicate), Ts(body), id});
}
std::string AgentPrefix(std::string_view agent) {
  return Cat({"l/xa/", agent});
}
std::string AgentKey(const AssertionBody& body, std::string_view id) {
  return Cat({AgentPrefix(body.agent), Ts(body), id});
}
std::string VotePrefix(std::string_view id) {
  return Cat({"l/v/", id});
}
std::string VoteKey(std::string_view id, std::string_view voter) {
  return Cat({"l/v/", id, voter});
}
std::string TallyCountKey(std::string_view id) {
  return Cat({"l/tc/", id});
}
std::string TallyWeightKey(std::string_view id) {
  return Cat({"l/tw/", id});
}
std::string AuditSequenceKey(std::string_view subject, std::string_view predicate) {
  return Cat({"l/aq/", subject, kNul, predicate, kNul});
}
std::string AuditPrefix(std::string_view subject, std::string_view predicate) {
  return Cat({"l/au/", subject, kNul, predicate, kNul});
}
std::string AuditKey(std::string_view subject, std::string_view predicate, uint64_t seq) {
  return Cat({AuditPrefix(subject, predicate), BigEndian64(seq)});
}

std::string IdAtEnd(std::string_view key) {
  assert(key.size() >= kIdBytes);
  return std::string(key.substr(key.size() - kIdBytes));
}

Result<std::string> EncodeStoredAssertion(const Assertion& assertion) {
  Result<std::string> encoded = EncodeAssertion(assertion.body);
  if (!encoded.ok()) return encoded.status();
  return Frame(*encoded, assertion.signature);
}

Result<Assertion> DecodeStoredAssertion(std::string_view value) {
  auto parts = Unframe(value, "stored assertion");
  if (!parts.ok()) return parts.status();
  Result<AssertionBody> body = DecodeAssertion(parts->first);
  if (!body.ok()) return body.status().WithContext("stored assertion");
  return Assertion{std::move(body).value(), std::string(parts->second)};
}

Result<std::string> EncodeStoredRetraction(const Retraction& retraction) {
  Result<std::string> encoded = EncodeRetraction(retraction.body);
  if (!encoded.ok()) return encoded.status();
  return Frame(*encoded, retraction.signature);
}

Result<Retraction> DecodeStoredRetraction(std::string_view value) {
  auto parts = Unframe(value, "stored retraction");
  if (!parts.ok()) return parts.status();
  Result<RetractionBody> body = DecodeRetraction(parts->first);
  if (!body.ok()) return body.status().WithContext("stored retraction");
  return Retraction{std::move(body).value(), std::string(parts->second)};
}

int64_t VoteSlot::timestamp_us() const {
  assert(standing.has_value() != withdrawal.has_value());
  return standing ? standing->body.timestamp_us : withdrawal->body.timestamp_us;
}

Result<std::string> EncodeVoteSlot(const VoteSlot& slot) {
  assert(slot.standing.has_value() != slot.withdrawal.has_value());
  if (slot.standing) {
    Result<std::string> encoded = EncodeVote(slot.standing->body);
    if (!encoded.ok()) return encoded.status();
    return '\x01' + Frame(*encoded, slot.standing->signature);
  }
  Result<std::string> encoded = EncodeRetraction(slot.withdrawal->body);
  if (!encoded.ok()) return encoded.status();
  return '\x02' + Frame(*encoded, slot.withdrawal->signature);
}

Result<VoteSlot> DecodeVoteSlot(std::string_view value) {
  if (value.empty()) return Status::Corruption("vote slot: empty value");
  auto parts = Unframe(value.substr(1), "vote slot");
  if (!parts.ok()) return parts.status();
  VoteSlot slot;
  if (value[0] == '\x01') {
    Result<VoteBody> body = DecodeVote(parts->first);
    if (!body.ok()) return body.status().WithContext("vote slot");
    slot.standing = Vote{std::move(body).value(), std::string(parts->second)};
  } else if (value[0] == '\x02') {
    Result<RetractionBody> body = DecodeRetraction(parts->first);
    if (!body.ok()) return body.status().WithContext("vote slot");
    slot.withdrawal = Retraction{std::move(body).value(), std::string(parts->second)};
  } else {
    return Status::Corruption("vote slot: unknown state " +
                              std::to_string(static_cast<uint8_t>(value[0])));
  }
  return slot;
}

int64_t WeightMicros(double weight) {
  assert(std::isfinite(weight));
  assert(weight >= kWeightMin && weight <= kWeightMax);
  const int64_t micros = std::llround(weight * static_cast<double>(kWeightScale));
  assert(micros >= 1);
  return micros;
}

}  // namespace kiln::ledger
