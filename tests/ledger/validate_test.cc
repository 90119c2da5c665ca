// Stateless validation: a valid record of each kind passes; then each rule is broken alone on
// an otherwise valid, freshly signed record (so the signature is not what fails), and the test
// checks the InvalidArgument message names the field. Two known bugs in validate.cc are shown
// to change behaviour: ledger-confidence-unchecked and ledger-sig-form-mismatch.
#include "engine/ledger/validate.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>

#include "engine/ledger/crypto.h"
#include "engine/ledger/encoding.h"
#include "engine/runtime/bugs.h"

namespace kiln::ledger {
namespace {

const KeyPair& Agent() {
  static const KeyPair keys = KeyPairFromSeed(std::string(kSeedBytes, 'a'));
  return keys;
}

AssertionBody GoodBody() {
  AssertionBody body;
  body.subject = "Zürich 🏔";
  body.predicate = "elevation_m";
  body.object = 408.0;
  body.confidence = 0.75;
  body.timestamp_us = 1'700'000'000'000'000;
  return body;
}

// Signs `body` after `change` (so only the change can fail validation).
Status CheckAssertion(const std::function<void(AssertionBody&)>& change) {
  AssertionBody body = GoodBody();
  body.agent = Agent().public_key;
  change(body);
  Result<std::string> form = SignedForm(body);
  std::string signature(kSignatureBytes, '\0');
  if (form.ok()) signature = *SignDetached(*form, Agent().secret_key);
  return ValidateAssertion(Assertion{body, signature});
}

void ExpectRefused(const Status& s, std::string_view field, std::string_view why) {
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
}

TEST(LedgerValidate, AValidAssertionPasses) {
  EXPECT_TRUE(CheckAssertion([](AssertionBody&) {}).ok());
  for (const Object& o :
       {Object(std::string("")), Object(true), Object(Reference{std::string(kIdBytes, '\x07')})}) {
    EXPECT_TRUE(CheckAssertion([&o](AssertionBody& b) { b.object = o; }).ok());
  }
  EXPECT_TRUE(CheckAssertion([](AssertionBody& b) { b.confidence = 0.0; }).ok());
  EXPECT_TRUE(CheckAssertion([](AssertionBody& b) { b.confidence = 1.0; }).ok());
  EXPECT_TRUE(CheckAssertion([](AssertionBody& b) {
                b.subject = std::string(kSubjectBytesMax, 's');
                b.predicate = std::string(kPredicateBytesMax, 'p');
                b.object = std::string(kTextBytesMax, 'o');
                b.timestamp_us = kTimestampMinUs;
                b.parent = std::string(kIdBytes, '\x01');
              }).ok());
  EXPECT_TRUE(CheckAssertion([](AssertionBody& b) {
                b.subject = "\u05e9\u05dc\u05d5\u05dd \u202e";  // Hebrew, RTL override.
                b.timestamp_us = kTimestampMaxUs - 1;
              }).ok());
}

TEST(LedgerValidate, TextRules) {
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.subject = ""; }), "assertion subject",
                "0 bytes, not in [1, 256]");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.subject = std::string(257, 's'); }),
                "assertion subject", "257 bytes");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.predicate = ""; }), "assertion predicate",
                "0 bytes");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.predicate = std::string(129, 'p'); }),
                "assertion predicate", "129 bytes");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.object = std::string(1 << 20, 'o'); }),
                "assertion object text", "1048576 bytes");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.subject = std::string("a\0b", 3); }),
                "assertion subject", "NUL byte at 1");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.object = std::string("x\0", 2); }),
                "assertion object text", "NUL");
  const char* bad_utf8[] = {
      "\xc0\xaf",              // Overlong '/'.
      "\xe0\x80\xaf",          // Overlong, three bytes.
      "\xf0\x80\x80\xaf",      // Overlong, four bytes.
      "\xed\xa0\x80",          // Surrogate U+D800.
      "\xed\xbf\xbf",          // Surrogate U+DFFF.
      "\xf4\x90\x80\x80",      // U+110000.
      "\xf8\x88\x80\x80\x80",  // Five-byte form.
      "\x80",                  // Lone continuation.
      "\xe2\x82",              // Truncated.
      "\xff",
  };
  for (const char* bad : bad_utf8) {
    ExpectRefused(CheckAssertion([bad](AssertionBody& b) { b.predicate = bad; }),
                  "assertion predicate", "not valid UTF-8");
  }
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF.
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));      // U+FFFF.
  EXPECT_TRUE(IsValidUtf8(""));
}

