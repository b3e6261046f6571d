// probity attest IMAGE --report REPORT.json --key KEY [--key KEY...] --out FILE
#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "probity/hash.hpp"
#include "probity/json.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::cli {
namespace {

// The first of several JSON pointers that exists in `j` (report.json's schema is still growing,
// so several spellings are accepted; see docs/tlog.md).
const nlohmann::json* first_of(const nlohmann::json& j, std::initializer_list<const char*> ptrs) {
  for (const char* p : ptrs) {
    const nlohmann::json::json_pointer ptr(p);
    if (j.contains(ptr) && !j.at(ptr).is_null()) return &j.at(ptr);
  }
  return nullptr;
}

/// The top-level fields attest reads: the rest of a report (files, components, ...) is dropped
/// while it is parsed, so a report near kMaxReportBytes costs little memory.
bool wanted(int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
  if (depth != 1 || event != nlohmann::json::parse_event_t::key) return true;
  const auto& k = parsed.get_ref<const std::string&>();
  return k == "image" || k == "verdict" || k == "policy" || k == "policy_digest" ||
         k == "db_snapshot" || k == "vuln_db" || k == "database";
}

nlohmann::json verdict_summary(const nlohmann::json& v) {
  if (!v.is_object()) return v;
  nlohmann::json out = nlohmann::json::object();
  for (const char* k : {"result", "status", "pass", "passed", "failed", "summary", "policy"})
    if (v.contains(k)) out[k] = v[k];
  if (!out.empty()) return out;
  return v.dump().size() <= kMaxVerdictBytes ? v : nlohmann::json(nullptr);
}

}  // namespace

