// The audit record of a resolution: a writer that appends fixed-width big-endian fields, and a
// bounds-checked reader that turns every malformed input into Corruption naming the byte offset.
#include "engine/ledger/audit.h"

#include <cassert>
#include <cstring>
#include <iterator>
#include <limits>

namespace kiln::ledger {
namespace {

// The smallest encoded candidate: an empty id's length, score, timestamp, exclusion code.
constexpr size_t kCandidateBytesMin = 4 + 8 + 8 + 1;

constexpr uint8_t kFlagIncludeSuperseded = 1;
constexpr uint8_t kFlagIncludeRetracted = 2;

// Codes of the enumerated fields, in the order of audit.h's layout comment; index 0 is unused
// where the layout starts at 1.
constexpr LensRule kRuleByCode[] = {LensRule::kRecency, LensRule::kRecency, LensRule::kConsensus,
                                    LensRule::kConfidence};
constexpr std::string_view kDecidedByCode[] = {
    "",           kDecidedByOnlyCandidate, kDecidedByScore, kDecidedByTimestamp,
    kDecidedById, kDecidedByNoCandidates};
constexpr std::string_view kExcludedCode[] = {"", kExcludedRetracted, kExcludedSuperseded};

template <size_t N>
uint8_t CodeOf(const std::string_view (&names)[N], std::string_view name, size_t first) {
  for (size_t i = first; i < N; ++i) {
    if (names[i] == name) return static_cast<uint8_t>(i);
  }
  assert(false && "a value CheckResolution accepts has no code");
  return 0;
}

uint8_t RuleCode(LensRule rule) {
  for (size_t i = 1; i < std::size(kRuleByCode); ++i) {
    if (kRuleByCode[i] == rule) return static_cast<uint8_t>(i);
  }
  assert(false && "unknown LensRule");
  return 0;
}

void PutU8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) PutU8(out, static_cast<uint8_t>(v >> shift));
}

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) PutU8(out, static_cast<uint8_t>(v >> shift));
}

void PutBytes(std::string& out, std::string_view bytes) {
  assert(bytes.size() <= std::numeric_limits<uint32_t>::max());
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes);
}

