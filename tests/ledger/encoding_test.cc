// The canonical encoding: golden bytes for one fixed assertion (written out field by field from
// the layout in encoding.h, so the form cannot drift silently), a golden id (BLAKE2b-256 computed
// independently), round trips of every variant, and decoding of bad input: hand-made truncations
// and bad tags, then RapidCheck properties over random and mutated bytes (never a crash; either
// Corruption or bytes that re-encode to themselves) and random bodies (Decode(Encode(x)) == x).
#include "engine/ledger/encoding.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace kiln::ledger {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

AssertionBody FixedBody() {
  AssertionBody body;
  body.agent = std::string(32, '\xaa');
  body.subject = "s";
  body.predicate = "p";
  body.object = std::string("hi");
  body.confidence = 0.5;
  body.timestamp_us = 1'700'000'000'000'000;
  body.parent = std::string(32, '\xbb');
  return body;
}

// The fixed body's encoding, field by field.
const std::string kGoldenHex = std::string("01") +                  // version
                               "00000020" + std::string(64, 'a') +  // agent
                               "00000001"
                               "73" +  // subject "s"
                               "00000001"
                               "70" +  // predicate "p"
                               "01"
                               "00000002"
                               "6869" +              // object: text "hi"
                               "3fe0000000000000" +  // confidence 0.5
                               "00060a24181e4000" +  // timestamp 1.7e15 us
                               "01"
                               "00000020" +
                               std::string(64, 'b');  // parent

TEST(LedgerEncoding, GoldenBytesOfAFixedAssertion) {
  Result<std::string> encoded = EncodeAssertion(FixedBody());
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(Hex(*encoded), kGoldenHex);
  EXPECT_EQ(encoded->size(), 107u);
}

TEST(LedgerEncoding, IdIsBlake2b256OfTheEncodingAndStable) {
  Result<AssertionId> id = ComputeId(FixedBody());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(Hex(*id), "66c92166e54b53af7e11310c204061036360229956346a34b1eb3aae5c08b0f4");
  AssertionBody other = FixedBody();
  other.confidence = 0.25;
  Result<AssertionId> other_id = ComputeId(other);
  ASSERT_TRUE(other_id.ok());
  EXPECT_NE(*other_id, *id) << "every field is covered by the id";
  Result<AssertionId> again = ComputeId(FixedBody());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
}

TEST(LedgerEncoding, SignedFormIsTheDomainTagThenTheEncoding) {
  Result<std::string> form = SignedForm(FixedBody());
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(*form, std::string("kiln/ledger/assertion/v1") + '\0' + Unhex(kGoldenHex));
  VoteBody vote{std::string(32, 'i'), std::string(32, 'v'), 2.0, kTimestampMinUs};
  Result<std::string> vote_form = SignedForm(vote);
  Result<std::string> vote_encoding = EncodeVote(vote);
  ASSERT_TRUE(vote_form.ok() && vote_encoding.ok());
  EXPECT_EQ(*vote_form, std::string("kiln/ledger/vote/v1") + '\0' + *vote_encoding);
  RetractionBody retraction{RetractionBody::Kind::kVote, std::string(32, 'i'), std::string(32, 'v'),
                            kTimestampMinUs};
  Result<std::string> retraction_form = SignedForm(retraction);
  ASSERT_TRUE(retraction_form.ok());
  EXPECT_EQ(retraction_form->substr(0, 26), std::string("kiln/ledger/retraction/v1") + '\0');
}

TEST(LedgerEncoding, NaNIsRefusedAndNegativeZeroIsNormalised) {
  AssertionBody body = FixedBody();
  body.confidence = std::numeric_limits<double>::quiet_NaN();
  Result<std::string> nan = EncodeAssertion(body);
  ASSERT_FALSE(nan.ok());
  EXPECT_TRUE(nan.status().IsInvalidArgument());
  EXPECT_NE(nan.status().message().find("assertion confidence"), std::string::npos);
  EXPECT_FALSE(ComputeId(body).ok()) << "no id is made up for an unencodable body";
  body.object = std::numeric_limits<double>::quiet_NaN();
  body.confidence = 0.5;
  EXPECT_TRUE(EncodeAssertion(body).status().IsInvalidArgument());
  VoteBody vote{std::string(32, 'i'), std::string(32, 'v'),
                std::numeric_limits<double>::quiet_NaN(), 0};
  EXPECT_TRUE(EncodeVote(vote).status().IsInvalidArgument());

  AssertionBody negative = FixedBody();
  negative.confidence = -0.0;
  AssertionBody positive = FixedBody();
  positive.confidence = 0.0;
  Result<std::string> a = EncodeAssertion(negative);
  Result<std::string> b = EncodeAssertion(positive);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  std::string bytes = *b;
  bytes[bytes.size() - 53] = '\x80';  // The confidence's first byte: -0.0's bit pattern.
  Result<AssertionBody> decoded = DecodeAssertion(bytes);
  EXPECT_TRUE(decoded.status().IsCorruption()) << "the encoder never writes -0.0";
}

