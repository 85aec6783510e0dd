// What --db names: a SQLite state file (a path), or a PostgreSQL database (a postgresql:// or
// postgres:// URI, which libpq parses, with its environment, ~/.pgpass and pg_service.conf).
// Pure: the text and where it came from are parameters.
#pragma once

#include "util/result.hpp"

#include <string>
#include <string_view>

namespace imgsync::storage {

enum class Backend { sqlite, postgresql };

struct DbTarget {
    Backend backend = Backend::sqlite;
    std::string value; // the path, or the URI as given (it may hold a password: never print it)
};

// Where the value came from: a password may sit in the config file or the environment (only the
// owner reads them), never on the command line, where every user of the host sees it (ps).
enum class DbSource { command_line, environment_or_config };

// Refuses an empty value, a PostgreSQL URI with a password given on the command line, and a URI of
// any other scheme (which would otherwise become a relative path such as "http:").
// `option` names the value in the messages (--db, or migrate's --to).
util::Result<DbTarget> classify_db(std::string_view text, DbSource source,
                                   std::string_view option = "--db");

// Whether a PostgreSQL URI carries a password: in its user info (user:password@) or as a
// password= parameter.
bool uri_has_password(std::string_view uri);

} // namespace imgsync::storage