TEST(LedgerValidate, NumberAndRangeRules) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.confidence = 1.0000001; }),
                "assertion confidence", "outside [0, 1]");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.confidence = -0.1; }),
                "assertion confidence", "outside [0, 1]");
  ExpectRefused(CheckAssertion([kInf](AssertionBody& b) { b.confidence = kInf; }),
                "assertion confidence", "not finite");
  ExpectRefused(CheckAssertion([kNaN](AssertionBody& b) { b.confidence = kNaN; }),
                "assertion confidence", "not finite");
  ExpectRefused(CheckAssertion([kInf](AssertionBody& b) { b.object = -kInf; }),
                "assertion object number", "not finite");
  ExpectRefused(CheckAssertion([kNaN](AssertionBody& b) { b.object = kNaN; }),
                "assertion object number", "not finite");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.timestamp_us = kTimestampMinUs - 1; }),
                "assertion timestamp", "outside [2000-01-01, 2100-01-01)");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.timestamp_us = kTimestampMaxUs; }),
                "assertion timestamp", "outside");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.timestamp_us = -1; }),
                "assertion timestamp", "outside");
}

TEST(LedgerValidate, LengthRules) {
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.agent = std::string(31, 'k'); }),
                "assertion agent", "31 bytes, not 32");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.parent = std::string(31, 'p'); }),
                "assertion parent", "31 bytes, not 32");
  ExpectRefused(CheckAssertion([](AssertionBody& b) { b.object = Reference{"short"}; }),
                "assertion object reference", "5 bytes, not 32");
  Result<Assertion> a = SignAssertion(GoodBody(), Agent());
  ASSERT_TRUE(a.ok());
  Assertion short_signature = *a;
  short_signature.signature.pop_back();
  ExpectRefused(ValidateAssertion(short_signature), "assertion signature", "63 bytes, not 64");
}

TEST(LedgerValidate, SignatureRules) {
  Result<Assertion> a = SignAssertion(GoodBody(), Agent());
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(ValidateAssertion(*a).ok());
  Assertion forged = *a;
  forged.body.subject = "Geneva";  // Same signature, different body.
  ExpectRefused(ValidateAssertion(forged), "assertion signature", "does not verify");
  Assertion impostor = *a;
  impostor.body.agent = KeyPairFromSeed(std::string(kSeedBytes, 'b')).public_key;
  ExpectRefused(ValidateAssertion(impostor), "assertion signature", "does not verify");
  Assertion flipped = *a;
  flipped.signature[0] ^= 0x40;
  ExpectRefused(ValidateAssertion(flipped), "assertion signature", "does not verify");
}

TEST(LedgerValidate, VoteRules) {
  const KeyPair voter = KeyPairFromSeed(std::string(kSeedBytes, 'v'));
  auto check = [&voter](const std::function<void(VoteBody&)>& change) {
    VoteBody body{std::string(kIdBytes, 'i'), voter.public_key, 2.5, kTimestampMinUs + 7};
    change(body);
    Result<std::string> form = SignedForm(body);
    std::string signature(kSignatureBytes, '\0');
    if (form.ok()) signature = *SignDetached(*form, voter.secret_key);
    return ValidateVote(Vote{body, signature});
  };
  EXPECT_TRUE(check([](VoteBody&) {}).ok());
  EXPECT_TRUE(check([](VoteBody& b) { b.weight = kWeightMin; }).ok());
  EXPECT_TRUE(check([](VoteBody& b) { b.weight = kWeightMax; }).ok());
  ExpectRefused(check([](VoteBody& b) { b.weight = 0; }), "vote weight", "outside");
  ExpectRefused(check([](VoteBody& b) { b.weight = -1; }), "vote weight", "outside");
  ExpectRefused(check([](VoteBody& b) { b.weight = 1e6 * 1.0000001; }), "vote weight", "outside");
  ExpectRefused(check([](VoteBody& b) { b.weight = std::numeric_limits<double>::infinity(); }),
                "vote weight", "not finite");
  ExpectRefused(check([](VoteBody& b) { b.weight = std::numeric_limits<double>::quiet_NaN(); }),
                "vote weight", "not finite");
  ExpectRefused(check([](VoteBody& b) { b.assertion = "x"; }), "vote assertion", "1 bytes, not 32");
  ExpectRefused(check([](VoteBody& b) { b.voter = ""; }), "vote voter", "0 bytes, not 32");
  ExpectRefused(check([](VoteBody& b) { b.timestamp_us = 0; }), "vote timestamp", "outside");
  Result<Vote> v = SignVote(VoteBody{std::string(kIdBytes, 'i'), "", 1, kTimestampMinUs}, voter);
  ASSERT_TRUE(v.ok());
  Vote heavier = *v;
  heavier.body.weight = 1000;
  ExpectRefused(ValidateVote(heavier), "vote signature", "does not verify");
  heavier.signature = "";
  ExpectRefused(ValidateVote(heavier), "vote signature", "0 bytes, not 64");
}

