// Version ordering for the version schemes real firmware components use (docs/vulndb.md).
#pragma once

#include <string_view>

namespace probity {

/// Compares two version strings; returns <0, 0 or >0 like strcmp.
///
/// The rules, chosen to order what NVD records and upstream projects actually publish:
/// - a leading "v"/"V" is ignored; "2:1.0" has epoch 2 (Debian) and epochs compare first;
/// - the rest splits into numbers and letter runs; '.', '-', '_', '+', '(' ... only separate;
/// - numbers compare numerically (any length), so 2020.81 < 2022.83 and 7.74.0 < 7.100.0;
/// - missing trailing parts count as zero: "2.9" == "2.9.0";
/// - the pre-release words dev < alpha < beta < pre (preview) < rc sort before the release:
///   "1.2.3rc1" < "1.2.3", "1.0-beta" < "1.0-rc1", "1.1.1pre9" < "1.1.1";
/// - any other letters are a post-release suffix and sort after the release, by letters:
///   "1.0.2" < "1.0.2k" < "1.0.2z" < "1.0.2za"; "8.4" < "8.4p1" < "8.9p1" < "9.0p1";
/// - '~' (Debian) sorts before everything, even the end: "1.0~rc1" < "1.0".
int compare_versions(std::string_view a, std::string_view b);

}  // namespace probity
