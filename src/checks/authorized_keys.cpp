// remote-access: authorized_keys files: every key in one is a standing way in for whoever holds
// the private half (typically the vendor). Reports key type, size, comment and fingerprint.
#include "checks_support/check.hpp"
#include "checks_support/keys.hpp"
#include "checks_support/text.hpp"
#include "probity/base64.hpp"
#include "probity/limits.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "remote-access";

void on_file(const Context& ctx, void*, const FileView& f, Emitter& em) {
  auto name = basename(f.path());
  if (!(name == "authorized_keys" || name == "authorized_keys2") ||
      f.bytes().size() > kMaxConfigBytes)
    return;
  std::size_t n = 0;
  for_each_line(f.text(), [&](std::string_view raw, std::uint64_t off) {
    auto line = trim(raw);
    if (line.empty() || line[0] == '#' || n >= kMaxAuthorizedKeysPerFile) return;
    auto w = words(line);
    // [options] keytype base64 [comment]: find the base64 blob after a key-type word.
    for (std::size_t i = 0; i + 1 < w.size(); ++i) {
      if (!(w[i].starts_with("ssh-") || w[i].starts_with("ecdsa-") || w[i].starts_with("sk-")))
        continue;
      auto blob = base64_decode(w[i + 1], Base64Mode::kLenient);
      if (!blob) continue;
      auto info = ssh_blob_info(*blob);
      if (!info) continue;
      std::string comment;
      for (std::size_t j = i + 2; j < w.size(); ++j)
        comment += (comment.empty() ? "" : " ") + std::string(w[j]);
      ++n;
      {
        std::lock_guard lock(ctx.facts_mutex);
        ctx.facts.keys.push_back({.role = "authorized",
                                  .type = info->type,
                                  .bits = int(info->bits),
                                  .fingerprint = info->fingerprint,
                                  .path = f.path(),
                                  .location = f.location()});
      }
      auto& fd = em.add("authorized-key", kCat, Severity::kHigh, f.rec(), f.location(),
                        "authorized SSH key " + info->type + " " + std::to_string(info->bits) +
                            " bits" + (comment.empty() ? "" : " '" + comment + "'") + " " +
                            info->fingerprint + ": whoever holds the private key can log in",
                        info->fingerprint,
                        info->type + " " + info->fingerprint + " " + excerpt(comment, 80), off);
      fd.evidence.fingerprint = info->fingerprint;
      return;
    }
  });
  if (n >= kMaxAuthorizedKeysPerFile)
    em.cap_hit(f, kCat, "kMaxAuthorizedKeysPerFile", kMaxAuthorizedKeysPerFile);
}

}  // namespace

const Check kCheck_authorized_keys{.id = "authorized_keys",
                                   .category = kCat,
                                   .description = "SSH keys authorized for login (vendor keys)",
                                   .on_file = on_file};

}  // namespace probity::checks
