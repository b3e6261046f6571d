// update-integrity: update paths that fetch firmware over plain http/ftp/tftp and write flash
// with no signature check in the same script; hard-coded update servers.
#include <array>

#include "checks_support/check.hpp"
#include "checks_support/text.hpp"
#include "probity/limits.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "update-integrity";

constexpr std::array<std::string_view, 9> kFlashWrites = {
    "mtd write", "mtd -r write", "sysupgrade",     "of=/dev/mtd", "flashcp",
    "nandwrite", "flash_erase",  "of=/dev/mmcblk", "fw_upgrade"};
constexpr std::array<std::string_view, 10> kVerifies = {
    "openssl dgst", "openssl smime", "openssl cms",      "usign",           "gpg --verify",
    "gpgv",         "signify",       "verify_signature", "openssl pkeyutl", "ucert"};
constexpr std::array<std::string_view, 6> kFetchers = {"wget",   "curl",          "tftp",
                                                       "ftpget", "uclient-fetch", "fetch"};
constexpr std::array<std::string_view, 6> kUpdateWords = {"update", "upgrade", "firmware",
                                                          "fw_",    "/fw",     "ota"};

void on_file(const Context&, void*, const FileView& f, Emitter& em) {
  if (!f.is_text() || f.bytes().size() > kMaxConfigBytes) return;
  std::string l = lower(f.text());
  auto has = [&](std::string_view s) { return l.find(s) != std::string::npos; };
  bool flash = false;
  for (auto w : kFlashWrites) flash = flash || has(w);
  bool verify = false;
  for (auto w : kVerifies) verify = verify || has(w);
  // Plain-text downloads: a fetcher on a line with an http/ftp/tftp URL, or tftp itself.
  std::vector<std::pair<std::string, std::uint64_t>> plain;
  for_each_line(f.text(), [&](std::string_view raw, std::uint64_t off) {
    auto line = trim(strip_comment(raw));
    std::string ll = lower(line);
    bool fetch = false;
    for (auto w : kFetchers)
      for (auto word : words(ll))
        if (basename(word) == w) fetch = true;
    if (!fetch) return;
    if (ll.find("http://") != std::string::npos || ll.find("ftp://") != std::string::npos ||
        ll.find("tftp") != std::string::npos)
      plain.emplace_back(std::string(line), off);
  });
  for (const auto& [line, off] : plain) {
    if (flash && !verify)
      em.add("update-unsigned", kCat, Severity::kHigh, f.rec(), f.location(),
             "firmware is downloaded over a plain-text protocol and written to flash with no "
             "signature check in the same script",
             line, excerpt(line), off);
    else if (flash)
      em.add("update-plain-download", kCat, Severity::kMedium, f.rec(), f.location(),
             "firmware is downloaded over a plain-text protocol (a signature check is present)",
             line, excerpt(line), off);
  }
  // Hard-coded update servers: URLs on lines that speak of updates/firmware.
  std::size_t n = 0;
  for_each_line(f.text(), [&](std::string_view raw, std::uint64_t off) {
    if (n >= kMaxUpdateServersPerFile) return;
    std::string ll = lower(raw);
    auto u = ll.find("://");
    if (u == std::string::npos) return;
    bool upd = false;
    for (auto w : kUpdateWords) upd = upd || ll.find(w) != std::string::npos;
    if (!upd) return;
    auto start = u;
    while (start > 0 && ll[start - 1] >= 'a' && ll[start - 1] <= 'z') --start;
    auto end = ll.find_first_of(" \t\"'`;<>)", u);
    std::string url(
        raw.substr(start, end == std::string::npos ? std::string_view::npos : end - start));
    if (url.size() <= 8) return;
    ++n;
    em.add("update-server", kCat, Severity::kInfo, f.rec(), f.location(),
           "hard-coded update server " + url, url, excerpt(trim(raw)), off);
  });
  if (n >= kMaxUpdateServersPerFile)
    em.cap_hit(f, kCat, "kMaxUpdateServersPerFile", kMaxUpdateServersPerFile);
}

}  // namespace

const Check kCheck_update_integrity{
    .id = "update_integrity",
    .category = kCat,
    .description = "plain-text firmware downloads written to flash unsigned; update servers",
    .on_file = on_file};

}  // namespace probity::checks
