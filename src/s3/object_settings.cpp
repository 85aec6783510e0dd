#include "s3/object_settings.hpp"

#include "s3/xml.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace imgsync::s3 {

namespace {

constexpr std::size_t max_header_value = 1024;
constexpr std::size_t max_user_metadata = 2048; // AWS: names and values of x-amz-meta-*
constexpr std::size_t max_tags = 10;
constexpr std::string_view own_metadata = "sha256";

bool printable_ascii(std::string_view s) {
    for (char c : s) {
        if (c < 0x20 || c > 0x7E) {
            return false;
        }
    }
    return true;
}

// A shown value: escaped and cut, so a hostile one cannot break the message.
std::string shown(std::string_view s) {
    return "\"" + util::printable(s.substr(0, 64)) + (s.size() > 64 ? "...\"" : "\"");
}

util::Result<void> check_header_text(std::string_view option, std::string_view value) {
    if (value.size() > max_header_value) {
        return util::fail(fmt::format("{}: {} bytes, at most {} allowed", option, value.size(),
                                      max_header_value));
    }
    if (!printable_ascii(value)) {
        return util::fail(fmt::format("{}: {} holds a character outside printable ASCII (encode "
                                      "it, e.g. filename*=UTF-8''...)",
                                      option, shown(value)));
    }
    if (util::trim(value) != value) {
        return util::fail(
            fmt::format("{}: {} has leading or trailing space", option, shown(value)));
    }
    return {};
}

util::Result<void> check_storage_class(std::string_view s) {
    if (s.empty() || s.size() > 64) {
        return util::fail(fmt::format("--storage-class: {} must be 1 to 64 characters", shown(s)));
    }
    for (char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) {
            return util::fail(fmt::format(
                "--storage-class: {} may hold only letters, digits, '_' and '-' (e.g. STANDARD_IA)",
                shown(s)));
        }
    }
    return {};
}

util::Result<std::pair<std::string, std::string>> parse_metadata(std::string_view entry) {
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return util::fail(fmt::format("--metadata: {} is not KEY=VALUE", shown(entry)));
    }
    std::string key = util::ascii_lower(entry.substr(0, eq));
    const std::string_view value = entry.substr(eq + 1);
    for (char c : key) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
            return util::fail(fmt::format(
                "--metadata: key {} may hold only letters, digits, '-' and '_'", shown(key)));
        }
    }
    if (key == own_metadata) {
        return util::fail("--metadata: the key sha256 is imgsync's own (x-amz-meta-sha256 always "
                          "holds the image's SHA-256)");
    }
    if (!printable_ascii(value) || util::trim(value) != value) {
        return util::fail(fmt::format("--metadata: the value of {} must be printable ASCII without "
                                      "surrounding space",
                                      key));
    }
    return std::make_pair(std::move(key), std::string(value));
}

// %XX decoded; anything else is taken as typed.
util::Result<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        const int hi = i + 2 < s.size() ? util::hex_value(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? util::hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            return util::fail("a '%' not followed by two hex digits");
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// Characters, not bytes: AWS counts the key's and value's Unicode characters.
std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

bool has_control(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F ||
            (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
             static_cast<unsigned char>(s[i + 1]) <= 0x9F)) {
            return true;
        }
    }
    return false;
}

struct Tagging {
    std::string canonical;
    std::vector<std::pair<std::string, std::string>> tags;
};

util::Result<Tagging> parse_tagging(std::string_view text) {
    Tagging result;
    std::string& out = result.canonical;
    std::set<std::string> keys;
    std::size_t count = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto amp = std::min(text.find('&', start), text.size());
        const std::string_view pair = text.substr(start, amp - start);
        start = amp + 1;
        const auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq));
        auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (!key || !value) {
            return util::fail(
                fmt::format("--tagging: {}: {}", shown(pair), key ? value.error() : key.error()));
        }
        if (key->empty() || utf8_length(*key) > 128) {
            return util::fail(
                fmt::format("--tagging: tag keys must be 1 to 128 characters ({})", shown(pair)));
        }
        if (utf8_length(*value) > 256) {
            return util::fail(
                fmt::format("--tagging: the value of {} is over 256 characters", shown(*key)));
        }
        if (!util::is_valid_utf8(*key) || !util::is_valid_utf8(*value) || has_control(*key) ||
            has_control(*value)) {
            return util::fail(
                fmt::format("--tagging: {} must be UTF-8 without control characters", shown(pair)));
        }
        if (key->rfind("aws:", 0) == 0) {
            return util::fail(
                fmt::format("--tagging: keys starting with aws: are reserved ({})", shown(*key)));
        }
        if (!keys.insert(*key).second) {
            return util::fail(fmt::format("--tagging: the key {} is given twice", shown(*key)));
        }
        if (++count > max_tags) {
            return util::fail(fmt::format("--tagging: at most {} tags per object", max_tags));
        }
        out += out.empty() ? "" : "&";
        out += uri_encode(*key, true) + "=" + uri_encode(*value, true);
        result.tags.emplace_back(std::move(key).value(), std::move(value).value());
    }
    return result;
}

} // namespace

