// Internal: the one thin RAII layer over the SQLite C API (prepared statements), used by the
// vulnerability database, the fleet store and the transparency log.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "probity/error.hpp"

namespace probity::sql {

class Stmt {
 public:
  Stmt() = default;
  /// Prepared for reuse (SQLITE_PREPARE_PERSISTENT); `ok()` is false when it did not compile.
  Stmt(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &s_, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s_);
      s_ = nullptr;
    }
  }
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }

  [[nodiscard]] bool ok() const { return s_ != nullptr; }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_static(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind_double(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  /// The bytes must outlive the step (SQLITE_STATIC).
  Stmt& bind_blob_static(int i, std::span<const std::uint8_t> v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  /// true: a row is ready; false: done. Errors are reported through `error()`.
  bool step() {
    rc_ = sqlite3_step(s_);
    return rc_ == SQLITE_ROW;
  }
  /// Runs a statement that returns no rows: true when it completed (SQLITE_DONE).
  bool run() {
    rc_ = sqlite3_step(s_);
    return rc_ == SQLITE_DONE;
  }
  /// The last step failed (a statement not stepped since its reset has not).
  [[nodiscard]] bool failed() const {
    return rc_ != SQLITE_ROW && rc_ != SQLITE_DONE && rc_ != SQLITE_OK;
  }
  /// Ready to run again; every statement here binds all its parameters before each step.
  void reset() {
    sqlite3_reset(s_);
    rc_ = SQLITE_OK;
  }
  std::int64_t i64(int col) { return sqlite3_column_int64(s_, col); }
  double dbl(int col) { return sqlite3_column_double(s_, col); }
  bool is_null(int col) { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string_view text(int col) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return t ? std::string_view(t, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string_view();
  }
  std::span<const std::uint8_t> blob(int col) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, col));
    return p ? std::span<const std::uint8_t>(
                   p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::span<const std::uint8_t>();
  }
  /// The statement's result code of the last step (SQLITE_ROW, SQLITE_DONE or an error).
  [[nodiscard]] int rc() const { return rc_; }
  /// Finalizes now (statements must go before their connection closes).
  void finalize() {
    sqlite3_finalize(s_);
    s_ = nullptr;
  }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace probity::sql
