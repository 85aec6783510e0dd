#include "s3/xml.hpp"

#include "util/strings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace imgsync::s3 {

namespace {

using util::trim; // XML white space is ascii_space

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The code point of "#123" or "#x7B"; nullopt when malformed or not a character XML allows.
std::optional<std::uint32_t> numeric_reference(std::string_view ref) {
    if (ref.size() < 2 || ref[0] != '#') {
        return std::nullopt;
    }
    const bool hex = ref[1] == 'x' || ref[1] == 'X';
    const std::string_view digits = ref.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) {
        return std::nullopt;
    }
    std::uint32_t cp = 0;
    for (char c : digits) {
        const int v = hex ? util::hex_value(c) : c >= '0' && c <= '9' ? c - '0' : -1;
        if (v < 0) {
            return std::nullopt;
        }
        cp = cp * (hex ? 16u : 10u) + static_cast<std::uint32_t>(v);
        if (cp > 0x10FFFF) {
            return std::nullopt;
        }
    }
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return std::nullopt;
    }
    return cp;
}

std::string_view local_name(std::string_view name) {
    const auto colon = name.rfind(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool is_name_end(char c) {
    return util::ascii_space(c) || c == '/' || c == '>';
}

// Moves the finished top of the stack into its parent, or into root when it is the root.
void close_top(std::vector<XmlElement>& stack, std::optional<XmlElement>& root) {
    XmlElement done = std::move(stack.back());
    stack.pop_back();
    if (stack.empty()) {
        root = std::move(done);
    } else {
        stack.back().children.push_back(std::move(done));
    }
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    s = trim(s);
    if (s.empty() || s.size() > 20) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
            return std::nullopt;
        }
        v = v * 10 + d;
    }
    return v;
}

std::optional<int> parse_part_number(std::string_view s) {
    const auto v = parse_u64(s);
    if (!v || *v > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
        return std::nullopt;
    }
    return static_cast<int>(*v);
}

bool parse_bool(std::string_view s) {
    return trim(s) == "true";
}

// Replaces & < > and, when `quotes`, " and ' with entities. Without quotes it is text content for
// an element of a request body: quotes need no escaping there, and leaving them alone keeps ETags
// byte-identical to what UploadPart returned, as the SDKs send them.
std::string escape(std::string_view s, bool quotes) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += quotes ? "&quot;" : "\"";
            break;
        case '\'':
            out += quotes ? "&apos;" : "'";
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace

std::string xml_escape(std::string_view s) {
    return escape(s, true);
}

std::string xml_unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto amp = s.find('&', i);
        if (amp == std::string_view::npos) {
            out.append(s.substr(i));
            break;
        }
        out.append(s.substr(i, amp - i));
        // The longest reference worth looking at is "&#x10FFFF;" or "&#1114111;".
        const auto semi = s.substr(amp, 12).find(';');
        if (semi == std::string_view::npos) {
            out += '&';
            i = amp + 1;
            continue;
        }
        const std::string_view ref = s.substr(amp + 1, semi - 1);
        if (ref == "amp") {
            out += '&';
        } else if (ref == "lt") {
            out += '<';
        } else if (ref == "gt") {
            out += '>';
        } else if (ref == "quot") {
            out += '"';
        } else if (ref == "apos") {
            out += '\'';
        } else if (const auto cp = numeric_reference(ref)) {
            append_utf8(out, *cp);
        } else {
            out += '&';
            i = amp + 1;
            continue;
        }
        i = amp + semi + 1;
    }
    return out;
}

const XmlElement* XmlElement::child(std::string_view child_name) const {
    for (const auto& c : children) {
        if (c.name == child_name) {
            return &c;
        }
    }
    return nullptr;
}

std::vector<const XmlElement*> XmlElement::children_named(std::string_view child_name) const {
    std::vector<const XmlElement*> out;
    for (const auto& c : children) {
        if (c.name == child_name) {
            out.push_back(&c);
        }
    }
    return out;
}

