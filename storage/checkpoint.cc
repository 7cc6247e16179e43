#include "storage/checkpoint.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <vector>

#include "base/strings.h"
#include "storage/internal/secret_file.h"

namespace innsyn::storage {
namespace {

constexpr std::string_view kSignatureDash = "\xe2\x80\x94 ";  // "— "
constexpr uint8_t kEd25519Algorithm = 0x01;
constexpr size_t kEd25519PublicKeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;
constexpr size_t kKeyIdBytes = 4;
constexpr std::string_view kChainExtension = "chain ";
constexpr std::string_view kMapExtension = "map ";

std::string KeyId(std::string_view name, std::string_view public_key) {
  std::string material = StrCat(name, "\n");
  material.push_back(static_cast<char>(kEd25519Algorithm));
  material.append(public_key);
  Hash h = Sha256(material);
  return std::string(AsBytes(h).substr(0, kKeyIdBytes));
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::StatusOr<PkeyPtr> ReadOrCreateKey(const std::string& path, bool create) {
  absl::StatusOr<std::string> pem = internal::ReadSecretFile(path);
  if (pem.ok()) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), BIO_free);
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    OPENSSL_cleanse(pem->data(), pem->size());
    if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
      EVP_PKEY_free(key);
      return absl::DataLossError(StrCat(path, ": not an Ed25519 private key in PEM"));
    }
    return PkeyPtr(key);
  }
  if (!absl::IsNotFound(pem.status())) return pem.status();
  if (!create) return absl::NotFoundError(StrCat(path, ": checkpoint key missing"));
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return absl::InternalError("Ed25519 key generation failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError("cannot encode the Ed25519 key");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  std::string encoded(data, static_cast<size_t>(length));
  absl::Status written = internal::WriteSecretFile(path, encoded);
  OPENSSL_cleanse(encoded.data(), encoded.size());
  if (!written.ok()) return written;
  return key;
}

absl::StatusOr<std::string> RawPublicKey(EVP_PKEY* key) {
  std::string out(kEd25519PublicKeyBytes, '\0');
  size_t length = out.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(out.data()), &length) !=
          1 ||
      length != kEd25519PublicKeyBytes) {
    return absl::InternalError("cannot read the Ed25519 public key");
  }
  return out;
}

absl::StatusOr<Hash> DecodeHashLine(std::string_view line, std::string_view what) {
  std::optional<std::string> bytes = Base64Decode(line);
  std::optional<Hash> hash = bytes ? HashFromBytes(*bytes) : std::nullopt;
  if (!hash)
    return absl::InvalidArgumentError(StrCat("checkpoint ", what, " is not base64 of 32 bytes"));
  return *hash;
}

absl::StatusOr<CheckpointBody> ParseBody(std::string_view text) {
  std::vector<std::string_view> lines = Split(text, '\n');
  // The body ends with a newline, so the last split element is empty.
  if (lines.size() < 4 || !lines.back().empty()) {
    return absl::InvalidArgumentError("checkpoint needs origin, size and root lines");
  }
  CheckpointBody body;
  body.origin = std::string(lines[0]);
  if (body.origin.empty()) return absl::InvalidArgumentError("checkpoint origin is empty");
  std::optional<uint64_t> tree_size = ParseDecimal(lines[1]);
  if (!tree_size) return absl::InvalidArgumentError("checkpoint tree size is not a decimal number");
  body.tree_size = *tree_size;
  absl::StatusOr<Hash> root = DecodeHashLine(lines[2], "root hash");
  if (!root.ok()) return root.status();
  body.root_hash = *root;
  for (size_t i = 3; i + 1 < lines.size(); ++i) {
    if (lines[i].empty())
      return absl::InvalidArgumentError("checkpoint has an empty extension line");
    if (lines[i].starts_with(kChainExtension)) {
      absl::StatusOr<Hash> chain =
          DecodeHashLine(lines[i].substr(kChainExtension.size()), "chain head");
      if (!chain.ok()) return chain.status();
      body.chain_head = *chain;
    } else if (lines[i].starts_with(kMapExtension)) {
      absl::StatusOr<Hash> map = DecodeHashLine(lines[i].substr(kMapExtension.size()), "map root");
      if (!map.ok()) return map.status();
      body.map_root = *map;
    }
  }
  return body;
}

}  // namespace

std::string FormatCheckpointBody(const CheckpointBody& body) {
  std::string text =
      StrCat(body.origin, "\n", body.tree_size, "\n", Base64Encode(AsBytes(body.root_hash)), "\n",
             kChainExtension, Base64Encode(AsBytes(body.chain_head)), "\n");
  if (body.map_root) text += StrCat(kMapExtension, Base64Encode(AsBytes(*body.map_root)), "\n");
  return text;
}

void CheckpointSigner::KeyDeleter::operator()(void* key) const {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(key));
}

CheckpointSigner::~CheckpointSigner() = default;

