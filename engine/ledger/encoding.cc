#include "engine/ledger/encoding.h"

#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "engine/ledger/crypto.h"

namespace kiln::ledger {

namespace {

enum ObjectTag : uint8_t { kTagText = 1, kTagNumber = 2, kTagBool = 3, kTagReference = 4 };

void PutU8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

Status PutBytes(std::string& out, std::string_view field, std::string_view bytes) {
  if (bytes.size() > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument(std::string(field) + ": too long to encode");
  }
  const auto n = static_cast<uint32_t>(bytes.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(bytes);
  return Status::Ok();
}

Status PutF64(std::string& out, std::string_view field, double v) {
  if (std::isnan(v)) return Status::InvalidArgument(std::string(field) + ": NaN");
  if (v == 0.0) v = 0.0;  // -0.0 → +0.0: one encoding per value.
  PutU64(out, std::bit_cast<uint64_t>(v));
  return Status::Ok();
}

// A bounds-checked cursor over bytes to decode. Every read fails (Corruption) rather than run
// past the end.
class Reader {
 public:
  Reader(std::string_view bytes, std::string_view what) : bytes_(bytes), what_(what) {}

  Status U8(std::string_view field, uint8_t* v) {
    if (bytes_.size() - pos_ < 1) return Truncated(field);
    *v = static_cast<uint8_t>(bytes_[pos_++]);
    return Status::Ok();
  }
  Status U64(std::string_view field, uint64_t* v) {
    if (bytes_.size() - pos_ < 8) return Truncated(field);
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x = (x << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    pos_ += 8;
    *v = x;
    return Status::Ok();
  }
  Status I64(std::string_view field, int64_t* v) {
    uint64_t x = 0;
    if (Status s = U64(field, &x); !s.ok()) return s;
    *v = static_cast<int64_t>(x);
    return Status::Ok();
  }
  Status F64(std::string_view field, double* v) {
    uint64_t x = 0;
    if (Status s = U64(field, &x); !s.ok()) return s;
    const double d = std::bit_cast<double>(x);
    if (std::isnan(d)) return Bad(field, "NaN");
    if (x == (uint64_t{1} << 63)) return Bad(field, "negative zero (not canonical)");
    *v = d;
    return Status::Ok();
  }
  Status Bool(std::string_view field, bool* v) {
    uint8_t b = 0;
    if (Status s = U8(field, &b); !s.ok()) return s;
    if (b > 1) return Bad(field, "byte " + std::to_string(b) + " is not 0 or 1");
    *v = b == 1;
    return Status::Ok();
  }
  Status Bytes(std::string_view field, std::string* v) {
    if (bytes_.size() - pos_ < 4) return Truncated(field);
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    if (bytes_.size() - pos_ - 4 < n) return Truncated(field);
    v->assign(bytes_.substr(pos_ + 4, n));
    pos_ += 4 + size_t{n};
    return Status::Ok();
  }
  Status Version() {
    uint8_t version = 0;
    if (Status s = U8("version", &version); !s.ok()) return s;
    if (version != kEncodingVersion) {
      return Bad("version", "unknown version " + std::to_string(version));
    }
    return Status::Ok();
  }
  Status End() const {
    if (pos_ != bytes_.size()) {
      return Status::Corruption(std::string(what_) + ": " + std::to_string(bytes_.size() - pos_) +
                                " trailing bytes");
    }
    return Status::Ok();
  }
  Status Bad(std::string_view field, std::string_view why) const {
    return Status::Corruption(std::string(what_) + " " + std::string(field) + " at byte " +
                              std::to_string(pos_) + ": " + std::string(why));
  }

 private:
  Status Truncated(std::string_view field) const { return Bad(field, "truncated"); }

  std::string_view bytes_;
  std::string_view what_;
  size_t pos_ = 0;
};

Status PutObject(std::string& out, const Object& object) {
  if (const auto* text = std::get_if<std::string>(&object)) {
    PutU8(out, kTagText);
    return PutBytes(out, "assertion object text", *text);
  }
  if (const auto* number = std::get_if<double>(&object)) {
    PutU8(out, kTagNumber);
    return PutF64(out, "assertion object number", *number);
  }
  if (const auto* flag = std::get_if<bool>(&object)) {
    PutU8(out, kTagBool);
    PutU8(out, *flag ? 1 : 0);
    return Status::Ok();
  }
  const auto& reference = std::get<Reference>(object);
  PutU8(out, kTagReference);
  return PutBytes(out, "assertion object reference", reference.id);
}

Status ReadObject(Reader& r, Object* object) {
  uint8_t tag = 0;
  if (Status s = r.U8("object tag", &tag); !s.ok()) return s;
  switch (tag) {
    case kTagText: {
      std::string text;
      if (Status s = r.Bytes("object text", &text); !s.ok()) return s;
      *object = std::move(text);
      return Status::Ok();
    }
    case kTagNumber: {
      double number = 0;
      if (Status s = r.F64("object number", &number); !s.ok()) return s;
      *object = number;
      return Status::Ok();
    }
    case kTagBool: {
      bool flag = false;
      if (Status s = r.Bool("object bool", &flag); !s.ok()) return s;
      *object = flag;
      return Status::Ok();
    }
    case kTagReference: {
      Reference reference;
      if (Status s = r.Bytes("object reference", &reference.id); !s.ok()) return s;
      *object = std::move(reference);
      return Status::Ok();
    }
    default:
      return r.Bad("object tag", "unknown tag " + std::to_string(tag));
  }
}

template <typename Body, typename Encode>
Result<std::string> WithDomain(std::string_view domain, const Body& body, Encode encode) {
  Result<std::string> encoded = encode(body);
  if (!encoded.ok()) return encoded.status();
  std::string out;
  out.reserve(domain.size() + 1 + encoded->size());
  out.append(domain);
  out.push_back('\0');  // The tag ends here: no tag is a prefix of another tag plus an encoding.
  out.append(*encoded);
  return out;
}

}  // namespace

Result<std::string> EncodeAssertion(const AssertionBody& body) {
  std::string out;
  out.reserve(64 + body.agent.size() + body.subject.size() + body.predicate.size());
  PutU8(out, kEncodingVersion);
  if (Status s = PutBytes(out, "assertion agent", body.agent); !s.ok()) return s;
  if (Status s = PutBytes(out, "assertion subject", body.subject); !s.ok()) return s;
  if (Status s = PutBytes(out, "assertion predicate", body.predicate); !s.ok()) return s;
  if (Status s = PutObject(out, body.object); !s.ok()) return s;
  if (Status s = PutF64(out, "assertion confidence", body.confidence); !s.ok()) return s;
  PutU64(out, static_cast<uint64_t>(body.timestamp_us));
  PutU8(out, body.parent.has_value() ? 1 : 0);
  if (body.parent.has_value()) {
    if (Status s = PutBytes(out, "assertion parent", *body.parent); !s.ok()) return s;
  }
  return out;
}

Result<std::string> EncodeVote(const VoteBody& body) {
  std::string out;
  PutU8(out, kEncodingVersion);
  if (Status s = PutBytes(out, "vote assertion", body.assertion); !s.ok()) return s;
  if (Status s = PutBytes(out, "vote voter", body.voter); !s.ok()) return s;
  if (Status s = PutF64(out, "vote weight", body.weight); !s.ok()) return s;
  PutU64(out, static_cast<uint64_t>(body.timestamp_us));
  return out;
}

Result<std::string> EncodeRetraction(const RetractionBody& body) {
  const auto kind = static_cast<uint8_t>(body.kind);
  if (body.kind != RetractionBody::Kind::kAssertion && body.kind != RetractionBody::Kind::kVote) {
    return Status::InvalidArgument("retraction kind: unknown kind " + std::to_string(kind));
  }
  std::string out;
  PutU8(out, kEncodingVersion);
  PutU8(out, kind);
  if (Status s = PutBytes(out, "retraction assertion", body.assertion); !s.ok()) return s;
  if (Status s = PutBytes(out, "retraction signer", body.signer); !s.ok()) return s;
  PutU64(out, static_cast<uint64_t>(body.timestamp_us));
  return out;
}

Result<AssertionBody> DecodeAssertion(std::string_view bytes) {
  Reader r(bytes, "assertion");
  AssertionBody body;
  if (Status s = r.Version(); !s.ok()) return s;
  if (Status s = r.Bytes("agent", &body.agent); !s.ok()) return s;
  if (Status s = r.Bytes("subject", &body.subject); !s.ok()) return s;
  if (Status s = r.Bytes("predicate", &body.predicate); !s.ok()) return s;
  if (Status s = ReadObject(r, &body.object); !s.ok()) return s;
  if (Status s = r.F64("confidence", &body.confidence); !s.ok()) return s;
  if (Status s = r.I64("timestamp", &body.timestamp_us); !s.ok()) return s;
  bool has_parent = false;
  if (Status s = r.Bool("parent presence", &has_parent); !s.ok()) return s;
  if (has_parent) {
    std::string parent;
    if (Status s = r.Bytes("parent", &parent); !s.ok()) return s;
    body.parent = std::move(parent);
  }
  if (Status s = r.End(); !s.ok()) return s;
  return body;
}

Result<VoteBody> DecodeVote(std::string_view bytes) {
  Reader r(bytes, "vote");
  VoteBody body;
  if (Status s = r.Version(); !s.ok()) return s;
  if (Status s = r.Bytes("assertion", &body.assertion); !s.ok()) return s;
  if (Status s = r.Bytes("voter", &body.voter); !s.ok()) return s;
  if (Status s = r.F64("weight", &body.weight); !s.ok()) return s;
  if (Status s = r.I64("timestamp", &body.timestamp_us); !s.ok()) return s;
  if (Status s = r.End(); !s.ok()) return s;
  return body;
}

Result<RetractionBody> DecodeRetraction(std::string_view bytes) {
  Reader r(bytes, "retraction");
  RetractionBody body;
  if (Status s = r.Version(); !s.ok()) return s;
  uint8_t kind = 0;
  if (Status s = r.U8("kind", &kind); !s.ok()) return s;
  if (kind != static_cast<uint8_t>(RetractionBody::Kind::kAssertion) &&
      kind != static_cast<uint8_t>(RetractionBody::Kind::kVote)) {
    return r.Bad("kind", "unknown kind " + std::to_string(kind));
  }
  body.kind = static_cast<RetractionBody::Kind>(kind);
  if (Status s = r.Bytes("assertion", &body.assertion); !s.ok()) return s;
  if (Status s = r.Bytes("signer", &body.signer); !s.ok()) return s;
  if (Status s = r.I64("timestamp", &body.timestamp_us); !s.ok()) return s;
  if (Status s = r.End(); !s.ok()) return s;
  return body;
}

Result<std::string> SignedForm(const AssertionBody& body) {
  return WithDomain(kAssertionDomain, body, EncodeAssertion);
}
Result<std::string> SignedForm(const VoteBody& body) {
  return WithDomain(kVoteDomain, body, EncodeVote);
}
Result<std::string> SignedForm(const RetractionBody& body) {
  return WithDomain(kRetractionDomain, body, EncodeRetraction);
}

Result<AssertionId> ComputeId(const AssertionBody& body) {
  Result<std::string> encoded = EncodeAssertion(body);
  if (!encoded.ok()) return encoded.status().WithContext("assertion id");
  Result<std::string> id = Blake2b256(*encoded);
  if (!id.ok()) return id.status().WithContext("assertion id");
  assert(id->size() == kIdBytes);
  return std::move(id).value();
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 0xf]);
  }
  return out;
}

}  // namespace kiln::ledger
