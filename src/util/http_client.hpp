// The network edge: many HTTP requests in flight over libcurl's multi interface, connections
// reused, bodies streamed from file descriptors (never read whole into memory), and an optional
// gate that meters the bytes sent across all transfers together (the bandwidth throttle).
// Single-threaded: the caller drives it with poll().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace imgsync::util {

struct HttpRequest {
    std::string method; // GET PUT POST DELETE HEAD
    std::string url;
    std::vector<std::string> headers; // "Name: value"
    // Body: `length` bytes of the file `body_fd` from `offset` (the fd stays the caller's), or
    // `memory` when body_fd is -1.
    int body_fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::string memory;
    // Timeouts. A transfer that moves less than 1 byte/s for stall_seconds is abandoned.
    long connect_timeout_ms = 10000;
    long stall_seconds = 60;
    long total_timeout_ms = 0; // 0: no overall limit (stall detection still applies)
};

enum class Transport { ok, dns, connect, tls, timeout, dropped, aborted, other };
const char* transport_name(Transport t);

struct HttpResponse {
    long status = 0;
    Transport transport = Transport::ok;
    std::string transport_error; // curl's message when transport != ok
    std::string body;            // capped (error bodies and listings are small)
    std::string etag, date, retry_after, request_id, content_type;
    std::string content_length; // as sent; HEAD answers carry the object's size here
    std::string meta_sha256;    // x-amz-meta-sha256: the SHA-256 imgsync stored with the object
    // x-amz-checksum-crc32c or x-amz-checksum-sha256, whichever the answer carries.
    std::string checksum;
    double seconds = 0;
    std::uint64_t bytes_sent = 0; // body bytes, counted once however often curl resent them
    unsigned body_rewinds = 0;    // times curl rewound the body to send it again
};

// Where a body read must go on when curl seeks it (CURLOPT_SEEKFUNCTION): curl rewinds a body
// to resend it, when it retries a request on a fresh connection because a reused one died
// before any answer, or replays it for authentication or a redirect. `origin` is SEEK_SET,
// SEEK_CUR (from `position`) or SEEK_END (from `length`). nullopt: outside the body.
std::optional<std::uint64_t> body_seek_target(std::uint64_t length, std::uint64_t position,
                                              std::int64_t offset, int origin);

// What the pass needs of the network: start requests, drive them, cancel them. HttpClient is the
// real one; the unit tests script one of their own.
class HttpTransport {
  public:
    virtual ~HttpTransport() = default;
    // Asks how many of `wanted` bytes may be sent now; 0 pauses the transfer until a later poll()
    // finds budget again. Unset: unlimited.
    using SendGate = std::function<std::size_t(std::size_t wanted)>;
    virtual void set_send_gate(SendGate gate) = 0;
    using Done = std::function<void(std::uint64_t tag, HttpResponse&& response)>;
    virtual void start(std::uint64_t tag, HttpRequest request) = 0;
    // Drives transfers for up to timeout_ms and reports every finished one through on_done.
    virtual void poll(int timeout_ms, const Done& on_done) = 0;
    // Abandons a transfer; it is not reported.
    virtual void cancel(std::uint64_t tag) = 0;
    virtual std::size_t in_flight() const = 0;
    // Bytes handed to the network so far, across all transfers (progress display).
    virtual std::uint64_t bytes_sent_total() const = 0;
};

class HttpClient final : public HttpTransport {
  public:
    struct Options {
        std::string ca_bundle; // private CA file; empty = system store. Verification is always on.
        long max_host_connections = 16;
        bool verbose = false; // curl's wire trace on stderr (headers; never used in tests)
        // Connect to this Unix socket instead of the URL's host (the unit tests, which run
        // without a network). Empty: TCP as the URL says.
        std::string unix_socket;
    };
    explicit HttpClient(const Options& options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    void set_send_gate(SendGate gate) override { gate_ = std::move(gate); }
    void start(std::uint64_t tag, HttpRequest request) override;
    void poll(int timeout_ms, const Done& on_done) override;
    void cancel(std::uint64_t tag) override;
    std::size_t in_flight() const override { return transfers_.size(); }
    // Bytes resent after a rewind count again: they cross the wire again, and the send gate
    // meters them again.
    std::uint64_t bytes_sent_total() const override { return bytes_sent_total_; }

    // The SSLKEYLOGFILE that was set when curl was initialised. imgsync never writes TLS session
    // keys: the variable is removed from the environment before curl reads it, and the command
    // says so with a warning.
    static const std::optional<std::string>& ignored_tls_keylog();

  private:
    struct Transfer;
    struct Multi;
    static std::size_t read_body(char* buffer, std::size_t size, std::size_t n, void* user);
    static int seek_body(void* user, std::int64_t offset, int origin);
    static std::size_t write_body(char* data, std::size_t size, std::size_t n, void* user);
    static std::size_t header_line(char* data, std::size_t size, std::size_t n, void* user);
    void release(std::unique_ptr<Transfer> transfer);

    Options options_;
    std::unique_ptr<Multi> multi_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Transfer>> transfers_;
    std::vector<std::unique_ptr<Transfer>> idle_; // easy handles kept for reuse
    SendGate gate_;
    std::uint64_t bytes_sent_total_ = 0;
};

} // namespace imgsync::util
