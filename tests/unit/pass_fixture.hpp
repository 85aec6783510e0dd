// A whole upload pass without a network: a clock the test owns, a scripted transport that answers
// each request as the test says (by default as S3 would, checking nothing but computing the ETags
// from the bytes it was sent), real image files in a temporary directory and a real state file.
// Used by test_upload_pass.cpp.
#pragma once

#include "pass/upload_pass.hpp"
#include "s3/operations.hpp"
#include "storage/sqlite_store.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace pass_test {

using namespace imgsync;

class ManualClock final : public util::Clock {
  public:
    double wall_seconds() const override { return wall0_ + (mono_ - 1000); }
    double monotonic_seconds() const override { return mono_; }
    void advance(double seconds) { mono_ += seconds; }
    void advance_to(double mono) {
        if (mono > mono_)
            mono_ = mono;
    }

  private:
    double wall0_ = 1700000000; // 2023-11-14T22:13:20Z
    double mono_ = 1000;
};

// A request as the transport saw it.
struct Seen {
    std::string method, url;
    std::vector<std::string> headers;
    std::string body; // the bytes that would have gone out
    double at = 0;    // monotonic time it started

    bool has_query(const std::string& q) const { return url.find(q) != std::string::npos; }
    std::string header(const std::string& name) const {
        for (const auto& h : headers)
            if (h.size() > name.size() && h.compare(0, name.size(), name) == 0 &&
                h[name.size()] == ':')
                return h.substr(name.size() + 2);
        return {};
    }
    std::string key() const { // path-style: /bucket/KEY?query
        auto path = url.substr(0, url.find('?'));
        auto slash = path.find('/', path.find("//") + 2);
        auto second = path.find('/', slash + 1);
        return second == std::string::npos ? "" : path.substr(second + 1);
    }
};

struct Reply {
    util::HttpResponse response;
    double after = 0.01; // seconds until the answer arrives
    bool hang = false;   // never answers (the pass must cancel it)
};

inline Reply status(long code, const std::string& s3_code = "") {
    Reply r;
    r.response.status = code;
    if (!s3_code.empty())
        r.response.body =
            "<?xml version=\"1.0\"?><Error><Code>" + s3_code + "</Code><Message></Message></Error>";
    return r;
}

inline Reply transport_failure(util::Transport t) {
    Reply r;
    r.response.transport = t;
    r.response.transport_error = "scripted";
    return r;
}

// What a well-behaved S3 answers.
inline Reply s3_answer(const Seen& s) {
    Reply r;
    r.response.status = 200;
    if (s.method == "PUT") {
        r.response.etag = "\"" + util::to_hex(util::md5(s.body)) + "\"";
    } else if (s.method == "POST" && s.has_query("uploads")) {
        r.response.body = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><UploadId>"
                          "upload-1</UploadId></InitiateMultipartUploadResult>";
    } else if (s.method == "POST" && s.has_query("uploadId=")) {
        // The ETag of the parts the body lists, as S3 computes it.
        std::vector<std::string> md5s;
        for (std::size_t pos = 0; (pos = s.body.find("<ETag>", pos)) != std::string::npos;) {
            auto end = s.body.find("</ETag>", pos);
            auto etag = s.body.substr(pos + 6, end - pos - 6);
            if (etag.size() >= 2 && etag.front() == '"')
                etag = etag.substr(1, etag.size() - 2);
            md5s.push_back(etag);
            pos = end;
        }
        util::Md5 md5;
        for (const auto& hex : md5s) {
            std::uint8_t raw[16];
            util::from_hex(hex, raw, 16);
            md5.update(raw, 16);
        }
        r.response.body = "<?xml version=\"1.0\"?><CompleteMultipartUploadResult><ETag>\"" +
                          util::to_hex(md5.finish()) + "-" + std::to_string(md5s.size()) +
                          "\"</ETag></CompleteMultipartUploadResult>";
    } else if (s.method == "GET") {
        r.response.body = "<?xml version=\"1.0\"?><ListPartsResult><IsTruncated>false"
                          "</IsTruncated></ListPartsResult>";
    } else if (s.method == "DELETE") {
        r.response.status = 204;
    }
    return r;
}

class ScriptedTransport final : public util::HttpTransport {
  public:
    using Script = std::function<Reply(const Seen& seen, int nth)>;
    ScriptedTransport(ManualClock& clock, Script script)
        : clock_(clock), script_(std::move(script)) {}