uint64_t BitsOf(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

// Reads fields front to back; the first failure sticks and names the field and offset.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool U8(const char* field, uint8_t& v) {
    if (!Need(field, 1)) return false;
    v = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool U32(const char* field, uint32_t& v) {
    uint64_t wide = 0;
    if (!Fixed(field, 4, wide)) return false;
    v = static_cast<uint32_t>(wide);
    return true;
  }
  bool U64(const char* field, uint64_t& v) { return Fixed(field, 8, v); }
  bool Bytes(const char* field, std::string& v) {
    uint32_t n = 0;
    if (!U32(field, n) || !Need(field, n)) return false;
    v.assign(bytes_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at byte " + std::to_string(pos_);
    return false;
  }
  size_t remaining() const { return bytes_.size() - pos_; }
  const std::string& error() const { return error_; }

 private:
  bool Need(const char* field, size_t n) {
    if (remaining() >= n) return true;
    return Fail(std::string("truncated ") + field);
  }
  bool Fixed(const char* field, size_t width, uint64_t& v) {
    if (!Need(field, width)) return false;
    v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    pos_ += width;
    return true;
  }

  std::string_view bytes_;
  size_t pos_ = 0;
  std::string error_;
};

// Header: version, rule, flags, subject, predicate, decided_by.
bool ReadHeader(Reader& in, Resolution& r) {
  uint8_t version = 0, rule = 0, flags = 0, decided = 0;
  if (!in.U8("version", version)) return false;
  if (version != kAuditVersion) return in.Fail("unknown version " + std::to_string(version));
  if (!in.U8("rule", rule)) return false;
  if (rule == 0 || rule >= std::size(kRuleByCode)) {
    return in.Fail("unknown rule code " + std::to_string(rule));
  }
  r.rule = kRuleByCode[rule];
  if (!in.U8("flags", flags)) return false;
  if ((flags & ~(kFlagIncludeSuperseded | kFlagIncludeRetracted)) != 0) {
    return in.Fail("unknown flags " + std::to_string(flags));
  }
  r.include_superseded = (flags & kFlagIncludeSuperseded) != 0;
  r.include_retracted = (flags & kFlagIncludeRetracted) != 0;
  if (!in.Bytes("subject", r.subject) || !in.Bytes("predicate", r.predicate)) return false;
  if (!in.U8("decided_by", decided)) return false;
  if (decided == 0 || decided >= std::size(kDecidedByCode)) {
    return in.Fail("unknown decided_by code " + std::to_string(decided));
  }
  r.decided_by = kDecidedByCode[decided];
  return true;
}

bool ReadCandidate(Reader& in, Candidate& c) {
  uint64_t score_bits = 0, timestamp_bits = 0;
  uint8_t excluded = 0;
  if (!in.Bytes("candidate id", c.id) || !in.U64("candidate score", score_bits) ||
      !in.U64("candidate timestamp", timestamp_bits) || !in.U8("candidate exclusion", excluded)) {
    return false;
  }
  if (excluded >= std::size(kExcludedCode)) {
    return in.Fail("unknown exclusion code " + std::to_string(excluded));
  }
  std::memcpy(&c.score, &score_bits, sizeof c.score);
  c.timestamp_us = static_cast<int64_t>(timestamp_bits);
  c.excluded_because = kExcludedCode[excluded];
  c.eligible = excluded == 0;
  return true;
}

bool ReadCandidates(Reader& in, Resolution& r) {
  uint32_t count = 0;
  if (!in.U32("candidate count", count)) return false;
  if (count > kLensCandidatesMax) {
    return in.Fail("candidate count " + std::to_string(count) + " over kLensCandidatesMax");
  }
  if (count > in.remaining() / kCandidateBytesMin) {
    return in.Fail("candidate count " + std::to_string(count) + " longer than the record");
  }
  r.candidates.resize(count);
  for (Candidate& c : r.candidates) {
    if (!ReadCandidate(in, c)) return false;
  }
  return true;
}

}  // namespace

std::string EncodeResolution(const Resolution& r) {
  assert(CheckResolution(r).ok());
  std::string out;
  PutU8(out, kAuditVersion);
  PutU8(out, RuleCode(r.rule));
  PutU8(out, (r.include_superseded ? kFlagIncludeSuperseded : 0) |
                 (r.include_retracted ? kFlagIncludeRetracted : 0));
  PutBytes(out, r.subject);
  PutBytes(out, r.predicate);
  PutU8(out, CodeOf(kDecidedByCode, r.decided_by, 1));
  PutU32(out, static_cast<uint32_t>(r.candidates.size()));
  for (const Candidate& c : r.candidates) {
    PutBytes(out, c.id);
    PutU64(out, BitsOf(c.score));
    PutU64(out, static_cast<uint64_t>(c.timestamp_us));
    PutU8(out, CodeOf(kExcludedCode, c.excluded_because, 0));
  }
  return out;
}

Result<Resolution> DecodeResolution(std::string_view bytes) {
  Reader in(bytes);
  Resolution r;
  if (!ReadHeader(in, r) || !ReadCandidates(in, r)) {
    return Status::Corruption("audit record: " + in.error());
  }
  if (in.remaining() != 0) {
    return Status::Corruption("audit record: " + std::to_string(in.remaining()) +
                              " trailing bytes");
  }
  if (!r.candidates.empty() && r.candidates.front().eligible) r.winner = r.candidates.front().id;
  Status s = CheckResolution(r);
  if (!s.ok()) return Status::Corruption("audit record: " + s.message());
  return r;
}

}  // namespace kiln::ledger
