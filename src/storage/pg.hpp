// Thin RAII layer over libpq: one connection, results, text parameters, statements prepared once
// per connection. Every failure becomes imgsync::Error with ExitCode::state_error and one line
// that names the server (host, port, database) and libpq's cause, never a password.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace imgsync::storage {

class PgResult {
  public:
    explicit PgResult(pg_result* result) : result_(result) {}
    int rows() const;
    bool is_null(int row, int column) const;
    std::string text(int row, int column) const;
    std::int64_t int64(int row, int column) const;
    std::optional<std::string> optional_text(int row, int column) const;
    std::optional<std::int64_t> optional_int64(int row, int column) const;
    std::optional<double> optional_real(int row, int column) const;
    bool boolean(int row, int column) const;
    // Rows an INSERT, UPDATE or DELETE changed.
    int affected() const;

  private:
    struct Clear {
        void operator()(pg_result* r) const;
    };
    std::unique_ptr<pg_result, Clear> result_;
};

// Parameters in text format ($1, $2, ...): a null is an empty optional.
class PgParams {
  public:
    PgParams& add(std::int64_t v) { return add(std::optional<std::string>(std::to_string(v))); }
    PgParams& add(double v);
    PgParams& add(const std::string& v) { return add(std::optional<std::string>(v)); }
    PgParams& add(const char* v) { return add(std::optional<std::string>(v)); }
    PgParams& add(bool v) { return add(std::optional<std::string>(v ? "true" : "false")); }
    PgParams& add(const std::optional<std::string>& v) {
        values_.push_back(v);
        return *this;
    }
    PgParams& add(const std::optional<std::int64_t>& v) {
        return add(v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt);
    }
    PgParams& add(const std::optional<double>& v) { return v ? add(*v) : add_null(); }
    PgParams& add_null() { return add(std::optional<std::string>()); }
    const std::vector<std::optional<std::string>>& values() const { return values_; }

  private:
    std::vector<std::optional<std::string>> values_;
};

// A PostgreSQL array literal ({1,2,3} or {"a","b"}) for one text parameter.
std::string pg_array(const std::vector<std::int64_t>& values);
std::string pg_array(const std::vector<std::string>& values);

class PgConnection {
  public:
    // Connects through libpq (the URI, then libpq's environment, ~/.pgpass, pg_service.conf) and
    // sets the session's timeouts.
    explicit PgConnection(const std::string& conninfo);

    // "HOST:PORT/DBNAME" of the server (as libpq resolved it), for messages.
    const std::string& where() const { return where_; }

    PgResult exec(const char* sql);
    // Prepared on first use under a name of its own; `sql` must be a string literal (the key is
    // its address).
    PgResult run(const char* sql, const PgParams& params = {});

  private:
    struct Finish {
        void operator()(pg_conn* c) const;
    };
    [[noreturn]] void fail(std::string_view what) const;
    PgResult check(pg_result* r, std::string_view what) const;
    std::unique_ptr<pg_conn, Finish> conn_;
    std::string where_;
    std::unordered_map<const char*, std::string> prepared_;
};

} // namespace imgsync::storage