std::string XmlElement::child_text(std::string_view child_name) const {
    const XmlElement* c = child(child_name);
    return c == nullptr ? std::string{} : c->text;
}

std::optional<XmlElement> parse_xml(std::string_view s) {
    std::vector<XmlElement> stack;
    std::optional<XmlElement> root;
    const std::size_t n = s.size();
    std::size_t i = 0;

    auto skip_past = [&](std::string_view terminator) {
        const auto end = s.find(terminator, i);
        i = end == std::string_view::npos ? n : end + terminator.size();
    };

    while (i < n && !root) {
        if (s[i] != '<') {
            const auto next = s.find('<', i);
            const auto end = next == std::string_view::npos ? n : next;
            if (!stack.empty()) {
                stack.back().text += xml_unescape(s.substr(i, end - i));
            }
            i = end;
            continue;
        }
        const std::string_view rest = s.substr(i);
        if (rest.substr(0, 4) == "<!--") {
            i += 4;
            skip_past("-->");
        } else if (rest.substr(0, 9) == "<![CDATA[") {
            i += 9;
            const auto end = s.find("]]>", i);
            const auto stop = end == std::string_view::npos ? n : end;
            if (!stack.empty()) {
                stack.back().text.append(s.substr(i, stop - i));
            }
            i = end == std::string_view::npos ? n : end + 3;
        } else if (rest.substr(0, 2) == "<?") {
            i += 2;
            skip_past("?>");
        } else if (rest.substr(0, 2) == "<!") {
            // DOCTYPE and friends: skip to the '>' that closes it, past any [internal subset].
            int bracket_depth = 0;
            i += 2;
            while (i < n && !(s[i] == '>' && bracket_depth <= 0)) {
                if (s[i] == '[') {
                    ++bracket_depth;
                } else if (s[i] == ']') {
                    --bracket_depth;
                }
                ++i;
            }
            i = i < n ? i + 1 : n;
        } else if (rest.substr(0, 2) == "</") {
            std::size_t j = i + 2;
            while (j < n && !is_name_end(s[j])) {
                ++j;
            }
            const std::string_view name = local_name(s.substr(i + 2, j - (i + 2)));
            i = j;
            skip_past(">");
            // Close the nearest open element of that name, and whatever was left open inside
            // it; an end tag that matches nothing open is ignored.
            for (std::size_t k = stack.size(); k-- > 0;) {
                if (stack[k].name == name) {
                    while (stack.size() > k + 1) {
                        close_top(stack, root);
                    }
                    close_top(stack, root);
                    break;
                }
            }
        } else {
            std::size_t j = i + 1;
            while (j < n && !is_name_end(s[j])) {
                ++j;
            }
            if (j == i + 1) {
                // A '<' that starts no tag is text.
                if (!stack.empty()) {
                    stack.back().text += '<';
                }
                ++i;
                continue;
            }
            XmlElement element;
            element.name = std::string(local_name(s.substr(i + 1, j - (i + 1))));
            // Attributes are skipped, honouring quotes so that a '>' inside one does not end
            // the tag early.
            char quote = 0;
            bool self_closing = false;
            while (j < n) {
                const char c = s[j];
                if (quote != 0) {
                    if (c == quote) {
                        quote = 0;
                    }
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '>') {
                    self_closing = j > i + 1 && s[j - 1] == '/';
                    break;
                }
                ++j;
            }
            i = j < n ? j + 1 : n;
            if (stack.size() >= kMaxXmlDepth) {
                return std::nullopt;
            }
            stack.push_back(std::move(element));
            if (self_closing) {
                close_top(stack, root);
            }
        }
    }
    // A truncated document still yields what was read.
    while (!stack.empty()) {
        close_top(stack, root);
    }
    return root;
}

