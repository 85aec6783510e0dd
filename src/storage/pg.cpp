#include "storage/pg.hpp"

#include "util/text.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace imgsync::storage {

namespace {

// libpq's messages end in a newline and may hold several lines ("connection to server at ...
// failed: FATAL: ..."): the first non-empty line, trimmed, is the cause.
std::string first_line(const char* message) {
    std::string s = message ? message : "";
    std::string out;
    std::size_t start = 0;
    while (start < s.size()) {
        auto end = s.find('\n', start);
        std::string line = s.substr(start, end == std::string::npos ? end : end - start);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) {
            line.pop_back();
        }
        if (!line.empty()) {
            out = line;
            break;
        }
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return out.empty() ? "no answer from the server" : util::printable(out);
}

std::string quote_array_element(const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
    return out;
}

} // namespace

void PgResult::Clear::operator()(pg_result* r) const {
    PQclear(r);
}

int PgResult::rows() const {
    return PQntuples(result_.get());
}

bool PgResult::is_null(int row, int column) const {
    return PQgetisnull(result_.get(), row, column) != 0;
}

std::string PgResult::text(int row, int column) const {
    return std::string(PQgetvalue(result_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t PgResult::int64(int row, int column) const {
    return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

std::optional<std::string> PgResult::optional_text(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return text(row, column);
}

std::optional<std::int64_t> PgResult::optional_int64(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return int64(row, column);
}

std::optional<double> PgResult::optional_real(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    const char* v = PQgetvalue(result_.get(), row, column);
    double d = 0;
    std::from_chars(v, v + std::strlen(v), d);
    return d;
}

bool PgResult::boolean(int row, int column) const {
    return PQgetvalue(result_.get(), row, column)[0] == 't';
}

int PgResult::affected() const {
    return std::atoi(PQcmdTuples(result_.get()));
}

PgParams& PgParams::add(double v) {
    return add(std::optional<std::string>(fmt::format("{}", v)));
}

std::string pg_array(const std::vector<std::int64_t>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += (i ? "," : "") + std::to_string(values[i]);
    }
    return out + "}";
}

std::string pg_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += (i ? "," : "") + quote_array_element(values[i]);
    }
    return out + "}";
}

void PgConnection::Finish::operator()(pg_conn* c) const {
    PQfinish(c);
}

PgConnection::PgConnection(const std::string& conninfo) {
    // Defaults first: the URI (expanded from dbname) and libpq's environment override them.
    // Keepalives and a TCP user timeout notice a partitioned server within about half a minute
    // instead of the kernel's two hours.
    const char* keys[] = {"connect_timeout",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "application_name",
                          "dbname",
                          nullptr};
    const char* values[] = {"10", "10", "5", "3", "30000", "imgsync", conninfo.c_str(), nullptr};
    conn_.reset(PQconnectdbParams(keys, values, 1));
    const char* host = conn_ ? PQhost(conn_.get()) : nullptr;
    const char* port = conn_ ? PQport(conn_.get()) : nullptr;
    const char* db = conn_ ? PQdb(conn_.get()) : nullptr;
    where_ =
        fmt::format("{}:{}/{}", util::printable(host && *host ? host : "?"),
                    util::printable(port && *port ? port : "5432"), util::printable(db ? db : "?"));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
        fail("cannot connect");
    }
    // No statement may hang a pass, and no transaction may stay open (it would hold back vacuum
    // and the rows it locked). Times in UTC for the leases' timestamps.
    exec("SET statement_timeout = '30s'; SET idle_in_transaction_session_timeout = '60s'; "
         "SET lock_timeout = '10s'; SET TIME ZONE 'UTC'; SET client_min_messages = warning");
}

void PgConnection::fail(std::string_view what) const {
    throw Error(ExitCode::state_error,
                fmt::format("PostgreSQL at {}: {}: {}", where_, what,
                            first_line(conn_ ? PQerrorMessage(conn_.get()) : nullptr)));
}

PgResult PgConnection::check(pg_result* r, std::string_view what) const {
    PgResult result(r);
    auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        const char* message = r ? PQresultErrorMessage(r) : nullptr;
        if (!message || !*message) {
            fail(what);
        }
        throw Error(ExitCode::state_error,
                    fmt::format("PostgreSQL at {}: {}: {}", where_, what, first_line(message)));
    }
    return result;
}

PgResult PgConnection::exec(const char* sql) {
    return check(PQexec(conn_.get(), sql), "statement failed");
}

PgResult PgConnection::run(const char* sql, const PgParams& params) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
        std::string name = fmt::format("imgsync_{}", prepared_.size() + 1);
        check(PQprepare(conn_.get(), name.c_str(), sql, 0, nullptr), "statement failed");
        it = prepared_.emplace(sql, std::move(name)).first;
    }
    std::vector<const char*> values;
    values.reserve(params.values().size());
    for (const auto& v : params.values()) {
        values.push_back(v ? v->c_str() : nullptr);
    }
    return check(PQexecPrepared(conn_.get(), it->second.c_str(), static_cast<int>(values.size()),
                                values.data(), nullptr, nullptr, 0),
                 "statement failed");
}

} // namespace imgsync::storage
