// The fleet store on SQLite (src/core/sqlite.hpp's Stmt; WAL so that local workers write at once).
#include <map>

#include "core/sqlite.hpp"
#include "fleet/backend.hpp"

namespace probity::fleet {
namespace {

using sql::Stmt;

/// `$N` (PostgreSQL) to `?N` (SQLite); the store's SQL has no `$` inside literals.
std::string to_sqlite(std::string_view sql) {
  std::string out(sql);
  for (char& c : out)
    if (c == '$') c = '?';
  return out;
}

class SqliteBackend final : public Backend {
 public:
  explicit SqliteBackend(sqlite3* db) : db_(db) {}
  ~SqliteBackend() override {
    stmts_.clear();
    sqlite3_close(db_);
  }
  const char* kind() const override { return "sqlite"; }
  const char* id_column() const override { return "INTEGER PRIMARY KEY"; }
  bool last_was_conflict() const override { return conflict_; }

  Status script(std::string_view sql) override {
    char* msg = nullptr;
    if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &msg) == SQLITE_OK) return {};
    std::string m = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return fail("store: " + m);
  }

  Result<std::vector<Row>> query(std::string_view sql, std::span<const Param> params) override {
    conflict_ = false;
    auto it = stmts_.find(std::string(sql));
    if (it == stmts_.end()) {
      Stmt s(db_, to_sqlite(sql));
      if (!s.ok())
        return fail(std::string("store: ") + sqlite3_errmsg(db_) +
                    " in: " + std::string(sql.substr(0, 80)));
      it = stmts_.emplace(std::string(sql), std::move(s)).first;
    }
    Stmt& s = it->second;
    s.reset();
    sqlite3_clear_bindings(s.get());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int n = static_cast<int>(i + 1);
      const Param& p = params[i];
      if (std::holds_alternative<std::monostate>(p))
        s.bind_null(n);
      else if (const auto* v = std::get_if<std::int64_t>(&p))
        s.bind(n, *v);
      else if (const auto* d = std::get_if<double>(&p))
        s.bind_double(n, *d);
      else
        s.bind(n, std::string_view(std::get<std::string>(p)));
    }
    std::vector<Row> rows;
    const int cols = sqlite3_column_count(s.get());
    while (s.step()) {
      Row r;
      r.reserve(static_cast<std::size_t>(cols));
      for (int c = 0; c < cols; ++c)
        r.push_back(s.is_null(c) ? Value() : Value(std::string(s.text(c))));
      rows.push_back(std::move(r));
    }
    if (s.failed()) {
      conflict_ = sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE ||
                  sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_PRIMARYKEY;
      std::string m = sqlite3_errmsg(db_);
      s.reset();
      return fail("store: " + m);
    }
    s.reset();
    return rows;
  }

  Status begin(bool) override { return script("BEGIN IMMEDIATE"); }
  Status commit() override { return script("COMMIT"); }
  void rollback() override { (void)script("ROLLBACK"); }

 private:
  sqlite3* db_;
  std::map<std::string, Stmt> stmts_;
  bool conflict_ = false;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_sqlite(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return fail("cannot open the store: " + m +
                    " (give a writable file path or a "
                    "postgresql:// URL)",
                0, path);
  }
  // Several local workers ingest at once: WAL, and a generous wait for the write lock.
  sqlite3_busy_timeout(db, 120000);
  auto b = std::make_unique<SqliteBackend>(db);
  if (auto s = b->script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                         "PRAGMA foreign_keys=ON;");
      !s) {
    Error e = s.error();
    e.file = path;
    e.message += " (is it a SQLite file?)";
    return std::unexpected(e);
  }
  return std::unique_ptr<Backend>(std::move(b));
}

}  // namespace probity::fleet