std::string_view to_string(CannedAcl acl) {
    switch (acl) {
    case CannedAcl::private_acl:
        return "private";
    case CannedAcl::public_read:
        return "public-read";
    case CannedAcl::public_read_write:
        return "public-read-write";
    case CannedAcl::authenticated_read:
        return "authenticated-read";
    case CannedAcl::aws_exec_read:
        return "aws-exec-read";
    case CannedAcl::bucket_owner_read:
        return "bucket-owner-read";
    case CannedAcl::bucket_owner_full_control:
        return "bucket-owner-full-control";
    }
    return "private";
}

std::string_view to_string(Sse sse) {
    return sse == Sse::kms ? "aws:kms" : "AES256";
}

util::Result<ObjectSettings> make_object_settings(const ObjectSettingsInput& in) {
    ObjectSettings out;
    if (!in.storage_class.empty()) {
        if (auto checked = check_storage_class(in.storage_class); !checked) {
            return util::fail(checked.error());
        }
        out.storage_class = in.storage_class;
    }
    for (const auto& [option, value, target] :
         {std::tuple{"--cache-control", &in.cache_control, &out.cache_control},
          std::tuple{"--content-disposition", &in.content_disposition, &out.content_disposition}}) {
        if (!value->empty()) {
            if (auto checked = check_header_text(option, *value); !checked) {
                return util::fail(checked.error());
            }
            *target = *value;
        }
    }
    std::size_t metadata_bytes = own_metadata.size() + 64;
    for (const auto& entry : in.metadata) {
        auto parsed = parse_metadata(entry);
        if (!parsed) {
            return util::fail(parsed.error());
        }
        for (const auto& [name, value] : out.metadata) {
            if (name == parsed->first) {
                return util::fail(fmt::format("--metadata: the key {} is given twice", name));
            }
        }
        metadata_bytes += parsed->first.size() + parsed->second.size();
        out.metadata.push_back(std::move(parsed).value());
    }
    if (metadata_bytes > max_user_metadata) {
        return util::fail(fmt::format("--metadata: {} bytes of names and values with "
                                      "x-amz-meta-sha256; S3 allows {}",
                                      metadata_bytes, max_user_metadata));
    }
    if (!in.tagging.empty()) {
        auto tagging = parse_tagging(in.tagging);
        if (!tagging) {
            return util::fail(tagging.error());
        }
        out.tagging = std::move(tagging->canonical);
        out.tags = std::move(tagging->tags);
    }
    out.acl = in.acl;
    out.sse = in.sse;
    out.checksum = in.checksum_algorithm;
    if (!in.sse_kms_key_id.empty()) {
        if (in.sse != Sse::kms) {
            return util::fail("--sse-kms-key-id needs --sse aws:kms");
        }
        if (auto checked = check_header_text("--sse-kms-key-id", in.sse_kms_key_id); !checked) {
            return util::fail(checked.error());
        }
        out.sse_kms_key_id = in.sse_kms_key_id;
    }
    return out;
}

std::vector<Header> object_headers(const ObjectSettings& s, std::string_view sha256_hex) {
    std::vector<Header> h;
    if (!s.cache_control.empty()) {
        h.push_back({"cache-control", s.cache_control});
    }
    if (!s.content_disposition.empty()) {
        h.push_back({"content-disposition", s.content_disposition});
    }
    if (s.acl) {
        h.push_back({"x-amz-acl", std::string(to_string(*s.acl))});
    }
    for (const auto& [name, value] : s.metadata) {
        h.push_back({"x-amz-meta-" + name, value});
    }
    h.push_back({"x-amz-meta-sha256", std::string(sha256_hex)});
    if (s.sse) {
        h.push_back({"x-amz-server-side-encryption", std::string(to_string(*s.sse))});
        if (!s.sse_kms_key_id.empty()) {
            h.push_back({"x-amz-server-side-encryption-aws-kms-key-id", s.sse_kms_key_id});
        }
    }
    if (!s.storage_class.empty()) {
        h.push_back({"x-amz-storage-class", s.storage_class});
    }
    if (!s.tagging.empty()) {
        h.push_back({"x-amz-tagging", s.tagging});
    }
    return h;
}

std::string tagging_body(const std::vector<std::pair<std::string, std::string>>& tags) {
    std::string body = "<Tagging><TagSet>";
    for (const auto& [key, value] : tags) {
        body +=
            "<Tag><Key>" + xml_escape(key) + "</Key><Value>" + xml_escape(value) + "</Value></Tag>";
    }
    return body + "</TagSet></Tagging>";
}

} // namespace imgsync::s3
