// private-key: X.509 certificates that are expired, weak (RSA/DSA under 2048 bits, MD5 or SHA-1
// signatures) or self-signed.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "checks_support/check.hpp"
#include "checks_support/pem.hpp"
#include "checks_support/text.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "private-key";
/// Smallest RSA/DSA modulus not reported as weak.
/// A finding threshold, not a cap.
constexpr int kMinRsaBits = 2048;

std::string hexfp(X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  X509_digest(x, EVP_sha256(), md, &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "sha256:";
  for (unsigned i = 0; i < n; ++i) {
    s += kHex[md[i] >> 4];
    s += kHex[md[i] & 15];
  }
  return s;
}

std::string subject(X509* x) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof buf);
  return buf;
}

void check_cert(const FileView& f, Emitter& em, X509* x, std::uint64_t off) {
  std::string fp = hexfp(x);
  std::string subj = subject(x);
  std::string ex = subj + " " + fp;
  if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
    em.add("cert-expired", kCat, Severity::kLow, f.rec(), f.location(),
           "certificate '" + subj + "' has expired", fp, ex, off);
  if (EVP_PKEY* k = X509_get0_pubkey(x)) {
    int id = EVP_PKEY_get_base_id(k);
    int bits = EVP_PKEY_get_bits(k);
    if ((id == EVP_PKEY_RSA || id == EVP_PKEY_DSA) && bits < kMinRsaBits)
      em.add("cert-weak-key", kCat, Severity::kMedium, f.rec(), f.location(),
             "certificate '" + subj + "' has a " + std::to_string(bits) + "-bit " +
                 (id == EVP_PKEY_RSA ? "RSA" : "DSA") + " key (under " +
                 std::to_string(kMinRsaBits) + ")",
             fp, ex, off);
  }
  bool self_signed = X509_check_issued(x, x) == X509_V_OK;
  int md = NID_undef, pk = NID_undef;
  if (OBJ_find_sigid_algs(X509_get_signature_nid(x), &md, &pk) &&
      (md == NID_md5 || md == NID_sha1 || md == NID_md2 || md == NID_md4) && !self_signed)
    em.add("cert-weak-signature", kCat, Severity::kMedium, f.rec(), f.location(),
           "certificate '" + subj + "' is signed with " + OBJ_nid2sn(md), fp, ex, off);
  if (self_signed)
    em.add("cert-self-signed", kCat, Severity::kInfo, f.rec(), f.location(),
           "certificate '" + subj + "' is self-signed", fp, ex, off);
}

void on_file(const Context&, void*, const FileView& f, Emitter& em) {
  bool any = false;
  bool capped = for_each_pem(f.bytes(), [&](std::string_view label, std::string_view block,
                                            std::uint64_t off) {
    if (label != "CERTIFICATE" && label != "X509 CERTIFICATE" && label != "TRUSTED CERTIFICATE")
      return;
    any = true;
    BIO* bio = BIO_new_mem_buf(block.data(), int(block.size()));
    X509* x = label == "TRUSTED CERTIFICATE" ? PEM_read_bio_X509_AUX(bio, nullptr, nullptr, nullptr)
                                             : PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (x) check_cert(f, em, x, off);
    X509_free(x);
  });
  if (capped) em.cap_hit(f, kCat, "kMaxPemBlocks", kMaxPemBlocks);
  if (any || f.bytes().size() > kMaxPemBlockBytes || f.bytes().size() < 64 ||
      f.bytes()[0] != 0x30 || f.is_elf() || f.is_text())
    return;
  Bytes b = sub(f.bytes(), 0, kMaxPemBlockBytes);
  const unsigned char* p = b.data();
  if (X509* x = d2i_X509(nullptr, &p, long(b.size()))) {
    check_cert(f, em, x, 0);
    X509_free(x);
  }
}

}  // namespace

const Check kCheck_certificates{.id = "certificates",
                                .category = kCat,
                                .description = "expired, weak and self-signed certificates",
                                .on_file = on_file};

}  // namespace probity::checks