TEST(LedgerEncoding, EveryObjectKindRoundTrips) {
  for (const Object& object :
       {Object(std::string("")), Object(std::string("\xf0\x9f\x94\xa5")), Object(-3.25),
        Object(std::numeric_limits<double>::infinity()), Object(true), Object(false),
        Object(Reference{std::string(32, '\x01')})}) {
    AssertionBody body = FixedBody();
    body.object = object;
    body.parent.reset();
    Result<std::string> encoded = EncodeAssertion(body);
    ASSERT_TRUE(encoded.ok());
    Result<AssertionBody> decoded = DecodeAssertion(*encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, body);
  }
}

TEST(LedgerEncoding, VotesAndRetractionsRoundTrip) {
  VoteBody vote{std::string(32, 'i'), std::string(32, 'v'), 1e6, kTimestampMaxUs - 1};
  Result<std::string> v = EncodeVote(vote);
  ASSERT_TRUE(v.ok());
  Result<VoteBody> vote_back = DecodeVote(*v);
  ASSERT_TRUE(vote_back.ok()) << vote_back.status().ToString();
  EXPECT_EQ(*vote_back, vote);
  for (auto kind : {RetractionBody::Kind::kAssertion, RetractionBody::Kind::kVote}) {
    RetractionBody r{kind, std::string(32, 'i'), std::string(32, 's'), -5};
    Result<std::string> e = EncodeRetraction(r);
    ASSERT_TRUE(e.ok());
    Result<RetractionBody> back = DecodeRetraction(*e);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, r);
  }
  RetractionBody bad{static_cast<RetractionBody::Kind>(9), "", "", 0};
  EXPECT_TRUE(EncodeRetraction(bad).status().IsInvalidArgument());
}

TEST(LedgerEncoding, BadInputIsCorruptionSayingWhat) {
  const std::string golden = Unhex(kGoldenHex);
  for (size_t n = 0; n < golden.size(); ++n) {
    Result<AssertionBody> d = DecodeAssertion(std::string_view(golden).substr(0, n));
    ASSERT_FALSE(d.ok()) << "prefix of " << n << " bytes";
    EXPECT_TRUE(d.status().IsCorruption()) << d.status().ToString();
  }
  Result<AssertionBody> trailing = DecodeAssertion(golden + "x");
  EXPECT_TRUE(trailing.status().IsCorruption());
  EXPECT_NE(trailing.status().message().find("trailing"), std::string::npos);

  std::string bad_version = golden;
  bad_version[0] = 2;
  EXPECT_NE(DecodeAssertion(bad_version).status().message().find("version"), std::string::npos);
  std::string bad_tag = golden;
  bad_tag[1 + 4 + 32 + 5 + 5] = 7;  // The object tag.
  Result<AssertionBody> tag = DecodeAssertion(bad_tag);
  EXPECT_TRUE(tag.status().IsCorruption());
  EXPECT_NE(tag.status().message().find("object tag"), std::string::npos);
  std::string bad_presence = golden;
  bad_presence[golden.size() - 37] = 2;  // The parent presence byte.
  EXPECT_NE(DecodeAssertion(bad_presence).status().message().find("parent presence"),
            std::string::npos);
  std::string huge_length = golden;
  huge_length[1] = '\xff';  // The agent's length: 0xff000020.
  EXPECT_TRUE(DecodeAssertion(huge_length).status().IsCorruption());
  EXPECT_TRUE(DecodeVote("").status().IsCorruption());
  EXPECT_TRUE(DecodeRetraction(std::string("\x01\x03", 2)).status().IsCorruption());
}

// --- Properties ---

rc::Gen<std::string> ArbBytes(size_t max) {
  return rc::gen::mapcat(rc::gen::inRange<size_t>(0, max + 1), [](size_t n) {
    return rc::gen::container<std::string>(n, rc::gen::arbitrary<char>());
  });
}

