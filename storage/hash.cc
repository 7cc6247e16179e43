#include "storage/hash.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace innsyn::storage {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// One digest context per thread, reused: fetching the algorithm and
// allocating a context per hash would cost more than hashing a small entry.
EVP_MD_CTX* ThreadContext() {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  } holder;
  if (kSha256 == nullptr || holder.ctx == nullptr ||
      EVP_DigestInit_ex2(holder.ctx, kSha256, nullptr) != 1) {
    std::abort();  // OpenSSL without SHA-256 cannot keep a ledger.
  }
  return holder.ctx;
}

Hash Digest(std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = ThreadContext();
  for (std::string_view part : parts) {
    EVP_DigestUpdate(ctx, part.data(), part.size());
  }
  Hash out;
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &length);
  return out;
}

std::string_view Byte(const uint8_t& b) { return {reinterpret_cast<const char*>(&b), 1}; }

}  // namespace

Hash Sha256(std::string_view data) { return Digest({data}); }

Hash Sha256(std::initializer_list<std::string_view> parts) { return Digest(parts); }

Hash LeafHash(std::string_view entry_bytes) { return Digest({Byte(kLeafPrefix), entry_bytes}); }

Hash NodeHash(const Hash& left, const Hash& right) {
  return Digest({Byte(kNodePrefix), AsBytes(left), AsBytes(right)});
}

Hash ChainHash(const Hash& previous_chain, const Hash& leaf) {
  return Digest({AsBytes(previous_chain), AsBytes(leaf)});
}

Hash EmptyTreeRoot() { return Sha256(""); }

std::string_view AsBytes(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

std::optional<Hash> HashFromBytes(std::string_view bytes) {
  if (bytes.size() != kHashBytes) return std::nullopt;
  Hash out;
  std::memcpy(out.data(), bytes.data(), kHashBytes);
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = nibble(hex[i]);
    int low = nibble(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high << 4 | low));
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(written);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text) {
    bool valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/' || c == '=';
    if (!valid) return std::nullopt;
  }
  std::string out(3 * text.size() / 4, '\0');
  int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(written) - padding);
  return out;
}

}  // namespace innsyn::storage
