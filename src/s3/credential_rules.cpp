#include "s3/credential_rules.hpp"

#include "util/strings.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace imgsync::s3 {

namespace {

bool ipv4_loopback(std::string_view host) {
    // 127.0.0.0/8 as a dotted quad
    if (host.rfind("127.", 0) != 0) {
        return false;
    }
    int parts = 0;
    std::size_t i = 0;
    while (i <= host.size()) {
        const auto dot = host.find('.', i);
        const auto end = dot == std::string_view::npos ? host.size() : dot;
        const auto part = host.substr(i, end - i);
        int v = -1;
        const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (part.empty() || ec != std::errc() || p != part.data() + part.size() || v > 255) {
            return false;
        }
        ++parts;
        i = end + 1;
        if (dot == std::string_view::npos) {
            break;
        }
    }
    return parts == 4;
}

} // namespace

util::Result<std::vector<std::string>> split_command(std::string_view command) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < command.size(); ++i) {
        const char c = command[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) {
                words.push_back(std::move(word));
                word.clear();
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if (c == '\'') {
            const auto end = command.find('\'', i + 1);
            if (end == std::string_view::npos) {
                return util::fail("unterminated single quote in the command");
            }
            word.append(command.substr(i + 1, end - i - 1));
            i = end;
        } else if (c == '"') {
            std::size_t j = i + 1;
            for (; j < command.size() && command[j] != '"'; ++j) {
                if (command[j] == '\\' && j + 1 < command.size() &&
                    std::string_view("\"\\$`").find(command[j + 1]) != std::string_view::npos) {
                    ++j;
                }
                word += command[j];
            }
            if (j >= command.size()) {
                return util::fail("unterminated double quote in the command");
            }
            i = j;
        } else if (c == '\\') {
            if (i + 1 >= command.size()) {
                return util::fail("the command ends with a backslash");
            }
            word += command[++i];
        } else {
            word += c;
        }
    }
    if (in_word) {
        words.push_back(std::move(word));
    }
    if (words.empty()) {
        return util::fail("the command is empty");
    }
    return words;
}

std::optional<util::Result<std::string>> container_url(const EnvLookup& env) {
    if (auto rel = get_env(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
        if (rel->front() != '/' || rel->find_first_of(" \r\n#") != std::string::npos) {
            return util::Result<std::string>(util::fail(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with '/'"));
        }
        return util::Result<std::string>("http://169.254.170.2" + *rel);
    }
    auto full = get_env(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (!full) {
        return std::nullopt;
    }
    const std::string bad = "AWS_CONTAINER_CREDENTIALS_FULL_URI " + util::printable(*full);
    const auto scheme_end = full->find("://");
    const std::string scheme =
        scheme_end == std::string::npos ? "" : util::ascii_lower(full->substr(0, scheme_end));
    if (scheme != "http" && scheme != "https") {
        return util::Result<std::string>(util::fail(bad + " is not an http:// or https:// URL"));
    }
    const std::string_view rest = std::string_view(*full).substr(scheme_end + 3);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.empty() || authority.find('@') != std::string_view::npos ||
        full->find_first_of(" \r\n") != std::string::npos) {
        return util::Result<std::string>(util::fail(bad + " is not a URL of a host"));
    }
    if (scheme == "https") {
        return util::Result<std::string>(*full);
    }
    std::string_view host = authority;
    if (host.front() == '[') {
        host = host.substr(0, host.find(']') + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    const std::string h = util::ascii_lower(host);
    static constexpr std::array<std::string_view, 5> allowed = {
        "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"};
    const bool ok =
        ipv4_loopback(h) || std::find(allowed.begin(), allowed.end(), h) != allowed.end();
    if (!ok) {
        return util::Result<std::string>(
            util::fail(bad + ": over http it may name only a loopback address, 169.254.170.2, "
                             "169.254.170.23 or fd00:ec2::23 (use https for another host)"));
    }
    return util::Result<std::string>(*full);
}

std::int64_t refresh_time(std::int64_t obtained_at, std::int64_t expires_at) {
    const std::int64_t life = expires_at - obtained_at;
    const std::int64_t margin = std::min<std::int64_t>(300, life / 2);
    return std::max(obtained_at + 1, expires_at - margin);
}

} // namespace imgsync::s3
