#include "s3/credential_json.hpp"

#include "util/timefmt.hpp"

#include <cstdint>

namespace imgsync::s3 {

namespace {

constexpr int kMaxDepth = 32;

class Reader {
  public:
    explicit Reader(std::string_view text) : s_(text) {}

    util::Result<JsonMembers> object() {
        JsonMembers members;
        skip_space();
        if (!eat('{')) {
            return util::fail("not a JSON object");
        }
        skip_space();
        if (eat('}')) {
            return finish(std::move(members));
        }
        for (;;) {
            skip_space();
            std::string name;
            if (!string(&name)) {
                return util::fail("a JSON member name is not a valid string");
            }
            skip_space();
            if (!eat(':')) {
                return util::fail("no ':' after a JSON member name");
            }
            skip_space();
            std::string value;
            if (!value_text(&value, 1)) {
                return util::fail("JSON member " + shown(name) + " has no valid value");
            }
            members[name] = std::move(value);
            skip_space();
            if (eat(',')) {
                continue;
            }
            if (eat('}')) {
                return finish(std::move(members));
            }
            return util::fail("no ',' or '}' after JSON member " + shown(name));
        }
    }

  private:
    // Member names are ours to show (a few printable ASCII characters), values never.
    static std::string shown(const std::string& name) {
        std::string out = "\"";
        for (char c : name.substr(0, 40)) {
            out += (c >= 0x20 && c < 0x7f) ? c : '?';
        }
        return out + "\"";
    }

    util::Result<JsonMembers> finish(JsonMembers members) {
        skip_space();
        if (i_ != s_.size()) {
            return util::fail("text after the JSON object");
        }
        return members;
    }

    bool eat(char c) {
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    void skip_space() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
            ++i_;
        }
    }

    static void put_utf8(std::string* out, std::uint32_t cp) {
        if (cp < 0x80) {
            *out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            *out += static_cast<char>(0xc0 | (cp >> 6));
            *out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            *out += static_cast<char>(0xe0 | (cp >> 12));
            *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            *out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            *out += static_cast<char>(0xf0 | (cp >> 18));
            *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            *out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    bool hex4(std::uint32_t* v) {
        if (s_.size() - i_ < 4) {
            return false;
        }
        *v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[i_++];
            int d = -1;
            if (c >= '0' && c <= '9') {
                d = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                d = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                d = c - 'A' + 10;
            }
            if (d < 0) {
                return false;
            }
            *v = *v * 16 + static_cast<std::uint32_t>(d);
        }
        return true;
    }

    bool escape(std::string* out) {
        if (i_ >= s_.size()) {
            return false;
        }
        const char c = s_[i_++];
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *out += c;
            return true;
        case 'b':
            *out += '\b';
            return true;
        case 'f':
            *out += '\f';
            return true;
        case 'n':
            *out += '\n';
            return true;
        case 'r':
            *out += '\r';
            return true;
        case 't':
            *out += '\t';
            return true;
        case 'u':
            break;
        default:
            return false;
        }
        std::uint32_t cp = 0;
        if (!hex4(&cp)) {
            return false;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            return false; // a low surrogate alone
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            std::uint32_t low = 0;
            if (!eat('\\') || !eat('u') || !hex4(&low) || low < 0xdc00 || low > 0xdfff) {
                return false;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        put_utf8(out, cp);
        return true;
    }

    bool string(std::string* out) {
        if (!eat('"')) {
            return false;
        }
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') {
                return true;
            }
            if (static_cast<unsigned char>(c) < 0x20) {
                return false;
            }
            if (c == '\\') {
                if (!escape(out)) {
                    return false;
                }
            } else {
                *out += c;
            }
        }
        return false;
    }