    void set_send_gate(SendGate gate) override { gate_ = std::move(gate); }
    void start(std::uint64_t tag, util::HttpRequest req) override {
        Seen s{req.method, req.url, req.headers, req.memory, clock_.monotonic_seconds()};
        if (req.body_fd >= 0) {
            s.body.resize(req.length);
            auto n =
                ::pread(req.body_fd, s.body.data(), req.length, static_cast<off_t>(req.offset));
            s.body.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        }
        Reply reply = script_(s, static_cast<int>(seen.size()));
        seen.push_back(s);
        reply.response.bytes_sent = s.body.size();
        sent_ += s.body.size();
        pending_[tag] = {clock_.monotonic_seconds() + reply.after, std::move(reply)};
    }
    void poll(int timeout_ms, const Done& on_done) override {
        double limit = clock_.monotonic_seconds() + timeout_ms / 1000.0;
        double first = limit;
        for (const auto& [tag, p] : pending_)
            if (!p.second.hang && p.first < first)
                first = p.first;
        clock_.advance_to(first);
        std::vector<std::uint64_t> due;
        for (const auto& [tag, p] : pending_)
            if (!p.second.hang && p.first <= clock_.monotonic_seconds())
                due.push_back(tag);
        for (auto tag : due) {
            auto it = pending_.find(tag);
            if (it == pending_.end())
                continue; // cancelled by an earlier answer of this poll
            auto response = std::move(it->second.second.response);
            pending_.erase(it);
            on_done(tag, std::move(response));
        }
    }
    void cancel(std::uint64_t tag) override {
        pending_.erase(tag);
        ++cancelled;
    }
    std::size_t in_flight() const override { return pending_.size(); }
    std::uint64_t bytes_sent_total() const override { return sent_; }

    std::vector<Seen> seen;
    int cancelled = 0;

  private:
    ManualClock& clock_;
    Script script_;
    SendGate gate_;
    std::map<std::uint64_t, std::pair<double, Reply>> pending_;
    std::uint64_t sent_ = 0;
};

// A temporary directory with a state file and image files; removed at the end.
class Fixture {
  public:
    Fixture() : tmp_("imgsync-test-pass"), dir(tmp_.path) {
        store.emplace(dir + "/state.db", storage::SqliteStore::Access::read_write);
        log_file_ = std::tmpfile();
        log.emplace(log_file_, util::Logger::Format::logfmt, util::Level::debug,
                    [this] { return clock.wall_seconds(); });
        auto ep = s3::resolve_endpoint(
            {"http://127.0.0.1:9", "us-east-1", "bucket", s3::Addressing::path});
        REQUIRE(ep);
        s3::Credentials creds;
        creds.access_key = "AKIDEXAMPLE";
        creds.secret_key = s3::Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        ops.emplace(*ep, creds);
        options.concurrency = 2;
    }
    ~Fixture() {
        store.reset();
        if (log_file_)
            std::fclose(log_file_);
    }
    Fixture(const Fixture&) = delete;
    Fixture& operator=(const Fixture&) = delete;

    // An image file of `size` pseudo-random bytes registered under `key`; returns its id.
    std::int64_t add(const std::string& key, std::size_t size) {
        std::string bytes(size, '\0');
        std::mt19937 rng(static_cast<unsigned>(size + key.size()));
        for (auto& c : bytes)
            c = static_cast<char>(rng());
        std::string path = dir + "/img" + std::to_string(next_++) + ".png";
        std::FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f != nullptr);
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
        struct stat st {};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        storage::NewImage img;
        img.path = path;
        img.key = key;
        img.size = size;
        img.mtime_ns =
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        img.sha256 = util::to_hex(util::sha256(bytes));
        img.md5 = util::to_hex(util::md5(bytes));
        img.content_type = "image/png";
        store->insert_image(img, clock.wall_epoch() - 100 + next_);
        return next_;
    }

    core::PassResult run(ScriptedTransport::Script script) {
        transport.emplace(clock, std::move(script));
        std::int64_t run_id = store->begin_run(clock.wall_epoch(), ::getpid(), "host-a", 60);
        auto result = core::run_upload_pass(options, *store, *transport, *ops, *log, run_id, clock);
        store->finish_run(result.run, clock.wall_epoch());
        return result;
    }

    storage::ImageRecord image(std::int64_t id) { return *store->image(id); }
    std::string log_text() const {
        std::fflush(log_file_);
        std::string out;
        std::rewind(log_file_);
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, log_file_)) > 0)
            out.append(buf, n);
        return out;
    }
    int count(const std::function<bool(const Seen&)>& pred) const {
        int n = 0;
        for (const auto& s : transport->seen)
            n += pred(s) ? 1 : 0;
        return n;
    }

  private:
    test_support::TempDir tmp_;

  public:
    std::string dir;
    ManualClock clock;
    std::optional<storage::SqliteStore> store;
    std::optional<util::Logger> log;
    std::optional<s3::Operations> ops;
    std::optional<ScriptedTransport> transport;
    core::PassOptions options;

  private:
    std::FILE* log_file_ = nullptr;
    std::int64_t next_ = 0;
};

} // namespace pass_test
