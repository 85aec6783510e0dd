#include "storage/db_target.hpp"

#include "util/strings.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace imgsync::storage {

namespace {

// "scheme" of "scheme://...", or empty when the text does not start like a URI (RFC 3986: a
// letter, then letters, digits, '+', '-' or '.').
std::string_view uri_scheme(std::string_view text) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos || sep == 0) {
        return {};
    }
    auto scheme = text.substr(0, sep);
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (!alpha(scheme[0])) {
        return {};
    }
    for (char c : scheme) {
        if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') {
            return {};
        }
    }
    return scheme;
}

} // namespace

bool uri_has_password(std::string_view uri) {
    auto sep = uri.find("://");
    if (sep == std::string_view::npos) {
        return false;
    }
    std::string_view rest = uri.substr(sep + 3);
    auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    auto at = authority.rfind('@');
    if (at != std::string_view::npos &&
        authority.substr(0, at).find(':') != std::string_view::npos) {
        return true;
    }
    if (authority_end == std::string_view::npos) {
        return false;
    }
    auto query_start = rest.find('?');
    if (query_start == std::string_view::npos) {
        return false;
    }
    std::string_view query = rest.substr(query_start + 1);
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view param = query.substr(0, amp);
        if (util::ascii_lower(std::string(param.substr(0, param.find('=')))) == "password") {
            return true;
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return false;
}

util::Result<DbTarget> classify_db(std::string_view text, DbSource source,
                                   std::string_view option) {
    if (text.empty()) {
        return util::fail(
            fmt::format("{} must not be empty (a state file path or a postgresql:// URI)", option));
    }
    std::string scheme = util::ascii_lower(std::string(uri_scheme(text)));
    if (scheme.empty()) {
        return DbTarget{Backend::sqlite, std::string(text)};
    }
    if (scheme != "postgresql" && scheme != "postgres") {
        return util::fail(fmt::format("{}: {}:// is not a state file path or a PostgreSQL URI "
                                      "(postgresql://USER@HOST:PORT/DBNAME)",
                                      option, util::printable(scheme)));
    }
    if (source == DbSource::command_line && uri_has_password(text)) {
        return util::fail(fmt::format(
            "{}: a password in the URI on the command line is visible to every user of this "
            "host; put it in ~/.pgpass (or PGPASSFILE), PGPASSWORD, or the environment or the "
            "config file ({})",
            option, option == "--db" ? "IMGSYNC_DB" : "IMGSYNC_TO"));
    }
    return DbTarget{Backend::postgresql, std::string(text)};
}

} // namespace imgsync::storage
