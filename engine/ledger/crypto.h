// The ledger's cryptography, over libsodium: Ed25519 keys from seeds, detached signatures,
// BLAKE2b-256, and signing of record bodies through encoding.h's SignedForm.
//
// Determinism: nothing here draws randomness. Keys come from 32-byte seeds (a simulation derives
// them from its run's seed); Ed25519 signing is deterministic. libsodium's randombytes is never
// called from code the simulator runs.
#pragma once

#include <string>
#include <string_view>

#include "engine/ledger/types.h"
#include "engine/runtime/result.h"

namespace kiln::ledger {

inline constexpr size_t kSeedBytes = 32;  // crypto_sign_SEEDBYTES.

// Initialises libsodium once; idempotent and cheap after the first call. Aborts if libsodium
// cannot initialise (no safe way to go on). Every function below calls it.
void InitSodium();

struct KeyPair {
  std::string public_key;  // kPublicKeyBytes.
  std::string secret_key;  // kSecretKeyBytes (libsodium's seed || public key form).
};

// The Ed25519 key pair of a seed (crypto_sign_seed_keypair): the same seed, the same keys.
// REQUIRES: seed32.size() == kSeedBytes.
KeyPair KeyPairFromSeed(std::string_view seed32);

// BLAKE2b with a 32-byte output. An error if libsodium reports one (never a default value).
Result<std::string> Blake2b256(std::string_view bytes);

// An Ed25519 detached signature (kSignatureBytes) of `message`. InvalidArgument if the secret
// key is not kSecretKeyBytes long.
Result<std::string> SignDetached(std::string_view message, std::string_view secret_key);
// Whether `signature` is a valid signature of `message` by `public_key`. False (never UB) when a
// length is wrong.
bool VerifyDetached(std::string_view message, std::string_view signature,
                    std::string_view public_key);

// Signs the body's SignedForm with `keys`. The body's key field (agent, voter, signer) is set to
// keys.public_key first, so a record signed here always names its signer. Errors: those of
// SignedForm and SignDetached.
Result<Assertion> SignAssertion(AssertionBody body, const KeyPair& keys);
Result<Vote> SignVote(VoteBody body, const KeyPair& keys);
Result<Retraction> SignRetraction(RetractionBody body, const KeyPair& keys);

}  // namespace kiln::ledger