absl::StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::Load(
    const std::string& key_path, std::string key_name, bool create) {
  if (key_name.empty() || key_name.find_first_of(" +\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        "checkpoint key name must be non-empty without spaces or '+'");
  }
  absl::StatusOr<PkeyPtr> key = ReadOrCreateKey(key_path, create);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> public_key = RawPublicKey(key->get());
  if (!public_key.ok()) return public_key.status();
  std::unique_ptr<CheckpointSigner> signer(new CheckpointSigner());
  signer->key_.reset(key->release());
  signer->key_name_ = std::move(key_name);
  signer->key_id_ = KeyId(signer->key_name_, *public_key);
  std::string encoded_key(1, static_cast<char>(kEd25519Algorithm));
  encoded_key += *public_key;
  signer->verifier_key_ =
      StrCat(signer->key_name_, "+", ToHex(signer->key_id_), "+", Base64Encode(encoded_key));
  return signer;
}

absl::StatusOr<std::string> CheckpointSigner::Sign(const CheckpointBody& body) const {
  return SignText(FormatCheckpointBody(body));
}

absl::StatusOr<std::string> CheckpointSigner::SignStatement(std::string_view text) const {
  std::vector<std::string_view> lines = Split(text, '\n');
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("a signed statement must end with a newline");
  }
  if (lines.size() > 1 && ParseDecimal(lines[1])) {
    return absl::InvalidArgumentError("a signed statement must not read as a checkpoint");
  }
  return SignText(text);
}

absl::StatusOr<std::string> CheckpointSigner::SignText(std::string_view text) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string signature(kEd25519SignatureBytes, '\0');
  size_t length = signature.size();
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         static_cast<EVP_PKEY*>(key_.get())) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1) {
    return absl::InternalError("Ed25519 signing failed");
  }
  return StrCat(text, "\n", kSignatureDash, key_name_, " ", Base64Encode(key_id_ + signature),
                "\n");
}

absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text) {
  // name+keyid+key; the base64 key may itself contain '+'.
  size_t first_plus = text.find('+');
  size_t second_plus =
      first_plus == std::string_view::npos ? first_plus : text.find('+', first_plus + 1);
  if (first_plus == 0 || second_plus == std::string_view::npos) {
    return absl::InvalidArgumentError("verifier key must be name+keyid+key");
  }
  std::optional<std::string> key_id =
      FromHex(text.substr(first_plus + 1, second_plus - first_plus - 1));
  std::optional<std::string> encoded = Base64Decode(text.substr(second_plus + 1));
  if (!key_id || key_id->size() != kKeyIdBytes || !encoded ||
      encoded->size() != 1 + kEd25519PublicKeyBytes ||
      static_cast<uint8_t>((*encoded)[0]) != kEd25519Algorithm) {
    return absl::InvalidArgumentError("verifier key is not an Ed25519 note key");
  }
  VerifierKey key{std::string(text.substr(0, first_plus)), *key_id, encoded->substr(1)};
  if (KeyId(key.name, key.public_key) != key.key_id) {
    return absl::InvalidArgumentError("verifier key id does not match its name and key");
  }
  return key;
}

absl::StatusOr<std::string> VerifyNoteText(std::string_view note, std::string_view verifier_key) {
  absl::StatusOr<VerifierKey> key = ParseVerifierKey(verifier_key);
  if (!key.ok()) return key.status();
  // The signature block follows the last blank line (C2SP signed-note).
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos)
    return absl::InvalidArgumentError("note has no signature block");
  std::string_view text = note.substr(0, split + 1);
  std::string_view signatures = note.substr(split + 2);
  std::string wanted_prefix = StrCat(kSignatureDash, key->name, " ");
  for (std::string_view line : Split(signatures, '\n')) {
    if (!line.starts_with(wanted_prefix)) continue;
    std::optional<std::string> blob = Base64Decode(line.substr(wanted_prefix.size()));
    if (!blob || blob->size() != kKeyIdBytes + kEd25519SignatureBytes ||
        blob->substr(0, kKeyIdBytes) != key->key_id) {
      continue;
    }
    PkeyPtr public_key(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(key->public_key.data()),
        key->public_key.size()));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::string_view signature = std::string_view(*blob).substr(kKeyIdBytes);
    if (!public_key || !ctx ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, public_key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(text.data()),
                         text.size()) != 1) {
      return absl::DataLossError("checkpoint signature is invalid");
    }
    return std::string(text);
  }
  return absl::NotFoundError(StrCat("checkpoint carries no signature by ", key->name));
}

absl::StatusOr<CheckpointBody> VerifyCheckpointNote(std::string_view note,
                                                    std::string_view verifier_key) {
  absl::StatusOr<std::string> text = VerifyNoteText(note, verifier_key);
  if (!text.ok()) return text.status();
  return ParseBody(*text);
}

}  // namespace innsyn::storage