    bool number(std::string* out) {
        const std::size_t start = i_;
        eat('-');
        std::size_t digits = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
            ++i_;
            ++digits;
        }
        if (digits == 0) {
            return false;
        }
        if (eat('.')) {
            digits = 0;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                ++i_;
                ++digits;
            }
            if (digits == 0) {
                return false;
            }
        }
        if (eat('e') || eat('E')) {
            if (!eat('+')) {
                eat('-');
            }
            digits = 0;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                ++i_;
                ++digits;
            }
            if (digits == 0) {
                return false;
            }
        }
        *out = std::string(s_.substr(start, i_ - start));
        return true;
    }

    bool literal(std::string_view word, std::string* out) {
        if (s_.substr(i_, word.size()) != word) {
            return false;
        }
        i_ += word.size();
        *out = std::string(word);
        return true;
    }

    bool value_text(std::string* out, int depth) {
        if (i_ >= s_.size()) {
            return false;
        }
        switch (s_[i_]) {
        case '"':
            return string(out);
        case '{':
        case '[':
            return nested(depth + 1);
        case 't':
            return literal("true", out);
        case 'f':
            return literal("false", out);
        case 'n':
            return literal("null", out);
        default:
            return number(out);
        }
    }

    // An object or array inside the top one: checked, not kept.
    bool nested(int depth) {
        if (depth > kMaxDepth) {
            return false;
        }
        const char open = s_[i_++];
        const char close = open == '{' ? '}' : ']';
        skip_space();
        if (eat(close)) {
            return true;
        }
        for (;;) {
            skip_space();
            std::string ignored;
            if (open == '{') {
                if (!string(&ignored)) {
                    return false;
                }
                skip_space();
                if (!eat(':')) {
                    return false;
                }
                skip_space();
            }
            if (!value_text(&ignored, depth)) {
                return false;
            }
            skip_space();
            if (eat(',')) {
                continue;
            }
            return eat(close);
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

const std::string* member(const JsonMembers& m, std::string_view name) {
    const auto it = m.find(name);
    return it == m.end() ? nullptr : &it->second;
}

const char* kind_name(CredentialJson kind) {
    switch (kind) {
    case CredentialJson::instance_metadata:
        return "the instance metadata service's answer";
    case CredentialJson::container:
        return "the container credentials endpoint's answer";
    case CredentialJson::process:
        return "credential_process output";
    }
    return "the answer";
}

} // namespace

util::Result<JsonMembers> parse_json_object(std::string_view text) {
    return Reader(text).object();
}

util::Result<Credentials> parse_credential_json(std::string_view text, CredentialJson kind) {
    const std::string what = kind_name(kind);
    auto parsed = parse_json_object(text);
    if (!parsed) {
        return util::fail(what + " is not valid JSON: " + parsed.error());
    }
    const JsonMembers& m = *parsed;
    if (kind == CredentialJson::process) {
        const std::string* version = member(m, "Version");
        if (version == nullptr) {
            return util::fail(what + " has no \"Version\" (it must be 1)");
        }
        if (*version != "1") {
            return util::fail(what + " has \"Version\" " + version->substr(0, 8) +
                              ", and only version 1 exists");
        }
    }
    if (kind == CredentialJson::instance_metadata) {
        const std::string* code = member(m, "Code");
        if (code != nullptr && *code != "Success") {
            return util::fail(what + " has \"Code\" other than \"Success\"");
        }
    }
    const std::string* key = member(m, "AccessKeyId");
    const std::string* secret = member(m, "SecretAccessKey");
    if (key == nullptr || key->empty()) {
        return util::fail(what + " has no \"AccessKeyId\"");
    }
    if (secret == nullptr || secret->empty()) {
        return util::fail(what + " has no \"SecretAccessKey\"");
    }
    const char* token_name = kind == CredentialJson::process ? "SessionToken" : "Token";
    const std::string* token = member(m, token_name);
    if (kind != CredentialJson::process && (token == nullptr || token->empty())) {
        return util::fail(what + " has no \"Token\"");
    }
    Credentials c;
    c.access_key = *key;
    c.secret_key = Secret(*secret);
    if (token != nullptr && *token != "null") {
        c.session_token = Secret(*token);
    }
    const std::string* expiration = member(m, "Expiration");
    if (expiration != nullptr && !expiration->empty() && *expiration != "null") {
        auto epoch = util::parse_iso8601_utc(*expiration);
        if (!epoch) {
            return util::fail(what + " has an \"Expiration\" that is not an ISO 8601 time");
        }
        c.expires_at = *epoch;
    } else if (kind != CredentialJson::process) {
        return util::fail(what + " has no \"Expiration\"");
    }
    return c;
}

} // namespace imgsync::s3
