#include "util/http_client.hpp"

#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace imgsync::util {

namespace {

constexpr std::size_t max_body = 4 * 1024 * 1024;
static_assert(std::is_same_v<curl_off_t, std::int64_t>, "seek_body takes curl_off_t");

struct CurlGlobal {
    CurlGlobal() {
        // libcurl's OpenSSL backend (Debian's libcurl4 included) appends the secrets of every TLS
        // session to $SSLKEYLOGFILE, a file it opens in curl_global_init. Anyone who can read it
        // can decrypt captured traffic, signatures and payloads alike: an unattended uploader
        // does not do that because a variable was left in its environment. Removed before curl
        // looks; the commands warn (HttpClient::ignored_tls_keylog).
        if (const char* keylog = std::getenv("SSLKEYLOGFILE"); keylog && *keylog) {
            ignored_keylog = keylog;
            ::unsetenv("SSLKEYLOGFILE");
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
    }
    ~CurlGlobal() { curl_global_cleanup(); }
    std::optional<std::string> ignored_keylog;
};

CurlGlobal& ensure_global() {
    static CurlGlobal global;
    return global;
}

Transport classify(CURLcode code) {
    switch (code) {
    case CURLE_OK:
        return Transport::ok;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return Transport::dns;
    case CURLE_COULDNT_CONNECT:
        return Transport::connect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return Transport::tls;
    case CURLE_OPERATION_TIMEDOUT:
        return Transport::timeout;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return Transport::dropped;
    case CURLE_ABORTED_BY_CALLBACK:
        return Transport::aborted;
    default:
        return Transport::other;
    }
}

} // namespace

const char* transport_name(Transport t) {
    switch (t) {
    case Transport::ok:
        return "ok";
    case Transport::dns:
        return "dns";
    case Transport::connect:
        return "connect";
    case Transport::tls:
        return "tls";
    case Transport::timeout:
        return "timeout";
    case Transport::dropped:
        return "dropped";
    case Transport::aborted:
        return "aborted";
    case Transport::other:
        return "other";
    }
    return "other";
}

std::optional<std::uint64_t> body_seek_target(std::uint64_t length, std::uint64_t position,
                                              std::int64_t offset, int origin) {
    std::uint64_t base = 0;
    switch (origin) {
    case SEEK_SET:
        break;
    case SEEK_CUR:
        base = position;
        break;
    case SEEK_END:
        base = length;
        break;
    default:
        return std::nullopt;
    }
    if (offset < 0) {
        auto back = static_cast<std::uint64_t>(-(offset + 1)) + 1; // no overflow at INT64_MIN
        if (back > base) {
            return std::nullopt;
        }
        return base - back;
    }
    auto forward = static_cast<std::uint64_t>(offset);
    if (forward > length - base) {
        return std::nullopt;
    }
    return base + forward;
}

struct HttpClient::Multi {
    struct Free {
        void operator()(CURLM* m) const { curl_multi_cleanup(m); }
    };
    std::unique_ptr<CURLM, Free> handle;
};

struct HttpClient::Transfer {
    struct EasyFree {
        void operator()(CURL* e) const { curl_easy_cleanup(e); }
    };
    struct ListFree {
        void operator()(curl_slist* l) const { curl_slist_free_all(l); }
    };
    std::unique_ptr<CURL, EasyFree> easy{curl_easy_init()};
    std::unique_ptr<curl_slist, ListFree> headers;
    HttpClient* client = nullptr;
    std::uint64_t tag = 0;
    HttpRequest request;
    HttpResponse response;
    std::uint64_t sent = 0; // position in the body: the next byte to hand to curl
    bool paused = false;
    double started = 0;
    char error[CURL_ERROR_SIZE] = {};
};

HttpClient::HttpClient(const Options& options)
    : options_(options), multi_(std::make_unique<Multi>()) {
    ensure_global();
    multi_->handle.reset(curl_multi_init());
    if (!multi_->handle) {
        throw std::runtime_error("curl_multi_init failed");
    }
    curl_multi_setopt(multi_->handle.get(), CURLMOPT_MAX_HOST_CONNECTIONS,
                      options_.max_host_connections);
    curl_multi_setopt(multi_->handle.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
}

const std::optional<std::string>& HttpClient::ignored_tls_keylog() {
    return ensure_global().ignored_keylog;
}

HttpClient::~HttpClient() {
    for (auto& [tag, t] : transfers_) {
        curl_multi_remove_handle(multi_->handle.get(), t->easy.get());
    }
}

std::size_t HttpClient::read_body(char* buffer, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t room = size * n;
    std::uint64_t left = t->request.length - t->sent;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, left));
    if (want == 0) {
        return 0;
    }
    if (t->client->gate_) {
        std::size_t allowed = t->client->gate_(want);
        if (allowed == 0) {
            t->paused = true;
            return CURL_READFUNC_PAUSE;
        }
        want = std::min(want, allowed);
    }
    if (t->request.body_fd >= 0) {
        long long got = read_at(t->request.body_fd, buffer, want, t->request.offset + t->sent);
        // A file that shrank or failed under us: abort rather than send a short body (the
        // server would refuse it anyway, because Content-Length and the hashes are fixed).
        if (got <= 0) {
            return CURL_READFUNC_ABORT;
        }
        want = static_cast<std::size_t>(got);
    } else {
        std::memcpy(buffer, t->request.memory.data() + t->sent, want);
    }
    t->sent += want;
    t->client->bytes_sent_total_ += want;
    return want;
}

