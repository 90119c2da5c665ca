#include "engine/ledger/validate.h"

#include <cassert>
#include <cmath>
#include <string>

#include "engine/ledger/crypto.h"
#include "engine/ledger/encoding.h"
#include "engine/runtime/bugs.h"

namespace kiln::ledger {

KILN_DEFINE_BUG(sig_form_mismatch, "ledger-sig-form-mismatch",
                "signature verification falls back to the bare encoding (no domain tag) when the "
                "signed form does not verify, so a signature the agent made for another purpose "
                "over the same bytes is accepted");
KILN_DEFINE_BUG(confidence_unchecked, "ledger-confidence-unchecked",
                "validation skips the confidence range check, so assertions with confidence "
                "outside [0, 1] (or infinite) are stored");

namespace {

Status Invalid(std::string_view field, const std::string& why) {
  return Status::InvalidArgument(std::string(field) + ": " + why);
}

Status CheckLength(std::string_view field, std::string_view bytes, size_t expected) {
  if (bytes.size() != expected) {
    return Invalid(field, std::to_string(bytes.size()) + " bytes, not " + std::to_string(expected));
  }
  return Status::Ok();
}

Status CheckTimestamp(std::string_view field, int64_t timestamp_us) {
  if (timestamp_us < kTimestampMinUs || timestamp_us >= kTimestampMaxUs) {
    return Invalid(
        field, std::to_string(timestamp_us) + " us is outside [2000-01-01, 2100-01-01) (" +
                   std::to_string(kTimestampMinUs) + ", " + std::to_string(kTimestampMaxUs) + ")");
  }
  return Status::Ok();
}

// Verifies `signature` by `key` over the body's SignedForm (the one function signers use).
template <typename Body>
Status CheckSignature(std::string_view what, const Body& body, std::string_view signature,
                      std::string_view key, Result<std::string> (*bare)(const Body&)) {
  Result<std::string> form = SignedForm(body);
  if (!form.ok()) return form.status();
  if (VerifyDetached(*form, signature, key)) return Status::Ok();
  if (KILN_BUG(sig_form_mismatch)) {
    Result<std::string> encoded = bare(body);  // Wrong: not the form that signers sign.
    if (encoded.ok() && VerifyDetached(*encoded, signature, key)) return Status::Ok();
  }
  return Invalid(std::string(what) + " signature", "does not verify");
}

Status CheckObject(const Object& object) {
  if (const auto* text = std::get_if<std::string>(&object)) {
    return ValidateUtf8Text("assertion object text", *text, 0, kTextBytesMax);
  }
  if (const auto* number = std::get_if<double>(&object)) {
    if (!std::isfinite(*number)) return Invalid("assertion object number", "not finite");
    return Status::Ok();
  }
  if (const auto* reference = std::get_if<Reference>(&object)) {
    return CheckLength("assertion object reference", reference->id, kIdBytes);
  }
  assert(std::holds_alternative<bool>(object));
  return Status::Ok();
}

Status CheckAssertionFields(const AssertionBody& body) {
  if (Status s = CheckLength("assertion agent", body.agent, kPublicKeyBytes); !s.ok()) return s;
  if (Status s = ValidateUtf8Text("assertion subject", body.subject, 1, kSubjectBytesMax);
      !s.ok()) {
    return s;
  }
  if (Status s = ValidateUtf8Text("assertion predicate", body.predicate, 1, kPredicateBytesMax);
      !s.ok()) {
    return s;
  }
  if (Status s = CheckObject(body.object); !s.ok()) return s;
  if (!KILN_BUG(confidence_unchecked)) {
    if (!std::isfinite(body.confidence)) return Invalid("assertion confidence", "not finite");
    if (body.confidence < 0.0 || body.confidence > 1.0) {
      return Invalid("assertion confidence",
                     std::to_string(body.confidence) + " is outside [0, 1]");
    }
  }
  if (Status s = CheckTimestamp("assertion timestamp", body.timestamp_us); !s.ok()) return s;
  if (body.parent.has_value()) {
    if (Status s = CheckLength("assertion parent", *body.parent, kIdBytes); !s.ok()) return s;
  }
  return Status::Ok();
}

// Decodes one UTF-8 sequence starting at text[i]; returns its length, or 0 if it is malformed.
size_t Utf8SequenceBytes(std::string_view text, size_t i) {
  const auto b0 = static_cast<uint8_t>(text[i]);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint32_t min = 0;
  uint32_t cp = 0;
  if ((b0 & 0xe0) == 0xc0) {
    n = 2, min = 0x80, cp = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3, min = 0x800, cp = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;  // A continuation byte first, or 0xf8..0xff.
  }
  if (text.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<uint8_t>(text[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min) return 0;                      // Overlong.
  if (cp >= 0xd800 && cp <= 0xdfff) return 0;  // Surrogate.
  if (cp > 0x10ffff) return 0;
  return n;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceBytes(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Status ValidateUtf8Text(std::string_view field, std::string_view text, size_t bytes_min,
                        size_t bytes_max) {
  assert(bytes_min <= bytes_max);
  if (text.size() < bytes_min || text.size() > bytes_max) {
    return Invalid(field, std::to_string(text.size()) + " bytes, not in [" +
                              std::to_string(bytes_min) + ", " + std::to_string(bytes_max) + "]");
  }
  if (text.find('\0') != std::string_view::npos) {
    return Invalid(field, "contains a NUL byte at " + std::to_string(text.find('\0')));
  }
  if (!IsValidUtf8(text)) return Invalid(field, "not valid UTF-8");
  return Status::Ok();
}

Status ValidateAssertion(const Assertion& assertion) {
  const AssertionBody& body = assertion.body;
  if (Status s = CheckAssertionFields(body); !s.ok()) return s;
  if (Status s = CheckLength("assertion signature", assertion.signature, kSignatureBytes);
      !s.ok()) {
    return s;
  }
  return CheckSignature("assertion", body, assertion.signature, body.agent, &EncodeAssertion);
}

Status ValidateVote(const Vote& vote) {
  const VoteBody& body = vote.body;
  if (Status s = CheckLength("vote assertion", body.assertion, kIdBytes); !s.ok()) return s;
  if (Status s = CheckLength("vote voter", body.voter, kPublicKeyBytes); !s.ok()) return s;
  if (!std::isfinite(body.weight)) return Invalid("vote weight", "not finite");
  if (body.weight < kWeightMin || body.weight > kWeightMax) {
    return Invalid("vote weight", std::to_string(body.weight) + " is outside [1e-06, 1e+06]");
  }
  if (Status s = CheckTimestamp("vote timestamp", body.timestamp_us); !s.ok()) return s;
  if (Status s = CheckLength("vote signature", vote.signature, kSignatureBytes); !s.ok()) {
    return s;
  }
  return CheckSignature("vote", body, vote.signature, body.voter, &EncodeVote);
}

Status ValidateRetraction(const Retraction& retraction) {
  const RetractionBody& body = retraction.body;
  if (body.kind != RetractionBody::Kind::kAssertion && body.kind != RetractionBody::Kind::kVote) {
    return Invalid("retraction kind",
                   "unknown kind " + std::to_string(static_cast<int>(body.kind)));
  }
  if (Status s = CheckLength("retraction assertion", body.assertion, kIdBytes); !s.ok()) {
    return s;
  }
  if (Status s = CheckLength("retraction signer", body.signer, kPublicKeyBytes); !s.ok()) {
    return s;
  }
  if (Status s = CheckTimestamp("retraction timestamp", body.timestamp_us); !s.ok()) return s;
  if (Status s = CheckLength("retraction signature", retraction.signature, kSignatureBytes);
      !s.ok()) {
    return s;
  }
  return CheckSignature("retraction", body, retraction.signature, body.signer, &EncodeRetraction);
}

}  // namespace kiln::ledger
