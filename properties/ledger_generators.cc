// Ledger generators. Sizes: RapidCheck scales inRange and arbitrary values with the test's size
// (at size 0, inRange gives its minimum); timestamps, weights, seeds and ids must cover their
// whole range at any size, so they draw through Unscaled(), which fixes the size and keeps
// shrinking. Hostile records are a valid record, then one change, then a signature (gen::exec,
// so each case reads as a recipe and shrinks by its choices).
#include "properties/ledger_generators.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "engine/ledger/encoding.h"

namespace kiln::properties {

using ledger::Assertion;
using ledger::AssertionBody;
using ledger::AssertionId;
using ledger::KeyPair;
using ledger::Object;
using ledger::Reference;
using ledger::Retraction;
using ledger::RetractionBody;
using ledger::Vote;
using ledger::VoteBody;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// A placeholder of the right length for a body that cannot be encoded (NaN): validation refuses
// such a body for its field before it looks at the signature.
const std::string kFillerSignature(ledger::kSignatureBytes, 'Z');

template <typename T>
rc::Gen<T> Unscaled(rc::Gen<T> g) {
  return rc::gen::resize(rc::kNominalSize, std::move(g));
}

template <typename T>
rc::Gen<T> InRange(T min, T max) {  // [min, max), uniform at any size.
  return Unscaled(rc::gen::inRange<T>(min, max));
}

// ---- UTF-8 ----

void AppendUtf8(std::string& out, uint32_t cp) {
  assert(cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// A Unicode scalar value other than NUL, from the scripts and blocks that trip up text handling.
rc::Gen<uint32_t> GenScalar() {
  const auto any = rc::gen::map(InRange<uint32_t>(1, 0x110000 - 0x800), [](uint32_t cp) {
    return cp < 0xd800 ? cp : cp + 0x800;  // Skip the surrogates.
  });
  return rc::gen::weightedOneOf<uint32_t>({
      {8, InRange<uint32_t>(0x20, 0x7f)},    // Printable ASCII.
      {1, InRange<uint32_t>(0x01, 0x20)},    // Control characters (not NUL).
      {2, InRange<uint32_t>(0xc0, 0x250)},   // Latin-1 and Latin Extended.
      {2, InRange<uint32_t>(0x5d0, 0x5eb)},  // Hebrew (right to left).
      {2, InRange<uint32_t>(0x620, 0x64b)},  // Arabic (right to left).
      {1, rc::gen::elementOf(std::vector<uint32_t>{0x200d, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c,
                                                   0x202d, 0x202e, 0x2066, 0x2069, 0xfeff,
                                                   0xfffd})},  // ZWJ, bidi controls, BOM.
      {1, InRange<uint32_t>(0x300, 0x370)},                    // Combining marks.
      {1, InRange<uint32_t>(0x4e00, 0xa000)},                  // CJK.
      {2, InRange<uint32_t>(0x1f300, 0x1fa00)},                // Emoji.
      {1, any},
  });
}

// Exactly `bytes` of valid UTF-8: `scalars` encoded over and over while they fit, then ASCII
// padding for the last (< 4) bytes. REQUIRES: !scalars.empty().
std::string FillUtf8(const std::vector<uint32_t>& scalars, size_t bytes) {
  assert(!scalars.empty());
  std::string out;
  out.reserve(bytes);
  std::string one;
  for (size_t i = 0;; i = (i + 1) % scalars.size()) {
    one.clear();
    AppendUtf8(one, scalars[i]);
    if (out.size() + one.size() > bytes) break;
    out += one;
  }
  out.append(bytes - out.size(), 'a');
  assert(out.size() == bytes);
  return out;
}

rc::Gen<std::string> GenUtf8OfLength(rc::Gen<size_t> length) {
  return rc::gen::map(
      rc::gen::pair(std::move(length), rc::gen::nonEmpty<std::vector<uint32_t>>(
                                           rc::gen::container<std::vector<uint32_t>>(GenScalar()))),
      [](const std::pair<size_t, std::vector<uint32_t>>& p) {
        return FillUtf8(p.second, p.first);
      });
}

// Shown at most 64 bytes; printable ASCII as is, the rest as \xNN.
std::string Escaped(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  out += "\"";
  if (s.size() > 64) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

// ---- Pieces -------------------------------------------------------------------------------------

rc::Gen<std::string> GenSeed() {
  return Unscaled(rc::gen::container<std::string>(ledger::kSeedBytes, rc::gen::arbitrary<char>()));
}

rc::Gen<LedgerAgent> GenAgent() {
  return rc::gen::map(GenSeed(), [](std::string seed) {
    LedgerAgent agent;
    agent.keys = ledger::KeyPairFromSeed(seed);
    agent.seed = std::move(seed);
    return agent;
  });
}

rc::Gen<std::vector<LedgerAgent>> GenAgents(size_t count) {
  assert(count <= 4096);
  // One generated seed, its first two bytes replaced by the agent's index: distinct by
  // construction, even when RapidCheck shrinks the seed to zeros.
  return rc::gen::map(GenSeed(), [count](const std::string& base) {
    std::vector<LedgerAgent> agents(count);
    for (size_t i = 0; i < count; ++i) {
      agents[i].seed = base;
      agents[i].seed[0] = static_cast<char>(i >> 8);
      agents[i].seed[1] = static_cast<char>(i & 0xff);
      agents[i].keys = ledger::KeyPairFromSeed(agents[i].seed);
    }
    return agents;
  });
}

rc::Gen<AssertionId> GenId() {
  return Unscaled(rc::gen::container<std::string>(ledger::kIdBytes, rc::gen::arbitrary<char>()));
}

rc::Gen<std::string> GenUtf8Text(size_t bytes_min, size_t bytes_max) {
  assert(bytes_min <= bytes_max);
  assert(bytes_max >= 4);
  const size_t short_max = std::min(bytes_max, bytes_min + 64);
  return GenUtf8OfLength(rc::gen::weightedOneOf<size_t>({
      {4, rc::gen::inRange<size_t>(bytes_min, short_max + 1)},  // Short (grows with size).
      {1, InRange<size_t>(bytes_min, bytes_max + 1)},           // Any length.
      {1, rc::gen::just(bytes_max)},                            // Exactly at the bound.
  }));
}

const std::vector<std::string>& SubjectVocabulary() {
  static const std::vector<std::string> words = {
      "alice",          "bob",  "Zürich",  "東京",     "🍕",
      "🏳️‍🌈", "שלום", "القاهرة", "a\u202eb", "e\u0301",
  };
  return words;
}

const std::vector<std::string>& PredicateVocabulary() {
  static const std::vector<std::string> words = {
      "color", "population", "likes", "ist_größer_als", "❤️", "סטטוס", "عاصمة", "ne\u0301e",
  };
  return words;
}

rc::Gen<std::string> GenSubject() {
  return rc::gen::weightedOneOf<std::string>({{3, rc::gen::elementOf(SubjectVocabulary())},
                                              {1, GenUtf8Text(1, ledger::kSubjectBytesMax)}});
}

rc::Gen<std::string> GenPredicate() {
  return rc::gen::weightedOneOf<std::string>({{3, rc::gen::elementOf(PredicateVocabulary())},
                                              {1, GenUtf8Text(1, ledger::kPredicateBytesMax)}});
}

rc::Gen<Object> GenObject() {
  constexpr double kMax = std::numeric_limits<double>::max();
  constexpr double kDenormMin = std::numeric_limits<double>::denorm_min();
  const auto number =
      rc::gen::oneOf(rc::gen::map(rc::gen::arbitrary<double>(),
                                  [](double x) { return std::isfinite(x) ? x : 0.0; }),
                     rc::gen::elementOf(std::vector<double>{
                         0.0, -0.0, 1.0, -1.0, kMax, -kMax, std::numeric_limits<double>::min(),
                         kDenormMin, -kDenormMin, 9007199254740993.0, 0.1}));
  return rc::gen::oneOf(
      rc::gen::cast<Object>(GenUtf8Text(0, ledger::kTextBytesMax)), rc::gen::cast<Object>(number),
      rc::gen::cast<Object>(rc::gen::arbitrary<bool>()),
      rc::gen::map(GenId(), [](AssertionId id) { return Object(Reference{std::move(id)}); }));
}

rc::Gen<double> GenConfidence() {
  return rc::gen::weightedOneOf<double>({
      {1, rc::gen::elementOf(std::vector<double>{0.0, -0.0, 1.0, 0.5,
                                                 std::numeric_limits<double>::denorm_min(),
                                                 std::nextafter(1.0, 0.0)})},
      {3, rc::gen::map(InRange<int>(0, 1'000'001), [](int m) { return m / 1e6; })},
  });
}

rc::Gen<int64_t> GenTimestampUs() {
  using ledger::kTimestampMaxUs;
  using ledger::kTimestampMinUs;
  return rc::gen::weightedOneOf<int64_t>({
      {1, rc::gen::elementOf(std::vector<int64_t>{kTimestampMinUs, kTimestampMaxUs - 1})},
      // A few distinct instants, so that timestamps tie.
      {2, rc::gen::map(InRange<int64_t>(0, 8),
                       [](int64_t i) { return kTimestampMinUs + 1'700'000'000'000'000 + i; })},
      {4, InRange<int64_t>(kTimestampMinUs, kTimestampMaxUs)},
  });
}

rc::Gen<double> GenWeight() {
  // A scale times 1..1000: from kWeightMin (1e-6 * 1, exactly) to kWeightMax (1e3 * 1000),
  // products of two doubles, so the same on every machine.
  return rc::gen::weightedOneOf<double>({
      {1, rc::gen::elementOf(std::vector<double>{ledger::kWeightMin, ledger::kWeightMax, 1.0})},
      {4, rc::gen::map(rc::gen::pair(rc::gen::elementOf(std::vector<double>{1e-6, 1e-3, 1.0, 1e3}),
                                     InRange<int>(1, 1001)),
                       [](const std::pair<double, int>& p) { return p.first * p.second; })},
  });
}

// ---- Valid records ------------------------------------------------------------------------------

rc::Gen<AssertionBody> GenAssertionBodyBy(const KeyPair& agent, std::vector<AssertionId> parents) {
  return rc::gen::exec([public_key = agent.public_key, parents = std::move(parents)] {
    AssertionBody body;
    body.agent = public_key;
    body.subject = *GenSubject();
    body.predicate = *GenPredicate();
    body.object = *GenObject();
    body.confidence = *GenConfidence();
    body.timestamp_us = *GenTimestampUs();
    if (!parents.empty() && *rc::gen::arbitrary<bool>()) {
      body.parent = *rc::gen::elementOf(parents);
    }
    return body;
  });
}

rc::Gen<Assertion> GenSignedAssertionBy(const KeyPair& agent, std::vector<AssertionId> parents) {
  return rc::gen::map(GenAssertionBodyBy(agent, std::move(parents)), [agent](AssertionBody body) {
    Result<Assertion> a = ledger::SignAssertion(std::move(body), agent);
    assert(a.ok());
    return std::move(a).value();
  });
}

rc::Gen<Assertion> GenSignedAssertion() {
  return rc::gen::mapcat(GenAgent(),
                         [](const LedgerAgent& agent) { return GenSignedAssertionBy(agent.keys); });
}

rc::Gen<Vote> GenSignedVoteBy(const KeyPair& voter, std::vector<AssertionId> assertions) {
  return rc::gen::exec([voter, assertions = std::move(assertions)] {
    VoteBody body;
    body.assertion = assertions.empty() ? *GenId() : *rc::gen::elementOf(assertions);
    body.voter = voter.public_key;
    body.weight = *GenWeight();
    body.timestamp_us = *GenTimestampUs();
    Result<Vote> v = ledger::SignVote(std::move(body), voter);
    assert(v.ok());
    return std::move(v).value();
  });
}

rc::Gen<Vote> GenSignedVote() {
  return rc::gen::mapcat(GenAgent(),
                         [](const LedgerAgent& agent) { return GenSignedVoteBy(agent.keys); });
}

rc::Gen<Retraction> GenSignedRetractionBy(const KeyPair& signer, RetractionBody::Kind kind,
                                          std::vector<AssertionId> assertions) {
  return rc::gen::exec([signer, kind, assertions = std::move(assertions)] {
    RetractionBody body;
    body.kind = kind;
    body.assertion = assertions.empty() ? *GenId() : *rc::gen::elementOf(assertions);
    body.signer = signer.public_key;
    body.timestamp_us = *GenTimestampUs();
    Result<Retraction> r = ledger::SignRetraction(std::move(body), signer);
    assert(r.ok());
    return std::move(r).value();
  });
}

rc::Gen<Retraction> GenSignedRetraction() {
  return rc::gen::exec([] {
    const LedgerAgent agent = *GenAgent();
    const auto kind =
        *rc::gen::element(RetractionBody::Kind::kAssertion, RetractionBody::Kind::kVote);
    return *GenSignedRetractionBy(agent.keys, kind);
  });
}

// ---- Hostile records ----------------------------------------------------------------------------

std::string_view HostileRuleName(HostileRule rule) {
  switch (rule) {
    case HostileRule::kKeyLength:
      return "key length";
    case HostileRule::kIdLength:
      return "id length";
    case HostileRule::kTextLength:
      return "text length";
    case HostileRule::kTextNul:
      return "NUL in text";
    case HostileRule::kTextUtf8:
      return "invalid UTF-8";
    case HostileRule::kNotFinite:
      return "not finite";
    case HostileRule::kOutOfRange:
      return "out of range";
    case HostileRule::kTimestampRange:
      return "timestamp out of range";
    case HostileRule::kUnknownKind:
      return "unknown kind";
    case HostileRule::kSignatureLength:
      return "signature length";
    case HostileRule::kForgedSignature:
      return "forged signature";
  }
  return "unknown rule";
}

rc::Gen<std::string> GenInvalidUtf8(size_t bytes_max) {
  assert(bytes_max >= 5);
  // Each is malformed wherever it stands between well-formed text (which never starts with a
  // continuation byte). None contains a NUL byte.
  static const std::vector<std::string> bad = {
      "\xc0\x80",
      "\xc1\xbf",
      "\xe0\x80\x80",
      "\xe0\x9f\xbf",  // Overlong.
      "\xf0\x80\x80\x80",
      "\xf0\x8f\xbf\xbf",  // Overlong.
      "\xed\xa0\x80",
      "\xed\xb2\xa9",
      "\xed\xbf\xbf",  // Surrogates.
      "\xf4\x90\x80\x80",
      "\xf7\xbf\xbf\xbf",
      "\xf5\x80\x80\x80",  // > U+10FFFF.
      "\xf8\x88\x80\x80\x80",
      "\xfe",
      "\xff",  // Never UTF-8.
      "\x80",
      "\xbf",  // Stray continuation.
      "\xc3",
      "\xe2\x82",
      "\xf0\x9f\x98",  // Truncated (é, €, 😀).
  };
  return rc::gen::exec([bytes_max] {
    const std::string middle = *rc::gen::elementOf(bad);
    const size_t room = (bytes_max - middle.size()) / 2;
    const std::string before = *GenUtf8OfLength(rc::gen::inRange<size_t>(0, room + 1));
    const std::string after = *GenUtf8OfLength(rc::gen::inRange<size_t>(0, room + 1));
    return before + middle + after;
  });
}

rc::Gen<std::string> GenTextWithNul(size_t bytes_max) {
  assert(bytes_max >= 1);
  return rc::gen::exec([bytes_max] {
    const size_t room = (bytes_max - 1) / 2;
    const std::string before = *GenUtf8OfLength(rc::gen::inRange<size_t>(0, room + 1));
    const std::string after = *GenUtf8OfLength(rc::gen::inRange<size_t>(0, room + 1));
    return before + std::string(1, '\0') + after;
  });
}

rc::Gen<std::string> GenOverlongText(size_t bytes_max) {
  assert(bytes_max < kHostileTextBytesMax);
  return GenUtf8OfLength(rc::gen::weightedOneOf<size_t>({
      {2, InRange<size_t>(bytes_max + 1, bytes_max + 17)},                     // Just over.
      {1, rc::gen::inRange<size_t>(bytes_max + 1, kHostileTextBytesMax + 1)},  // Any.
      {1, rc::gen::just(kHostileTextBytesMax)},                                // 1 MiB.
  }));
}

namespace {

// The signature of `body` by `keys` over its signed form, or the filler when it cannot be
// encoded. Signing with a key of the right length cannot fail.
template <typename Body>
std::string SignOrFill(const Body& body, const KeyPair& keys) {
  Result<std::string> form = ledger::SignedForm(body);
  if (!form.ok()) return kFillerSignature;
  Result<std::string> signature = ledger::SignDetached(*form, keys.secret_key);
  assert(signature.ok());
  return std::move(signature).value();
}

// Sets `text` to a value that breaks its bounds [bytes_min, bytes_max] or its encoding; returns
// the rule broken and how. Inside gen::exec.
std::pair<HostileRule, std::string> BreakText(std::string& text, size_t bytes_min,
                                              size_t bytes_max) {
  const int way = *InRange<int>(bytes_min > 0 ? 0 : 1, 4);
  switch (way) {
    case 0:
      text.clear();
      return {HostileRule::kTextLength, "empty"};
    case 1:
      text = *GenOverlongText(bytes_max);
      return {HostileRule::kTextLength, std::to_string(text.size()) + " bytes"};
    case 2:
      text = *GenTextWithNul(bytes_max);
      return {HostileRule::kTextNul, "embedded NUL"};
    default:
      text = *GenInvalidUtf8(bytes_max);
      return {HostileRule::kTextUtf8, "malformed sequence"};
  }
}

// A byte string of a wrong length for a field of `bytes`.
std::string WrongLength(size_t bytes) {
  const size_t n = *rc::gen::elementOf(std::vector<size_t>{0, 1, bytes - 1, bytes + 1, 2 * bytes});
  return std::string(n, '\x42');
}

rc::Gen<double> GenNotFinite() {
  return rc::gen::element(kNaN, kInf, -kInf);
}

rc::Gen<int64_t> GenTimestampOutOfRange() {
  using ledger::kTimestampMaxUs;
  using ledger::kTimestampMinUs;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  return rc::gen::oneOf(rc::gen::elementOf(std::vector<int64_t>{kMin, -1, 0, kTimestampMinUs - 1,
                                                                kTimestampMaxUs, kMax}),
                        InRange<int64_t>(kMin, kTimestampMinUs),
                        InRange<int64_t>(kTimestampMaxUs, kMax));
}

// A valid signature of the right length that does not verify for `body` as it ends up. Inside
// gen::exec. The body's timestamp may change (to one still in range).
template <typename Body>
std::pair<std::string, std::string> Forge(Body& body, const LedgerAgent& agent,
                                          Result<std::string> (*bare)(const Body&)) {
  switch (*InRange<int>(0, 4)) {
    case 0: {
      std::string other_seed = agent.seed;
      other_seed[0] = static_cast<char>(other_seed[0] ^ 1);  // Always another key.
      return {SignOrFill(body, ledger::KeyPairFromSeed(other_seed)), "signed by another key"};
    }
    case 1: {
      std::string signature = SignOrFill(body, agent.keys);
      const int bit = *InRange<int>(0, static_cast<int>(8 * signature.size()));
      signature[bit / 8] = static_cast<char>(signature[bit / 8] ^ (1 << (bit % 8)));
      return {signature, "bit " + std::to_string(bit) + " flipped"};
    }
    case 2: {
      std::string signature = SignOrFill(body, agent.keys);
      body.timestamp_us += body.timestamp_us + 1 < ledger::kTimestampMaxUs ? 1 : -1;
      return {signature, "body changed after signing"};
    }
    default: {
      Result<std::string> encoded = bare(body);
      assert(encoded.ok());
      Result<std::string> signature = ledger::SignDetached(*encoded, agent.keys.secret_key);
      assert(signature.ok());
      return {std::move(signature).value(), "signed over the bare encoding (no domain tag)"};
    }
  }
}

// Which field an assertion case breaks: each case below is one rule in one field.
enum AssertionBreak : int {
  kAgentLength,
  kSubjectText,
  kPredicateText,
  kObjectText,
  kObjectNumber,
  kObjectReference,
  kConfidenceNotFinite,
  kConfidenceRange,
  kAssertionTimestamp,
  kParentLength,
  kAssertionSignatureLength,
  kAssertionForged,
  kAssertionBreaks
};

}  // namespace

rc::Gen<Hostile<Assertion>> GenHostileAssertion() {
  return rc::gen::exec([] {
    const LedgerAgent agent = *GenAgent();
    AssertionBody body = *GenAssertionBodyBy(agent.keys);
    Hostile<Assertion> h;
    std::pair<HostileRule, std::string> broken;
    std::string text;
    switch (*InRange<int>(0, kAssertionBreaks)) {
      case kAgentLength:
        body.agent = WrongLength(ledger::kPublicKeyBytes);
        broken = {HostileRule::kKeyLength, std::to_string(body.agent.size()) + " bytes"};
        h.field = "assertion agent";
        break;
      case kSubjectText:
        broken = BreakText(body.subject, 1, ledger::kSubjectBytesMax);
        h.field = "assertion subject";
        break;
      case kPredicateText:
        broken = BreakText(body.predicate, 1, ledger::kPredicateBytesMax);
        h.field = "assertion predicate";
        break;
      case kObjectText:
        broken = BreakText(text, 0, ledger::kTextBytesMax);
        body.object = text;
        h.field = "assertion object text";
        break;
      case kObjectNumber:
        body.object = *GenNotFinite();
        broken = {HostileRule::kNotFinite, std::to_string(std::get<double>(body.object))};
        h.field = "assertion object number";
        break;
      case kObjectReference:
        body.object = Reference{WrongLength(ledger::kIdBytes)};
        broken = {HostileRule::kIdLength, "reference of the wrong length"};
        h.field = "assertion object reference";
        break;
      case kConfidenceNotFinite:
        body.confidence = *GenNotFinite();
        broken = {HostileRule::kNotFinite, std::to_string(body.confidence)};
        h.field = "assertion confidence";
        break;
      case kConfidenceRange:
        body.confidence = *rc::gen::elementOf(
            std::vector<double>{-std::numeric_limits<double>::denorm_min(), -1.0,
                                std::nextafter(1.0, 2.0), 2.0, 1e308, -1e308});
        broken = {HostileRule::kOutOfRange, std::to_string(body.confidence)};
        h.field = "assertion confidence";
        break;
      case kAssertionTimestamp:
        body.timestamp_us = *GenTimestampOutOfRange();
        broken = {HostileRule::kTimestampRange, std::to_string(body.timestamp_us)};
        h.field = "assertion timestamp";
        break;
      case kParentLength:
        body.parent = WrongLength(ledger::kIdBytes);
        broken = {HostileRule::kIdLength, std::to_string(body.parent->size()) + " bytes"};
        h.field = "assertion parent";
        break;
      case kAssertionSignatureLength:
        h.record.signature = WrongLength(ledger::kSignatureBytes);
        broken = {HostileRule::kSignatureLength,
                  std::to_string(h.record.signature.size()) + " bytes"};
        h.field = "assertion signature";
        break;
      default:
        std::tie(h.record.signature, broken.second) = Forge(body, agent, &ledger::EncodeAssertion);
        broken.first = HostileRule::kForgedSignature;
        h.field = "assertion signature";
        break;
    }
    if (h.record.signature.empty() && broken.first != HostileRule::kSignatureLength) {
      h.record.signature = SignOrFill(body, agent.keys);
    }
    h.record.body = std::move(body);
    std::tie(h.rule, h.how) = std::move(broken);
    return h;
  });
}

rc::Gen<Hostile<Vote>> GenHostileVote() {
  return rc::gen::exec([] {
    const LedgerAgent agent = *GenAgent();
    VoteBody body = (*GenSignedVoteBy(agent.keys)).body;
    Hostile<Vote> h;
    std::string how;
    switch (*InRange<int>(0, 7)) {
      case 0:
        body.assertion = WrongLength(ledger::kIdBytes);
        std::tie(h.rule, h.field) = std::pair(HostileRule::kIdLength, "vote assertion");
        break;
      case 1:
        body.voter = WrongLength(ledger::kPublicKeyBytes);
        std::tie(h.rule, h.field) = std::pair(HostileRule::kKeyLength, "vote voter");
        break;
      case 2:
        body.weight = *GenNotFinite();
        std::tie(h.rule, h.field) = std::pair(HostileRule::kNotFinite, "vote weight");
        break;
      case 3:
        body.weight = *rc::gen::elementOf(std::vector<double>{
            -1.0, -0.0, 0.0, -ledger::kWeightMin, ledger::kWeightMin / 2,
            std::nextafter(ledger::kWeightMin, 0.0), std::nextafter(ledger::kWeightMax, kInf),
            1e300, -1e300, std::numeric_limits<double>::denorm_min()});
        std::tie(h.rule, h.field) = std::pair(HostileRule::kOutOfRange, "vote weight");
        break;
      case 4:
        body.timestamp_us = *GenTimestampOutOfRange();
        std::tie(h.rule, h.field) = std::pair(HostileRule::kTimestampRange, "vote timestamp");
        break;
      case 5:
        h.record.signature = WrongLength(ledger::kSignatureBytes);
        std::tie(h.rule, h.field) = std::pair(HostileRule::kSignatureLength, "vote signature");
        break;
      default:
        std::tie(h.record.signature, how) = Forge(body, agent, &ledger::EncodeVote);
        std::tie(h.rule, h.field) = std::pair(HostileRule::kForgedSignature, "vote signature");
        break;
    }
    if (h.record.signature.empty() && h.rule != HostileRule::kSignatureLength) {
      h.record.signature = SignOrFill(body, agent.keys);
    }
    h.how = how.empty() ? std::string(HostileRuleName(h.rule)) : how;
    h.record.body = std::move(body);
    return h;
  });
}

rc::Gen<Hostile<Retraction>> GenHostileRetraction() {
  return rc::gen::exec([] {
    const LedgerAgent agent = *GenAgent();
    RetractionBody body =
        (*GenSignedRetractionBy(agent.keys, RetractionBody::Kind::kAssertion)).body;
    body.kind = *rc::gen::element(RetractionBody::Kind::kAssertion, RetractionBody::Kind::kVote);
    Hostile<Retraction> h;
    std::string how;
    switch (*InRange<int>(0, 6)) {
      case 0:
        body.kind = static_cast<RetractionBody::Kind>(*rc::gen::element(0, 3, 255));
        std::tie(h.rule, h.field) = std::pair(HostileRule::kUnknownKind, "retraction kind");
        break;
      case 1:
        body.assertion = WrongLength(ledger::kIdBytes);
        std::tie(h.rule, h.field) = std::pair(HostileRule::kIdLength, "retraction assertion");
        break;
      case 2:
        body.signer = WrongLength(ledger::kPublicKeyBytes);
        std::tie(h.rule, h.field) = std::pair(HostileRule::kKeyLength, "retraction signer");
        break;
      case 3:
        body.timestamp_us = *GenTimestampOutOfRange();
        std::tie(h.rule, h.field) = std::pair(HostileRule::kTimestampRange, "retraction timestamp");
        break;
      case 4:
        h.record.signature = WrongLength(ledger::kSignatureBytes);
        std::tie(h.rule, h.field) =
            std::pair(HostileRule::kSignatureLength, "retraction signature");
        break;
      default:
        std::tie(h.record.signature, how) = Forge(body, agent, &ledger::EncodeRetraction);
        std::tie(h.rule, h.field) =
            std::pair(HostileRule::kForgedSignature, "retraction signature");
        break;
    }
    if (h.record.signature.empty() && h.rule != HostileRule::kSignatureLength) {
      h.record.signature = SignOrFill(body, agent.keys);
    }
    h.how = how.empty() ? std::string(HostileRuleName(h.rule)) : how;
    h.record.body = std::move(body);
    return h;
  });
}

// ---- Printing -----------------------------------------------------------------------------------

void showValue(const LedgerAgent& agent, std::ostream& os) {
  os << "agent{seed=" << Escaped(agent.seed) << " public_key=" << Escaped(agent.keys.public_key)
     << "}";
}

void showValue(const Hostile<Assertion>& h, std::ostream& os) {
  os << HostileRuleName(h.rule) << " in " << h.field << " (" << h.how << "): ";
  ledger::showValue(h.record, os);
}

void showValue(const Hostile<Vote>& h, std::ostream& os) {
  os << HostileRuleName(h.rule) << " in " << h.field << " (" << h.how << "): ";
  ledger::showValue(h.record, os);
}

void showValue(const Hostile<Retraction>& h, std::ostream& os) {
  os << HostileRuleName(h.rule) << " in " << h.field << " (" << h.how << "): ";
  ledger::showValue(h.record, os);
}

}  // namespace kiln::properties

namespace kiln::ledger {

void showValue(const Assertion& a, std::ostream& os) {
  using properties::Escaped;
  const AssertionBody& b = a.body;
  os << "assertion{agent=" << Escaped(b.agent) << " subject=" << Escaped(b.subject)
     << " predicate=" << Escaped(b.predicate) << " object=";
  if (const auto* text = std::get_if<std::string>(&b.object)) os << "text " << Escaped(*text);
  if (const auto* number = std::get_if<double>(&b.object)) os << "number " << *number;
  if (const auto* flag = std::get_if<bool>(&b.object)) os << "bool " << *flag;
  if (const auto* ref = std::get_if<Reference>(&b.object)) os << "reference " << Escaped(ref->id);
  os << " confidence=" << b.confidence << " timestamp_us=" << b.timestamp_us
     << " parent=" << (b.parent ? Escaped(*b.parent) : "none")
     << " signature=" << Escaped(a.signature) << "}";
}

void showValue(const Vote& v, std::ostream& os) {
  using properties::Escaped;
  os << "vote{assertion=" << Escaped(v.body.assertion) << " voter=" << Escaped(v.body.voter)
     << " weight=" << v.body.weight << " timestamp_us=" << v.body.timestamp_us
     << " signature=" << Escaped(v.signature) << "}";
}

void showValue(const Retraction& r, std::ostream& os) {
  using properties::Escaped;
  os << "retraction{kind=" << static_cast<int>(r.body.kind)
     << " assertion=" << Escaped(r.body.assertion) << " signer=" << Escaped(r.body.signer)
     << " timestamp_us=" << r.body.timestamp_us << " signature=" << Escaped(r.signature) << "}";
}

}  // namespace kiln::ledger