TEST(LedgerValidate, RetractionRules) {
  const KeyPair signer = KeyPairFromSeed(std::string(kSeedBytes, 'r'));
  RetractionBody body{RetractionBody::Kind::kAssertion, std::string(kIdBytes, 'i'), "",
                      kTimestampMinUs};
  Result<Retraction> r = SignRetraction(body, signer);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(ValidateRetraction(*r).ok());
  Retraction other_kind = *r;
  other_kind.body.kind = RetractionBody::Kind::kVote;
  ExpectRefused(ValidateRetraction(other_kind), "retraction signature", "does not verify");
  Retraction unknown = *r;
  unknown.body.kind = static_cast<RetractionBody::Kind>(0);
  ExpectRefused(ValidateRetraction(unknown), "retraction kind", "unknown kind 0");
  Retraction short_id = *r;
  short_id.body.assertion.resize(3);
  ExpectRefused(ValidateRetraction(short_id), "retraction assertion", "3 bytes");
  Retraction no_signer = *r;
  no_signer.body.signer.clear();
  ExpectRefused(ValidateRetraction(no_signer), "retraction signer", "0 bytes");
  Retraction late = *r;
  late.body.timestamp_us = kTimestampMaxUs + 5;
  ExpectRefused(ValidateRetraction(late), "retraction timestamp", "outside");
}

// --- Known bugs ---

struct BugScope {
  explicit BugScope(std::string_view name) {
    BugRegistry::Instance().disable_all();
    EXPECT_TRUE(BugRegistry::Instance().enable(name).ok()) << name;
  }
  ~BugScope() { BugRegistry::Instance().disable_all(); }
};

TEST(LedgerValidateBug, ConfidenceUncheckedAcceptsOutOfRangeConfidence) {
  auto over = [](AssertionBody& b) { b.confidence = 7.5; };
  ExpectRefused(CheckAssertion(over), "assertion confidence", "outside");
  BugScope bug("ledger-confidence-unchecked");
  EXPECT_TRUE(CheckAssertion(over).ok()) << "the bug lets confidence 7.5 through";
  EXPECT_TRUE(CheckAssertion([](AssertionBody& b) {
                b.confidence = std::numeric_limits<double>::infinity();
              }).ok());
}

TEST(LedgerValidateBug, SigFormMismatchAcceptsASignatureMadeForAnotherPurpose) {
  AssertionBody body = GoodBody();
  body.agent = Agent().public_key;
  // The agent signed these exact bytes for some other purpose (no domain tag).
  Result<std::string> bare = EncodeAssertion(body);
  ASSERT_TRUE(bare.ok());
  Result<std::string> raw = SignDetached(*bare, Agent().secret_key);
  ASSERT_TRUE(raw.ok());
  const Assertion replayed{body, *raw};
  ExpectRefused(ValidateAssertion(replayed), "assertion signature", "does not verify");
  BugScope bug("ledger-sig-form-mismatch");
  EXPECT_TRUE(ValidateAssertion(replayed).ok()) << "the bug verifies the bare encoding";
  Result<Assertion> honest = SignAssertion(GoodBody(), Agent());
  ASSERT_TRUE(honest.ok());
  EXPECT_TRUE(ValidateAssertion(*honest).ok()) << "honest traffic still passes under the bug";
}

}  // namespace
}  // namespace kiln::ledger
