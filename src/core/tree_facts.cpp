// Facts about a whole unpacked tree that several stages need (the manifest, the verdict's
// evidence terms, the scan summary): root filesystems and encrypted-looking regions.
#include <algorithm>
#include <map>

#include "probity/artifact.hpp"

namespace probity {

std::vector<RootFilesystem> find_root_filesystems(const ArtifactTree& t) {
  std::map<std::uint32_t, std::vector<std::string>> markers;
  for (const auto& f : t.files) {
    if (f.path.find('/') != std::string::npos) continue;  // top level only
    const bool dir_like = f.type == EntryType::kDir || f.type == EntryType::kSymlink;
    if (dir_like && (f.path == "etc" || f.path == "bin" || f.path == "sbin" || f.path == "usr" ||
                     f.path == "lib"))
      markers[f.container].push_back(f.path);
    else if (f.path == "init" && (f.type == EntryType::kFile || f.type == EntryType::kSymlink))
      markers[f.container].push_back("init");
  }
  std::map<std::uint32_t, std::string> format;
  for (const auto& c : t.containers) format[c.id] = c.format;
  std::vector<RootFilesystem> out;
  for (auto& [container, found] : markers) {
    auto has = [&](std::string_view m) {
      for (const auto& x : found)
        if (x == m) return true;
      return false;
    };
    const bool root =
        (has("etc") && (has("bin") || has("sbin") || has("usr") || has("lib"))) || has("init");
    if (!root) continue;
    std::sort(found.begin(), found.end());
    out.push_back({container, format[container], std::move(found)});
  }
  return out;
}

std::vector<EncryptedRegion> find_encrypted_regions(const ArtifactTree& t) {
  std::map<std::uint32_t, std::string> format;
  for (const auto& c : t.containers) format[c.id] = c.format;
  std::vector<EncryptedRegion> out;
  for (const auto& r : t.regions)
    if (r.encrypted)
      out.push_back({&r, r.format});
    else if (!r.understood && r.entropy >= kEncryptedEntropy && r.size >= kMinEncryptedBytes)
      out.push_back({&r, r.container ? format[r.container] : std::string()});
  return out;
}

}  // namespace probity