rc::Gen<double> ArbDouble() {
  return rc::gen::suchThat(rc::gen::arbitrary<double>(), [](double d) { return !std::isnan(d); });
}

rc::Gen<Object> ArbObject() {
  return rc::gen::oneOf(
      rc::gen::map(ArbBytes(40), [](std::string s) { return Object(std::move(s)); }),
      rc::gen::map(ArbDouble(), [](double d) { return Object(d); }),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Object(b); }),
      rc::gen::map(ArbBytes(40), [](std::string s) { return Object(Reference{std::move(s)}); }));
}

AssertionBody GenAssertionBody() {
  AssertionBody body;
  body.agent = *ArbBytes(40);
  body.subject = *ArbBytes(40);
  body.predicate = *ArbBytes(40);
  body.object = *ArbObject();
  body.confidence = *ArbDouble();
  body.timestamp_us = *rc::gen::arbitrary<int64_t>();
  if (*rc::gen::arbitrary<bool>()) body.parent = *ArbBytes(40);
  return body;
}

// -0.0 decodes as +0.0, which compares equal; so == is the right round-trip check.
RC_GTEST_PROP(LedgerEncodingProperty, AssertionDecodeOfEncodeIsIdentity, ()) {
  const AssertionBody body = GenAssertionBody();
  Result<std::string> encoded = EncodeAssertion(body);
  RC_ASSERT(encoded.ok());
  Result<AssertionBody> decoded = DecodeAssertion(*encoded);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == body);
  Result<std::string> again = EncodeAssertion(*decoded);
  RC_ASSERT(again.ok());
  RC_ASSERT(*again == *encoded);
}

RC_GTEST_PROP(LedgerEncodingProperty, VoteAndRetractionDecodeOfEncodeIsIdentity, ()) {
  VoteBody vote{*ArbBytes(40), *ArbBytes(40), *ArbDouble(), *rc::gen::arbitrary<int64_t>()};
  Result<std::string> v = EncodeVote(vote);
  RC_ASSERT(v.ok());
  Result<VoteBody> vote_back = DecodeVote(*v);
  RC_ASSERT(vote_back.ok());
  RC_ASSERT(*vote_back == vote);
  RetractionBody r{*rc::gen::element(RetractionBody::Kind::kAssertion, RetractionBody::Kind::kVote),
                   *ArbBytes(40), *ArbBytes(40), *rc::gen::arbitrary<int64_t>()};
  Result<std::string> e = EncodeRetraction(r);
  RC_ASSERT(e.ok());
  Result<RetractionBody> r_back = DecodeRetraction(*e);
  RC_ASSERT(r_back.ok());
  RC_ASSERT(*r_back == r);
}

// Whatever the bytes, decoding either says Corruption or returns a body whose encoding is
// exactly those bytes (the encoding is canonical: one byte string per value).
void CheckDecodeOf(const std::string& bytes) {
  Result<AssertionBody> a = DecodeAssertion(bytes);
  if (a.ok()) {
    Result<std::string> again = EncodeAssertion(*a);
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == bytes);
  } else {
    RC_ASSERT(a.status().IsCorruption());
  }
  Result<VoteBody> v = DecodeVote(bytes);
  RC_ASSERT(v.ok() || v.status().IsCorruption());
  Result<RetractionBody> r = DecodeRetraction(bytes);
  RC_ASSERT(r.ok() || r.status().IsCorruption());
}

RC_GTEST_PROP(LedgerEncodingProperty, RandomBytesNeverCrashTheDecoder, ()) {
  CheckDecodeOf(*ArbBytes(200));
}

RC_GTEST_PROP(LedgerEncodingProperty, MutatedEncodingsNeverCrashTheDecoder, ()) {
  Result<std::string> encoded = EncodeAssertion(GenAssertionBody());
  RC_ASSERT(encoded.ok());
  std::string bytes = *encoded;
  const int mutations = *rc::gen::inRange(1, 4);
  for (int i = 0; i < mutations && !bytes.empty(); ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, bytes.size());
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        bytes[at] = *rc::gen::arbitrary<char>();
        break;
      case 1:
        bytes.erase(at, 1);
        break;
      default:
        bytes.resize(at);
        break;
    }
  }
  CheckDecodeOf(bytes);
}

}  // namespace
}  // namespace kiln::ledger