Command add_attest(CLI::App& parent) {
  struct Args {
    std::string image, report, out, countersign;
    std::vector<std::string> keys, allow;
  };
  auto args = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand(
      "attest",
      "Sign an in-toto Statement v1 about IMAGE (predicate " +
          std::string(tlog::kScanPredicateType) +
          ") in a DSSE envelope.\nThe report must be IMAGE's (its image sha256) and its verdict a "
          "pass\n(or named by --allow-verdict).\nExit codes: 0 written, 2 bad usage, unreadable "
          "input or a refused report.");
  app->add_option("IMAGE", args->image, "Firmware image (the statement's subject)");
  app->add_option("--report", args->report, "report.json from probity scan");
  app->add_option("--countersign", args->countersign,
                  "Add the --key signatures to this existing envelope instead (approvers sign "
                  "one after another; IMAGE and --report are then not used)");
  app->add_option("--key", args->keys, "Approver private key (repeat for several approvers)")
      ->required();
  app->add_option("--out", args->out, "Envelope file to write")->required();
  app->add_option("--allow-verdict", args->allow,
                  R"(Also attest a report whose verdict is this (fail, inconclusive; repeatable):
the statement says so, and verify refuses it unless --accept-verdict)")
      ->check(CLI::IsMember({"fail", "inconclusive"}));
  return {app, [args]() -> int {
            auto usage = [](const std::string& m) {
              fmt::print(stderr, "probity attest: {}\n", m);
              return kExitUsage;
            };
            if (!args->countersign.empty()) {
              auto text = read_file_capped(args->countersign, probity::kMaxEntryBytes);
              if (!text) return usage(text.error().to_string());
              auto env = tlog::parse_envelope(
                  {reinterpret_cast<const std::uint8_t*>(text->data()), text->size()});
              if (!env) {
                Error e = env.error();
                e.file = args->countersign;
                return usage(e.to_string());
              }
              for (const auto& k : args->keys) {
                auto key = tlog::read_private_key(k);
                if (!key) return usage(key.error().to_string());
                if (auto s = tlog::dsse_sign(*env, *key); !s) return usage(s.error().to_string());
              }
              if (auto s = tlog::write_file_atomic(args->out, env->serialize()); !s)
                return usage(s.error().to_string());
              fmt::print("countersigned {} ({} signatures) -> {}\n", args->countersign,
                         env->signatures.size(), args->out);
              return kExitOk;
            }
            if (args->image.empty() || args->report.empty())
              return usage("IMAGE and --report are required (or --countersign ENVELOPE)");
            auto digest = sha256_file(args->image);
            if (!digest) return usage(digest.error().to_string());
            auto report_text = read_file_capped(args->report, kMaxReportBytes);
            if (!report_text) return usage(report_text.error().to_string());
            // Bounded before parsing: copying a verdict nested 100,000 deep overflowed the stack.
            auto parsed = parse_json_bounded(*report_text, args->report, kMaxReportBytes, wanted);
            if (!parsed) return usage(parsed.error().to_string());
            const nlohmann::json& report = *parsed;
            if (!report.is_object()) return usage(args->report + ": not a JSON object");
            // Bound to what was judged: the report must be this image's, and its verdict a pass
            // unless the caller names the verdict it means to attest.
            const auto* image_sha = first_of(report, {"/image/sha256"});
            if (!image_sha || !image_sha->is_string())
              return usage(args->report +
                           ": names no image sha256 (/image/sha256): not a report "
                           "of probity scan, or not of this image");
            if (image_sha->get<std::string>() != *digest)
              return usage(fmt::format(
                  "{} is the report of another image (sha256 {}), not of {} (sha256 {})",
                  args->report, image_sha->get<std::string>(), args->image, *digest));
            const auto* result = first_of(report, {"/verdict/result"});
            if (!result || !result->is_string())
              return usage(args->report + ": has no verdict (/verdict/result)");
            const std::string verdict_result = result->get<std::string>();
            if (verdict_result != "pass" && verdict_result != "fail" &&
                verdict_result != "inconclusive")
              return usage(args->report + ": /verdict/result is '" + verdict_result +
                           "', not pass, fail or inconclusive");
            if (verdict_result != "pass" && std::find(args->allow.begin(), args->allow.end(),
                                                      verdict_result) == args->allow.end())
              return usage(fmt::format(
                  "the verdict of {} is {}: refusing to attest it (give --allow-verdict {} to "
                  "attest it anyway; verify will then refuse it unless --accept-verdict {})",
                  args->report, verdict_result, verdict_result, verdict_result));
            const auto report_digest = sha256_hex(
                {reinterpret_cast<const std::uint8_t*>(report_text->data()), report_text->size()});

            nlohmann::ordered_json pred;
            pred["report"] = {{"name", std::filesystem::path(args->report).filename().string()},
                              {"digest", {{"sha256", report_digest}}}};
            const auto* verdict = first_of(report, {"/verdict"});
            pred["verdict"] = verdict ? verdict_summary(*verdict) : nlohmann::json(nullptr);
            const auto* policy = first_of(report, {"/policy/sha256", "/policy/digest",
                                                   "/policy_digest", "/verdict/policy_digest"});
            const auto* policy_name = first_of(report, {"/policy/name", "/verdict/policy"});
            pred["policy"] = policy ? nlohmann::json{{"digest", {{"sha256", *policy}}}}
                                    : nlohmann::json(nullptr);
            if (policy && policy_name) pred["policy"]["name"] = *policy_name;
            const auto sbom_path =
                std::filesystem::path(args->report).parent_path() / "sbom.cdx.json";
            std::error_code ec;
            if (std::filesystem::is_regular_file(sbom_path, ec)) {
              auto d = sha256_file(sbom_path);
              if (!d) return usage(d.error().to_string());
              pred["sbom"] = {{"name", "sbom.cdx.json"},
                              {"mediaType", "application/vnd.cyclonedx+json"},
                              {"digest", {{"sha256", *d}}}};
            } else {
              pred["sbom"] = nullptr;
            }
            const auto* db =
                first_of(report, {"/db_snapshot", "/vuln_db/snapshot", "/database/snapshot"});
            pred["db_snapshot"] = db ? *db : nlohmann::json(nullptr);
            pred["probity_version"] = PROBITY_VERSION;

            nlohmann::ordered_json st;
            st["_type"] = tlog::kStatementType;
            st["subject"] = nlohmann::ordered_json::array(
                {{{"name", std::filesystem::path(args->image).filename().string()},
                  {"digest", {{"sha256", *digest}}}}});
            st["predicateType"] = tlog::kScanPredicateType;
            st["predicate"] = std::move(pred);
            const std::string payload = st.dump();

            tlog::Envelope env;
            env.payload_type = tlog::kInTotoPayloadType;
            env.payload.assign(payload.begin(), payload.end());
            for (const auto& k : args->keys) {
              auto key = tlog::read_private_key(k);
              if (!key) return usage(key.error().to_string());
              if (auto s = tlog::dsse_sign(env, *key); !s) return usage(s.error().to_string());
            }
            const std::string out = env.serialize();
            if (out.size() > probity::kMaxEntryBytes)
              return usage("envelope is larger than a log entry may be");
            if (auto s = tlog::write_file_atomic(args->out, out); !s)
              return usage(s.error().to_string());
            fmt::print("attested {} (sha256 {}) -> {}\n", args->image, *digest, args->out);
            return kExitOk;
          }};
}

}  // namespace probity::cli
