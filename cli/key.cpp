// probity key generate --name NAME --out PREFIX [--witness] [--force]
#include <fmt/format.h>

#include <filesystem>

#include "commands.hpp"
#include "probity/tlog.hpp"

namespace probity::cli {

Command add_key(CLI::App& parent) {
  struct Args {
    std::string name, out;
    bool witness = false, force = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand("key", "Manage Ed25519 signing keys (C2SP signed-note).");
  app->require_subcommand(1);
  CLI::App* gen = app->add_subcommand(
      "generate",
      R"(Write PREFIX.key (private, mode 0600) and PREFIX.pub (verifier key name+keyid+base64).
Never overwrites an existing PREFIX.key or PREFIX.pub without --force.
Exit codes: 0 written, 2 bad usage, an existing key, or cannot write.)");
  gen->add_option("--name", args->name, "Key name (log origin, approver or witness name)")
      ->required();
  gen->add_option("--out", args->out, "Output prefix")->required();
  gen->add_flag("--witness", args->witness,
                "A witness key: C2SP tlog-cosignature/v1 (signature type 0x04)");
  gen->add_flag("--force", args->force, "Replace an existing key pair (the old key is lost)");
  return {
      app, [args]() -> int {
        // A key is an identity: overwriting one by mistake loses it for good.
        for (const char* ext : {".key", ".pub"}) {
          std::error_code ec;
          const std::string path = args->out + ext;
          if (!args->force && std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
            fmt::print(stderr,
                       "probity key generate: {} exists; not overwritten (use --force to replace "
                       "the key pair)\n",
                       path);
            return kExitUsage;
          }
        }
        auto key = tlog::generate_key(
            args->name, args->witness ? tlog::KeyType::kCosignatureV1 : tlog::KeyType::kEd25519);
        if (!key) {
          fmt::print(stderr, "probity key generate: {}\n", key.error().to_string());
          return kExitUsage;
        }
        if (auto s = tlog::write_file_atomic(args->out + ".key", key->to_string() + "\n", true);
            !s) {
          fmt::print(stderr, "probity key generate: {}\n", s.error().to_string());
          return kExitUsage;
        }
        if (auto s = tlog::write_file_atomic(args->out + ".pub", key->pub.to_string() + "\n"); !s) {
          fmt::print(stderr, "probity key generate: {}\n", s.error().to_string());
          return kExitUsage;
        }
        fmt::print("{}\n", key->pub.to_string());
        return kExitOk;
      }};
}

}  // namespace probity::cli
