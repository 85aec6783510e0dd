#include "storage/sqlite.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cerrno>

namespace imgsync::storage {

void throw_sqlite(sqlite3* db, int rc, std::string_view what) {
    std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    // Name the file: "state file /var/lib/imgsync/state.db: locked by another program (...)".
    const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
    std::string subject = file && *file && what == "state file" ? fmt::format("state file {}", file)
                                                                : std::string(what);
    // An I/O error says little by itself; the errno behind it names the problem.
    int os_error = db ? sqlite3_system_errno(db) : 0;
    int primary = rc & 0xff;
    if (primary == SQLITE_IOERR && os_error == ENOSPC) {
        primary = SQLITE_FULL;
    } else if (primary == SQLITE_IOERR && os_error == EROFS) {
        primary = SQLITE_READONLY;
    }
    switch (primary) {
    case SQLITE_NOTADB:
        detail = "not an SQLite database, so not an imgsync state file (is --db the right file?)";
        break;
    case SQLITE_CORRUPT:
        detail = "database is corrupt (" + detail + "); imgsync check lists the damage";
        break;
    case SQLITE_READONLY:
        detail = "read-only (" + detail + ")";
        break;
    case SQLITE_FULL:
        detail = "disk full while writing it (nothing of the failed transaction was kept)";
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        detail = "locked by another program (" + detail + ")";
        break;
    case SQLITE_CANTOPEN:
        detail = "cannot open it or its -wal/-shm files next to it (" + detail + ")";
        break;
    default:
        break;
    }
    for (auto& c : detail) { // one line, whatever SQLite said
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    throw Error(ExitCode::state_error, fmt::format("{}: {}", subject, detail));
}

void Statement::Finalize::operator()(sqlite3_stmt* stmt) const {
    sqlite3_finalize(stmt);
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    stmt_.reset(raw);
    if (rc != SQLITE_OK) {
        throw_sqlite(db, rc, "state file");
    }
}

Statement& Statement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_.get(), index, value);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    sqlite3_bind_double(stmt_.get(), index, value);
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
    sqlite3_bind_null(stmt_.get(), index);
    return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
    return value ? bind(index, std::string_view(*value)) : bind(index, std::nullopt);
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
}

Statement& Statement::bind(int index, const std::optional<double>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    int code = sqlite3_extended_errcode(db_);
    sqlite3_reset(stmt_.get());
    throw_sqlite(db_, code, "state file");
}

int Statement::run() {
    while (step()) {
    }
    int changes = sqlite3_changes(db_);
    reset();
    return changes;
}

void Statement::reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

std::int64_t Statement::int64(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}

double Statement::real(int column) const {
    return sqlite3_column_double(stmt_.get(), column);
}

std::string Statement::text(int column) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)))
             : std::string();
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::optional<std::string> Statement::optional_text(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return text(column);
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return int64(column);
}

std::optional<double> Statement::optional_real(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return real(column);
}

void Database::Close::operator()(sqlite3* db) const {
    sqlite3_close_v2(db);
}

namespace {

// A statement inside a transaction keeps the pages it changes in a statement journal, so that
// it alone can be rolled back. SQLite keeps that journal in memory up to 64 KiB, then moves it to
// a file in /var/tmp for the rest of the transaction: one of add's 500-row batches did so after
// a B-tree split, and every later INSERT of the batch then wrote its pages there (4,500 pwrites
// for 2,000 files). 256 KiB (64 pages) keeps any single-row statement in memory. Not more: SQLite
// allocates the whole threshold as one chunk for each statement journal it opens, and a bulk
// UPDATE (retry --all on a million rows) still spills, so memory stays bounded.
void configure_sqlite_once() {
    static const int rc = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 256 << 10);
    (void)rc; // SQLITE_MISUSE if SQLite was initialised already: the default then applies
}

} // namespace

Database::Database(const std::string& path, Mode mode) : path_(path) {
    configure_sqlite_once();
    sqlite3* raw = nullptr;
    int flags = mode == Mode::read_only ? SQLITE_OPEN_READONLY
                                        : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    // NOFOLLOW: a symbolic link at the state file's path is refused, not followed.
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                             nullptr);
    handle_.reset(raw);
    if (rc != SQLITE_OK) {
        throw Error(ExitCode::state_error,
                    fmt::format("cannot open state file {}: {}", path,
                                raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(raw, 1);
    // Another imgsync (status during a pass) may hold the write lock for a moment.
    sqlite3_busy_timeout(raw, 5000);
}

void Database::exec(std::string_view sql) {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(handle_.get(), text.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) {
        throw_sqlite(handle_.get(), sqlite3_extended_errcode(handle_.get()), "state file");
    }
}

std::int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(handle_.get());
}

Transaction::Transaction(Database& db) : db_(db) {
    db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    if (open_) {
        sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    open_ = false;
}

ReadTransaction::ReadTransaction(Database& db) : db_(db) {
    db_.exec("BEGIN DEFERRED");
}

ReadTransaction::~ReadTransaction() {
    // Nothing was written: ending it either way only drops the snapshot.
    sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

} // namespace imgsync::storage