namespace {

S3Error error_from(const XmlElement& e) {
    S3Error err;
    err.code = e.child_text("Code");
    err.message = e.child_text("Message");
    err.request_id = e.child_text("RequestId");
    err.host_id = e.child_text("HostId");
    err.resource = e.child_text("Resource");
    return err;
}

} // namespace

bool is_html_answer(std::string_view content_type, std::string_view body) {
    return content_type.find("text/html") != std::string_view::npos ||
           body.find("<html") != std::string_view::npos ||
           body.find("<HTML") != std::string_view::npos;
}

std::optional<S3Error> parse_error(std::string_view body) {
    const auto root = parse_xml(body);
    if (!root || root->name != "Error") {
        return std::nullopt;
    }
    return error_from(*root);
}

std::optional<std::string> parse_upload_id(std::string_view body) {
    const auto root = parse_xml(body);
    if (!root || root->name != "InitiateMultipartUploadResult") {
        return std::nullopt;
    }
    std::string id = std::string(trim(root->child_text("UploadId")));
    if (id.empty()) {
        return std::nullopt;
    }
    return id;
}

std::optional<ListPartsResult> parse_list_parts(std::string_view body) {
    const auto root = parse_xml(body);
    if (!root || root->name != "ListPartsResult") {
        return std::nullopt;
    }
    ListPartsResult out;
    out.upload_id = root->child_text("UploadId");
    out.is_truncated = parse_bool(root->child_text("IsTruncated"));
    if (root->child("NextPartNumberMarker") != nullptr) {
        out.next_part_number_marker = parse_part_number(root->child_text("NextPartNumberMarker"));
    }
    for (const XmlElement* part : root->children_named("Part")) {
        const auto number = parse_part_number(part->child_text("PartNumber"));
        const auto size = parse_u64(part->child_text("Size"));
        if (!number || !size) {
            continue;
        }
        out.parts.push_back({*number, part->child_text("ETag"), *size});
    }
    return out;
}

CompleteOutcome parse_complete_multipart_upload(std::string_view body) {
    CompleteOutcome out;
    const auto root = parse_xml(body);
    if (!root) {
        return out;
    }
    if (root->name == "Error") {
        out.error = error_from(*root);
    } else if (root->name == "CompleteMultipartUploadResult") {
        CompleteMultipartUploadResult r;
        r.location = root->child_text("Location");
        r.bucket = root->child_text("Bucket");
        r.key = root->child_text("Key");
        r.etag = root->child_text("ETag");
        out.result = std::move(r);
    }
    return out;
}

std::optional<ListBucketResult> parse_list_bucket(std::string_view body) {
    const auto root = parse_xml(body);
    if (!root || root->name != "ListBucketResult") {
        return std::nullopt;
    }
    ListBucketResult out;
    out.is_truncated = parse_bool(root->child_text("IsTruncated"));
    out.next_continuation_token = root->child_text("NextContinuationToken");
    out.next_marker = root->child_text("NextMarker");
    for (const XmlElement* c : root->children_named("Contents")) {
        if (c->child("Key") != nullptr) {
            out.keys.push_back(c->child_text("Key"));
        }
    }
    return out;
}

std::string complete_multipart_body(std::vector<CompletedPart> parts,
                                    std::string_view checksum_element) {
    std::stable_sort(parts.begin(), parts.end(),
                     [](const auto& a, const auto& b) { return a.number < b.number; });
    std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (const auto& part : parts) {
        out += "<Part><PartNumber>";
        out += std::to_string(part.number);
        out += "</PartNumber><ETag>";
        out += escape(part.etag, false);
        out += "</ETag>";
        if (!part.checksum.empty() && !checksum_element.empty()) {
            out += fmt::format("<{0}>{1}</{0}>", checksum_element, escape(part.checksum, false));
        }
        out += "</Part>";
    }
    out += "</CompleteMultipartUpload>";
    return out;
}

} // namespace imgsync::s3
