// libsodium through crypto.h: keys from seeds are deterministic, BLAKE2b-256 matches a known
// vector, signatures round-trip over SignedForm, and any change to a signed field, the key or
// the signature makes verification fail; wrong lengths are refused without UB.
#include "engine/ledger/crypto.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/ledger/encoding.h"

namespace kiln::ledger {
namespace {

KeyPair Keys(char fill) {
  return KeyPairFromSeed(std::string(kSeedBytes, fill));
}

AssertionBody Body() {
  AssertionBody body;
  body.subject = "berlin";
  body.predicate = "population";
  body.object = 3.7e6;
  body.confidence = 0.9;
  body.timestamp_us = 1'700'000'000'000'000;
  return body;
}

TEST(LedgerCrypto, KeysFromASeedAreDeterministic) {
  KeyPair a = Keys('x');
  KeyPair b = Keys('x');
  KeyPair c = Keys('y');
  EXPECT_EQ(a.public_key.size(), kPublicKeyBytes);
  EXPECT_EQ(a.secret_key.size(), kSecretKeyBytes);
  EXPECT_EQ(a.public_key, b.public_key);
  EXPECT_EQ(a.secret_key, b.secret_key);
  EXPECT_NE(a.public_key, c.public_key);
}

TEST(LedgerCrypto, Blake2b256OfTheEmptyStringIsTheKnownVector) {
  Result<std::string> h = Blake2b256("");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(Hex(*h), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST(LedgerCrypto, SignedAssertionVerifiesAndNamesItsSigner) {
  KeyPair keys = Keys('a');
  Result<Assertion> signed_assertion = SignAssertion(Body(), keys);
  ASSERT_TRUE(signed_assertion.ok()) << signed_assertion.status().ToString();
  EXPECT_EQ(signed_assertion->body.agent, keys.public_key);
  EXPECT_EQ(signed_assertion->signature.size(), kSignatureBytes);
  Result<std::string> form = SignedForm(signed_assertion->body);
  ASSERT_TRUE(form.ok());
  EXPECT_TRUE(VerifyDetached(*form, signed_assertion->signature, keys.public_key));
  EXPECT_FALSE(VerifyDetached(*form, signed_assertion->signature, Keys('b').public_key));
  Result<Assertion> again = SignAssertion(Body(), keys);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->signature, signed_assertion->signature) << "Ed25519 is deterministic";
}

TEST(LedgerCrypto, ATamperedFieldFailsVerification) {
  KeyPair keys = Keys('a');
  Result<Assertion> a = SignAssertion(Body(), keys);
  ASSERT_TRUE(a.ok());
  auto verifies = [&](const AssertionBody& body) {
    Result<std::string> form = SignedForm(body);
    return form.ok() && VerifyDetached(*form, a->signature, body.agent);
  };
  EXPECT_TRUE(verifies(a->body));
  AssertionBody t = a->body;
  t.subject = "paris";
  EXPECT_FALSE(verifies(t));
  t = a->body;
  t.object = 3.7e6 + 1;
  EXPECT_FALSE(verifies(t));
  t = a->body;
  t.object = std::string("3.7e6");
  EXPECT_FALSE(verifies(t));
  t = a->body;
  t.confidence = 1.0;
  EXPECT_FALSE(verifies(t));
  t = a->body;
  t.timestamp_us += 1;
  EXPECT_FALSE(verifies(t));
  t = a->body;
  t.parent = std::string(kIdBytes, '\0');
  EXPECT_FALSE(verifies(t));
  std::string bad_signature = a->signature;
  bad_signature[10] ^= 1;
  Result<std::string> form = SignedForm(a->body);
  ASSERT_TRUE(form.ok());
  EXPECT_FALSE(VerifyDetached(*form, bad_signature, keys.public_key));
}

TEST(LedgerCrypto, ASignatureForOneRecordKindNeverVerifiesForAnother) {
  KeyPair keys = Keys('a');
  Result<Assertion> a = SignAssertion(Body(), keys);
  ASSERT_TRUE(a.ok());
  Result<std::string> bare = EncodeAssertion(a->body);
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(VerifyDetached(*bare, a->signature, keys.public_key))
      << "the signature covers the domain tag";
  Result<std::string> raw = SignDetached(*bare, keys.secret_key);
  ASSERT_TRUE(raw.ok());
  Result<std::string> form = SignedForm(a->body);
  ASSERT_TRUE(form.ok());
  EXPECT_FALSE(VerifyDetached(*form, *raw, keys.public_key))
      << "a signature over the bare encoding is not one over the signed form";
}

TEST(LedgerCrypto, WrongLengthsAreRefusedWithoutUB) {
  KeyPair keys = Keys('a');
  EXPECT_FALSE(VerifyDetached("m", "", keys.public_key));
  EXPECT_FALSE(VerifyDetached("m", std::string(kSignatureBytes + 1, 'x'), keys.public_key));
  EXPECT_FALSE(VerifyDetached("m", std::string(kSignatureBytes, 'x'), ""));
  EXPECT_FALSE(VerifyDetached("m", std::string(kSignatureBytes, 'x'), std::string(31, 'k')));
  Result<std::string> s = SignDetached("m", "short");
  EXPECT_TRUE(s.status().IsInvalidArgument());
  KeyPair broken{keys.public_key, "short"};
  EXPECT_TRUE(SignAssertion(Body(), broken).status().IsInvalidArgument());
}

TEST(LedgerCrypto, VotesAndRetractionsSignOverTheirOwnForms) {
  KeyPair keys = Keys('v');
  Result<Vote> vote = SignVote(VoteBody{std::string(kIdBytes, 'i'), "", 2.5, 1}, keys);
  ASSERT_TRUE(vote.ok());
  EXPECT_EQ(vote->body.voter, keys.public_key);
  Result<std::string> vote_form = SignedForm(vote->body);
  ASSERT_TRUE(vote_form.ok());
  EXPECT_TRUE(VerifyDetached(*vote_form, vote->signature, keys.public_key));
  Result<Retraction> r = SignRetraction(
      RetractionBody{RetractionBody::Kind::kVote, std::string(kIdBytes, 'i'), "", 1}, keys);
  ASSERT_TRUE(r.ok());
  Result<std::string> r_form = SignedForm(r->body);
  ASSERT_TRUE(r_form.ok());
  EXPECT_TRUE(VerifyDetached(*r_form, r->signature, keys.public_key));
  EXPECT_FALSE(VerifyDetached(*r_form, vote->signature, keys.public_key));
}

}  // namespace
}  // namespace kiln::ledger
