// probity verify IMAGE --bundle FILE --log-key PUB --approver-key PUB [--approver-threshold N]
//   [--witness-key PUB ... --witness-threshold N] [--state FILE] [--json]
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "probity/json.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::cli {

Command add_verify(CLI::App& parent) {
  struct Args {
    std::string image, bundle, log_key, state;
    std::vector<std::string> approvers, witnesses, accept;
    std::size_t approver_threshold = 1, witness_threshold = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand(
      "verify",
      "Offline flash-time check of IMAGE against its proof bundle: subject digest, approver\n"
      "signatures (t of n), inclusion proof, checkpoint signature, witness cosignatures, and with\n"
      "--state that the log never went backwards. No network.\n"
      "Exit codes: 0 every check holds, 1 a check failed (named), 2 bad usage or unreadable "
      "input.");
  app->add_option("IMAGE", a->image, "Firmware image")->required();
  app->add_option("--bundle", a->bundle, "Proof bundle (probity log bundle)")->required();
  app->add_option("--log-key", a->log_key, "Log verifier key (file or vkey)")->required();
  app->add_option("--approver-key", a->approvers, "Approver verifier key (repeatable)")->required();
  app->add_option("--approver-threshold", a->approver_threshold, "Approvals required (default 1)");
  app->add_option("--witness-key", a->witnesses, "Witness verifier key (repeatable)");
  app->add_option("--witness-threshold", a->witness_threshold, "Cosignatures required");
  app->add_option("--state", a->state, "Last checkpoint seen (read, then updated on success)");
  app->add_flag("--json", a->json, "Print the checks as JSON");
  app->add_option("--accept-verdict", a->accept,
                  R"(Also install an image whose attested verdict is this (fail, inconclusive;
repeatable). Without it only a pass is installed)")
      ->check(CLI::IsMember({"fail", "inconclusive"}));
  return {
      app, [a]() -> int {
        auto usage = [](const std::string& m) {
          fmt::print(stderr, "probity verify: {}\n", m);
          return kExitUsage;
        };
        tlog::VerifyOptions opt;
        auto lk = tlog::load_public_key(a->log_key);
        if (!lk) return usage(lk.error().to_string());
        opt.log_key = *lk;
        for (const auto& k : a->approvers) {
          auto p = tlog::load_public_key(k);
          if (!p) return usage(p.error().to_string());
          opt.approver_keys.push_back(*p);
        }
        for (const auto& k : a->witnesses) {
          auto p = tlog::load_public_key(k);
          if (!p) return usage(p.error().to_string());
          opt.witness_keys.push_back(*p);
        }
        if (a->approver_threshold == 0 || a->approver_threshold > opt.approver_keys.size())
          return usage("--approver-threshold must be between 1 and the number of approver keys");
        if (a->witness_threshold > opt.witness_keys.size())
          return usage("--witness-threshold is larger than the number of witness keys");
        opt.approver_threshold = a->approver_threshold;
        opt.witness_threshold = a->witness_threshold;
        if (!a->state.empty()) opt.state = a->state;
        for (const auto& v : a->accept) opt.accept_verdicts.push_back(v);
        auto text = read_file_capped(a->bundle, probity::kMaxBundleBytes);
        if (!text) return usage(text.error().to_string());
        // A bundle or envelope that does not parse (over a cap included) is unreadable input,
        // exit 2; verify_offline then judges only what is readable.
        if (auto b = tlog::parse_bundle(*text); !b) {
          Error e = b.error();
          e.file = a->bundle;
          return usage(e.to_string());
        } else if (auto env = tlog::parse_envelope(b->envelope); !env) {
          return usage(fmt::format("{}: the envelope (at byte {} of it): {}", a->bundle,
                                   env.error().offset, env.error().message));
        } else if (auto st = parse_json_bounded(
                       {reinterpret_cast<const char*>(env->payload.data()), env->payload.size()},
                       {}, probity::kMaxEntryBytes);
                   !st) {
          // A signed statement that is not readable JSON (over a cap included) is unreadable
          // input too: exit 2 naming it, not a failed subject check.
          return usage(fmt::format("{}: the signed statement (at byte {} of it): {}", a->bundle,
                                   st.error().offset, st.error().message));
        }
        std::error_code ec;
        if (!std::filesystem::is_regular_file(a->image, ec))
          return usage("cannot read image " + a->image);
        const auto r = tlog::verify_offline(a->image, *text, opt);
        if (a->json) {
          nlohmann::ordered_json j;
          j["verified"] = r.ok;
          j["checks"] = nlohmann::ordered_json::array();
          for (const auto& c : r.checks)
            j["checks"].push_back({{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}});
          std::cout << j.dump(2) << "\n";
        } else {
          for (const auto& c : r.checks)
            fmt::print("{} {}: {}\n", c.ok ? "ok  " : "FAIL", c.name, c.detail);
        }
        if (r.ok) {
          if (!a->json) fmt::print("verified: {}\n", a->image);
          return kExitOk;
        }
        std::string failed;
        for (const auto& c : r.checks)
          if (!c.ok) failed += (failed.empty() ? "" : ", ") + c.name;
        fmt::print(stderr, "probity verify: NOT VERIFIED: failed check(s): {}\n", failed);
        return kExitFail;
      }};
}

}  // namespace probity::cli
