// Thin RAII layer over the SQLite C API: one connection, prepared statements, transactions.
// Every failure becomes imgsync::Error with ExitCode::state_error and SQLite's own message.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace imgsync::storage {

class Statement {
  public:
    Statement(sqlite3* db, std::string_view sql);
    Statement(Statement&&) noexcept = default;
    Statement& operator=(Statement&&) noexcept = default;

    // Binding is 1-based, like SQLite. Returns *this so calls chain.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const std::string& value) {
        return bind(index, std::string_view(value));
    }
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, std::nullopt_t);
    Statement& bind(int index, const std::optional<std::string>& value);
    Statement& bind(int index, const std::optional<std::int64_t>& value);
    Statement& bind(int index, const std::optional<double>& value);

    // Returns true while a row is available; false when done. Throws on error.
    bool step();
    // Runs to completion (for INSERT/UPDATE/DELETE) and resets; returns sqlite3_changes().
    int run();
    void reset();

    std::int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    std::optional<std::string> optional_text(int column) const;
    std::optional<std::int64_t> optional_int64(int column) const;
    std::optional<double> optional_real(int column) const;
    bool is_null(int column) const;

  private:
    struct Finalize {
        void operator()(sqlite3_stmt* stmt) const;
    };
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

class Database {
  public:
    enum class Mode { read_write_create, read_only };
    Database(const std::string& path, Mode mode);

    void exec(std::string_view sql);
    Statement prepare(std::string_view sql) { return Statement(handle_.get(), sql); }
    std::int64_t last_insert_rowid() const;
    sqlite3* raw() const { return handle_.get(); }
    const std::string& path() const { return path_; }

  private:
    struct Close {
        void operator()(sqlite3* db) const;
    };
    std::string path_;
    std::unique_ptr<sqlite3, Close> handle_;
};

// BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless commit() ran: an exception in
// the middle never leaves a row half written.
class Transaction {
  public:
    explicit Transaction(Database& db);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();

  private:
    Database& db_;
    bool open_ = true;
};

// One read snapshot for several SELECTs: each SELECT outside a transaction takes and drops the
// WAL read lock on its own (four fcntl() calls and an fstat()). Nothing may write inside it.
class ReadTransaction {
  public:
    explicit ReadTransaction(Database& db);
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;
    ~ReadTransaction();

  private:
    Database& db_;
};

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view what);

} // namespace imgsync::storage
