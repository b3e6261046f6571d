// Internal: the fleet store's two backends (SQLite for one machine, PostgreSQL for a cluster)
// behind one small interface. SQL is written once, in PostgreSQL's `$N` parameter style; the
// SQLite backend turns `$N` into `?N`. Values travel as NULL, integers, doubles or text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "probity/error.hpp"

namespace probity::fleet {

using Param = std::variant<std::monostate, std::int64_t, double, std::string>;
using Value = std::optional<std::string>;  ///< NULL or the value as text
using Row = std::vector<Value>;

class Backend {
 public:
  virtual ~Backend() = default;
  /// "sqlite" or "postgresql".
  [[nodiscard]] virtual const char* kind() const = 0;
  /// Several statements without parameters (schema files).
  virtual Status script(std::string_view sql) = 0;
  /// One statement; rows as text.
  virtual Result<std::vector<Row>> query(std::string_view sql, std::span<const Param> params) = 0;
  /// A write transaction. `exclusive`: no other writer until commit (schema migrations).
  virtual Status begin(bool exclusive) = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;
  /// The text `{{id}}` stands for in schema files: an auto-assigned 64-bit primary key.
  [[nodiscard]] virtual const char* id_column() const = 0;
  /// True when the last error was a unique-constraint violation (a concurrent ingest).
  [[nodiscard]] virtual bool last_was_conflict() const = 0;
};

/// Opens a SQLite file (created when missing).
Result<std::unique_ptr<Backend>> open_sqlite(const std::string& path);
/// Connects to PostgreSQL by a libpq URL (postgresql://user@host:port/db?...).
Result<std::unique_ptr<Backend>> open_postgresql(const std::string& url);

/// The URL without its password, for messages.
std::string redact_url(std::string_view url);

}  // namespace probity::fleet