// curl rewinds the body to send it again (see body_seek_target). The body is read with pread from
// `offset + sent`, or copied from memory, so moving `sent` is the whole seek: there is no file
// position and no running hash to restore. bytes_sent_total_ is not taken back (the bytes did
// cross the wire, and the resend crosses it again), and the gate meters the resent bytes again.
int HttpClient::seek_body(void* user, std::int64_t offset, int origin) {
    auto* t = static_cast<Transfer*>(user);
    auto target = body_seek_target(t->request.length, t->sent, offset, origin);
    if (!target) {
        return CURL_SEEKFUNC_FAIL;
    }
    t->sent = *target;
    ++t->response.body_rewinds;
    return CURL_SEEKFUNC_OK;
}

std::size_t HttpClient::write_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t bytes = size * n;
    if (t->response.body.size() < max_body) {
        t->response.body.append(data, std::min(bytes, max_body - t->response.body.size()));
    }
    return bytes;
}

std::size_t HttpClient::header_line(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    // Without allocating: a pass sees about eight header lines per request.
    std::string_view line(data, size * n);
    if (line.substr(0, 5) == "HTTP/") {
        // A new status line (after "100 Continue"): forget the interim response's headers.
        t->response.etag.clear();
        t->response.date.clear();
        t->response.retry_after.clear();
        t->response.content_length.clear();
        t->response.meta_sha256.clear();
        t->response.checksum.clear();
        return size * n;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        return size * n;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "etag")) {
        t->response.etag.assign(value);
    } else if (iequals(name, "date")) {
        t->response.date.assign(value);
    } else if (iequals(name, "retry-after")) {
        t->response.retry_after.assign(value);
    } else if (iequals(name, "x-amz-request-id")) {
        t->response.request_id.assign(value);
    } else if (iequals(name, "content-type")) {
        t->response.content_type.assign(value);
    } else if (iequals(name, "content-length")) {
        t->response.content_length.assign(value);
    } else if (iequals(name, "x-amz-meta-sha256")) {
        t->response.meta_sha256.assign(value);
    } else if (iequals(name, "x-amz-checksum-crc32c") || iequals(name, "x-amz-checksum-sha256")) {
        t->response.checksum.assign(value);
    }
    return size * n;
}

