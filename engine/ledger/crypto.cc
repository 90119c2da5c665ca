#include "engine/ledger/crypto.h"

#include <sodium.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "engine/ledger/encoding.h"

namespace kiln::ledger {

static_assert(kPublicKeyBytes == crypto_sign_PUBLICKEYBYTES);
static_assert(kSecretKeyBytes == crypto_sign_SECRETKEYBYTES);
static_assert(kSignatureBytes == crypto_sign_BYTES);
static_assert(kSeedBytes == crypto_sign_SEEDBYTES);
static_assert(kIdBytes == crypto_generichash_BYTES);

namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

void InitSodium() {
  // A function-local static: initialised once, thread-safely (the blocking pool may race here).
  static const bool ok = sodium_init() >= 0;
  if (!ok) {
    std::fprintf(stderr, "kiln ledger: sodium_init failed\n");
    std::abort();
  }
}

KeyPair KeyPairFromSeed(std::string_view seed32) {
  assert(seed32.size() == kSeedBytes);
  InitSodium();
  KeyPair keys;
  keys.public_key.resize(kPublicKeyBytes);
  keys.secret_key.resize(kSecretKeyBytes);
  const int rc = crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(keys.public_key.data()),
                                          reinterpret_cast<unsigned char*>(keys.secret_key.data()),
                                          Bytes(seed32));
  if (rc != 0) std::abort();  // Cannot fail for a seed of the right length.
  return keys;
}

Result<std::string> Blake2b256(std::string_view bytes) {
  InitSodium();
  std::string out(kIdBytes, '\0');
  if (crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(), Bytes(bytes),
                         bytes.size(), nullptr, 0) != 0) {
    return Status::Unavailable("BLAKE2b-256 failed");
  }
  return out;
}

Result<std::string> SignDetached(std::string_view message, std::string_view secret_key) {
  if (secret_key.size() != kSecretKeyBytes) {
    return Status::InvalidArgument("secret key: " + std::to_string(secret_key.size()) +
                                   " bytes, not " + std::to_string(kSecretKeyBytes));
  }
  InitSodium();
  std::string signature(kSignatureBytes, '\0');
  unsigned long long signature_bytes = 0;
  if (crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), &signature_bytes,
                           Bytes(message), message.size(), Bytes(secret_key)) != 0) {
    return Status::InvalidArgument("Ed25519 signing failed");
  }
  assert(signature_bytes == kSignatureBytes);
  return signature;
}

bool VerifyDetached(std::string_view message, std::string_view signature,
                    std::string_view public_key) {
  if (signature.size() != kSignatureBytes || public_key.size() != kPublicKeyBytes) return false;
  InitSodium();
  return crypto_sign_verify_detached(Bytes(signature), Bytes(message), message.size(),
                                     Bytes(public_key)) == 0;
}

namespace {

template <typename Record, typename Body>
Result<Record> Sign(Body body, const KeyPair& keys) {
  Result<std::string> form = SignedForm(body);
  if (!form.ok()) return form.status();
  Result<std::string> signature = SignDetached(*form, keys.secret_key);
  if (!signature.ok()) return signature.status();
  return Record{std::move(body), std::move(signature).value()};
}

}  // namespace

Result<Assertion> SignAssertion(AssertionBody body, const KeyPair& keys) {
  body.agent = keys.public_key;
  return Sign<Assertion>(std::move(body), keys);
}

Result<Vote> SignVote(VoteBody body, const KeyPair& keys) {
  body.voter = keys.public_key;
  return Sign<Vote>(std::move(body), keys);
}

Result<Retraction> SignRetraction(RetractionBody body, const KeyPair& keys) {
  body.signer = keys.public_key;
  return Sign<Retraction>(std::move(body), keys);
}

}  // namespace kiln::ledger
