#include "util/fs.hpp"
#include "util/http_client.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>

using namespace imgsync;
using util::body_seek_target;

TEST_SUITE_BEGIN("http_client");

TEST_CASE("http_client: body_seek_target") {
    // curl rewinds with SEEK_SET 0; the rest is there for completeness.
    CHECK(body_seek_target(100, 60, 0, SEEK_SET) == 0u);
    CHECK(body_seek_target(100, 60, 100, SEEK_SET) == 100u);
    CHECK_FALSE(body_seek_target(100, 60, 101, SEEK_SET));
    CHECK_FALSE(body_seek_target(100, 60, -1, SEEK_SET));
    CHECK(body_seek_target(100, 60, -60, SEEK_CUR) == 0u);
    CHECK(body_seek_target(100, 60, 40, SEEK_CUR) == 100u);
    CHECK_FALSE(body_seek_target(100, 60, -61, SEEK_CUR));
    CHECK_FALSE(body_seek_target(100, 60, 41, SEEK_CUR));
    CHECK(body_seek_target(100, 60, -100, SEEK_END) == 0u);
    CHECK(body_seek_target(100, 60, 0, SEEK_END) == 100u);
    CHECK_FALSE(body_seek_target(100, 60, 1, SEEK_END));
    CHECK_FALSE(body_seek_target(100, 0, std::numeric_limits<std::int64_t>::min(), SEEK_END));
    CHECK_FALSE(body_seek_target(100, 0, std::numeric_limits<std::int64_t>::max(), SEEK_SET));
    CHECK(body_seek_target(0, 0, 0, SEEK_SET) == 0u);
    CHECK_FALSE(body_seek_target(100, 0, 0, 42));
}

namespace {

// A server on a Unix socket (the unit tests run without a network) that answers the first request
// of its first connection, reads the second request whole and closes the connection without a word
// (a keep-alive timeout that hit just as the request arrived), then answers the retry on a second
// connection. curl resends a request on a fresh connection when a reused one died before any
// answer; the body must be rewound.
class DyingKeepAliveServer {
  public:
    DyingKeepAliveServer() {
        char dir[] = "/tmp/imgsync-http-XXXXXX";
        REQUIRE(::mkdtemp(dir) != nullptr);
        dir_ = dir;
        path_ = dir_ + "/s";
        listener_ = util::UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(listener_);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path_.size() < sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        REQUIRE(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listener_.get(), 4) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~DyingKeepAliveServer() {
        if (thread_.joinable())
            thread_.join();
        std::filesystem::remove_all(dir_);
    }
    DyingKeepAliveServer(const DyingKeepAliveServer&) = delete;
    DyingKeepAliveServer& operator=(const DyingKeepAliveServer&) = delete;

    static std::string url() { return "http://imgsync.test/obj"; }
    const std::string& socket_path() const { return path_; }
    void join() { thread_.join(); }
    // After join(): the bodies of the dropped request and of its retry.
    std::string dropped_body, retried_body;
    int connections = 0;

  private:
    util::UniqueFd accept_one() {
        pollfd p{listener_.get(), POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1)
            return {};
        util::UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        timeval tv{10, 0};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ++connections;
        return fd;
    }
    // One request: its body (by Content-Length), or nullopt on EOF/timeout.
    static std::optional<std::string> read_request(int fd, std::string& buffered) {
        char chunk[65536];
        std::size_t head_end;
        while ((head_end = buffered.find("\r\n\r\n")) == std::string::npos) {
            auto n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0)
                return std::nullopt;
            buffered.append(chunk, static_cast<std::size_t>(n));
        }
        std::string head = buffered.substr(0, head_end);
        for (auto& c : head)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t length = 0;
        if (auto at = head.find("content-length:"); at != std::string::npos)
            length = std::stoul(head.substr(at + 15));
        buffered.erase(0, head_end + 4);
        while (buffered.size() < length) {
            auto n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0)
                return std::nullopt;
            buffered.append(chunk, static_cast<std::size_t>(n));
        }
        std::string body = buffered.substr(0, length);
        buffered.erase(0, length);
        return body;
    }
    static void answer(int fd) {
        static constexpr char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: \"e\"\r\n\r\n";
        (void)::send(fd, ok, sizeof ok - 1, MSG_NOSIGNAL);
    }
    void serve() {
        std::string buffered;
        util::UniqueFd first = accept_one();
        if (!first || !read_request(first.get(), buffered))
            return;
        answer(first.get());
        auto dropped = read_request(first.get(), buffered);
        first.reset(); // FIN, no answer: the kept-alive connection died under the request
        if (!dropped)
            return;
        dropped_body = *dropped;
        buffered.clear();
        util::UniqueFd second = accept_one();
        if (!second)
            return;
        if (auto retried = read_request(second.get(), buffered)) {
            retried_body = *retried;
            answer(second.get());
        }
    }

    std::string dir_, path_;
    util::UniqueFd listener_;
    std::thread thread_;
};

util::HttpResponse send_and_wait(util::HttpClient& http, util::HttpRequest req) {
    util::HttpResponse out;
    bool done = false;
    http.start(1, std::move(req));
    for (int i = 0; i < 300 && !done; ++i)
        http.poll(100, [&](std::uint64_t, util::HttpResponse&& r) {
            out = std::move(r);
            done = true;
        });
    REQUIRE(done);
    return out;
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

} // namespace

TEST_CASE("http_client: a body is rewound and resent when a reused connection died") {
    const std::string file = pattern(200000);
    const std::uint64_t offset = 1000, length = 150000;
    util::UniqueFd fd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    REQUIRE(fd);
    REQUIRE(::pwrite(fd.get(), file.data(), file.size(), 0) == static_cast<ssize_t>(file.size()));

    for (bool from_file : {true, false}) {
        CAPTURE(from_file);
        DyingKeepAliveServer server;
        util::HttpClient::Options options;
        options.unix_socket = server.socket_path();
        util::HttpClient http(options);
        std::uint64_t granted = 0;
        http.set_send_gate([&](std::size_t wanted) {
            granted += wanted;
            return wanted;
        });

        util::HttpRequest first;
        first.method = "PUT";
        first.url = server.url();
        first.memory = "warm-up";
        auto r1 = send_and_wait(http, std::move(first));
        REQUIRE_MESSAGE(r1.transport == util::Transport::ok, r1.transport_error);
        CHECK(r1.body_rewinds == 0);

        util::HttpRequest second;
        second.url = server.url();
        std::string expected;
        if (from_file) {
            second.method = "PUT";
            second.body_fd = fd.get();
            second.offset = offset;
            second.length = length;
            expected = file.substr(offset, length);
        } else {
            second.method = "POST";
            second.memory = pattern(70000);
            expected = second.memory;
        }
        auto r2 = send_and_wait(http, std::move(second));
        server.join();
        // Without a seek callback: "necessary data rewind wasn't possible".
        CHECK_MESSAGE(r2.transport == util::Transport::ok, r2.transport_error);
        CHECK(r2.status == 200);
        CHECK(server.connections == 2);
        CHECK((server.dropped_body == expected)); // no byte dumps on failure
        CHECK((server.retried_body == expected));
        CHECK(r2.body_rewinds == 1);
        CHECK(r2.bytes_sent == expected.size()); // the body, once
        // The wire saw the body twice, and the gate metered it twice.
        CHECK(http.bytes_sent_total() == 7 + 2 * expected.size());
        CHECK(granted == 7 + 2 * expected.size());
    }
}

TEST_SUITE_END();