void HttpClient::start(std::uint64_t tag, HttpRequest request) {
    std::unique_ptr<Transfer> t;
    if (!idle_.empty()) {
        t = std::move(idle_.back());
        idle_.pop_back();
        curl_easy_reset(t->easy.get());
        t->headers.reset();
        t->response = HttpResponse{};
        t->sent = 0;
        t->paused = false;
        t->error[0] = '\0';
    } else {
        t = std::make_unique<Transfer>();
        if (!t->easy) {
            throw std::runtime_error("curl_easy_init failed");
        }
    }
    t->client = this;
    t->tag = tag;
    t->request = std::move(request);
    t->started = monotonic_seconds();
    CURL* e = t->easy.get();
    const HttpRequest& r = t->request;

    curl_slist* list = nullptr;
    for (const auto& h : r.headers) {
        list = curl_slist_append(list, h.c_str());
    }
    // No "Expect: 100-continue" round trip: the signature was checked on earlier requests.
    list = curl_slist_append(list, "Expect:");
    t->headers.reset(list);

    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpClient::write_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpClient::header_line);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, r.stall_seconds);
    if (r.total_timeout_ms > 0) {
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r.total_timeout_ms);
    }
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    // The path is sent exactly as it was signed: no "/../" or "/./" squashing.
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    if (!options_.ca_bundle.empty()) {
        curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_bundle.c_str());
    }
    if (!options_.unix_socket.empty()) {
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, options_.unix_socket.c_str());
    }
    if (options_.verbose) {
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }

    bool has_body = r.method == "PUT" || r.method == "POST";
    if (r.body_fd < 0) {
        t->request.length = t->request.memory.size();
    }
    if (r.method == "HEAD") {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (r.method == "PUT") {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.length));
    } else if (r.method == "POST") {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.length));
    } else if (r.method != "GET") {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (has_body) {
        curl_easy_setopt(e, CURLOPT_READFUNCTION, &HttpClient::read_body);
        curl_easy_setopt(e, CURLOPT_READDATA, t.get());
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &HttpClient::seek_body);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, t.get());
    }
    CURLMcode mc = curl_multi_add_handle(multi_->handle.get(), e);
    if (mc != CURLM_OK) {
        throw std::runtime_error(std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc));
    }
    transfers_[tag] = std::move(t);
}

void HttpClient::release(std::unique_ptr<Transfer> transfer) {
    curl_multi_remove_handle(multi_->handle.get(), transfer->easy.get());
    transfer->headers.reset();
    transfer->request = HttpRequest{};
    if (idle_.size() < 64) {
        idle_.push_back(std::move(transfer));
    }
}

void HttpClient::cancel(std::uint64_t tag) {
    auto it = transfers_.find(tag);
    if (it == transfers_.end()) {
        return;
    }
    auto t = std::move(it->second);
    transfers_.erase(it);
    release(std::move(t));
}

void HttpClient::poll(int timeout_ms, const Done& on_done) {
    CURLM* m = multi_->handle.get();
    // Resume transfers that the gate paused, while it has budget; keep polling briefly so the
    // gate is asked again soon.
    bool any_paused = false;
    for (auto& [tag, t] : transfers_) {
        if (!t->paused) {
            continue;
        }
        if (!gate_ || gate_(1) > 0) {
            t->paused = false;
            curl_easy_pause(t->easy.get(), CURLPAUSE_CONT);
        } else {
            any_paused = true;
        }
    }
    int running = 0;
    curl_multi_perform(m, &running);
    int wait = any_paused ? std::min(timeout_ms, 10) : timeout_ms;
    curl_multi_poll(m, nullptr, 0, wait, nullptr);
    curl_multi_perform(m, &running);

    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        Transfer* raw = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
        CURLcode code = msg->data.result;
        auto it = transfers_.find(raw->tag);
        if (it == transfers_.end()) {
            continue;
        }
        auto t = std::move(it->second);
        transfers_.erase(it);
        HttpResponse response = std::move(t->response);
        response.transport = classify(code);
        if (code != CURLE_OK) {
            response.transport_error = t->error[0] ? t->error : curl_easy_strerror(code);
        } else {
            curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &response.status);
        }
        response.seconds = monotonic_seconds() - t->started;
        response.bytes_sent = t->sent;
        std::uint64_t tag = t->tag;
        release(std::move(t));
        on_done(tag, std::move(response));
    }
}

} // namespace imgsync::util
