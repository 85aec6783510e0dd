// imgsync list, retry and forget: looking at the backlog, requeueing dead letters, and removing
// images that can never be uploaded.
#include "commands/common.hpp"
#include "util/error.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/text.hpp"
#include "util/timefmt.hpp"
#include "util/units.hpp"

#include <fmt/format.h>

namespace imgsync::core {

namespace {

void write_image_json(util::JsonWriter& w, const storage::ImageRecord& r) {
    auto opt_time = [&](const char* key, std::optional<std::int64_t> t) {
        w.key(key);
        if (t) {
            w.value(util::iso8601_utc(*t));
        } else {
            w.null();
        }
    };
    w.begin_object();
    w.key("id").value(r.id);
    w.key("path").value(r.path);
    w.key("key").value(r.key);
    w.key("size").value(r.size);
    w.key("sha256").value(r.sha256);
    w.key("md5").value(r.md5);
    w.key("content_type").value(r.content_type);
    w.key("state").value(to_string(r.state));
    w.key("attempts").value(r.attempts);
    w.key("last_error");
    if (r.last_error) {
        w.value(*r.last_error);
    } else {
        w.null();
    }
    opt_time("added_at", r.added_at);
    opt_time("uploaded_at", r.uploaded_at);
    opt_time("next_attempt_at", r.state == ImageState::pending && r.next_attempt_at > 0
                                    ? std::optional(r.next_attempt_at)
                                    : std::nullopt);
    w.key("etag");
    if (r.etag) {
        w.value(*r.etag);
    } else {
        w.null();
    }
    w.end_object();
}

void write_refusal_json(util::JsonWriter& w, const storage::Refusal& r) {
    w.begin_object();
    w.key("path").value(r.path);
    w.key("size").value(r.size);
    w.key("mtime_ns").value(r.mtime_ns);
    w.key("reason").value(r.reason);
    w.key("first_seen").value(util::iso8601_utc(r.first_seen));
    w.key("last_seen").value(util::iso8601_utc(r.last_seen));
    w.key("host_id").value(r.host_id);
    w.end_object();
}

// list --refused: the refusals add remembers, in path order.
int list_refused(storage::Store& store, const ListSettings& s) {
    if (s.json) {
        util::JsonWriter w(util::JsonWriter::Style::compact, util::file_sink(stdout));
        w.begin_array();
        store.for_each_refusal(s.limit,
                               [&](const storage::Refusal& r) { write_refusal_json(w, r); });
        w.end_array();
        w.finish();
        std::fputc('\n', stdout);
        return 0;
    }
    std::puts(fmt::format("{:>10}  {:<20}  {}", "SIZE", "LAST SEEN", "PATH (REASON)").c_str());
    store.for_each_refusal(s.limit, [&](const storage::Refusal& r) {
        std::puts(fmt::format("{:>10}  {:<20}  {}  ({})", util::format_bytes(r.size),
                              util::iso8601_utc(r.last_seen), util::printable(r.path),
                              util::printable(r.reason))
                      .c_str());
    });
    return 0;
}

} // namespace

int cmd_list(const Context& ctx, const ListSettings& s) {
    if (s.refused && s.state) {
        throw Error(ExitCode::usage, "list: --refused lists files, not images: no --state");
    }
    auto store = open_existing_store(ctx);
    if (s.refused) {
        return list_refused(*store, s);
    }
    if (s.json) {
        // Streamed: a million rows never sit in memory at once.
        util::JsonWriter w(util::JsonWriter::Style::compact, util::file_sink(stdout));
        w.begin_array();
        store->for_each_image(s.state, s.limit,
                              [&](const storage::ImageRecord& r) { write_image_json(w, r); });
        w.end_array();
        w.finish();
        std::fputc('\n', stdout);
        return 0;
    }
    // Fixed widths wide enough for every value (a row is printed as it is read, so the widths
    // cannot come from the rows): ids up to 10 digits, "uploading", "1023.9 MiB", attempts up to
    // the --max-attempts bound of 1000.
    std::puts(fmt::format("{:>10}  {:<9}  {:>10}  {:>4}  {}", "ID", "STATE", "SIZE", "TRY", "KEY")
                  .c_str());
    // Keys come from file names and errors from servers: escaped, so a row stays one line and
    // nothing reaches the terminal as a control sequence (list --json keeps them exact).
    store->for_each_image(s.state, s.limit, [&](const storage::ImageRecord& r) {
        std::string line =
            fmt::format("{:>10}  {:<9}  {:>10}  {:>4}  {}", r.id, to_string(r.state),
                        util::format_bytes(r.size), r.attempts, util::printable(r.key));
        if (r.state == ImageState::failed && r.last_error) {
            line += "  (" + util::printable(*r.last_error) + ")";
        }
        std::puts(line.c_str());
    });
    return 0;
}

int cmd_retry(const Context& ctx, const RetrySettings& s) {
    auto store = open_existing_store(ctx);
    int n = store->requeue_failed(s.ids, s.all);
    ctx.log->info("requeued", {{"images", n}});
    std::printf("requeued %d failed image%s\n", n, n == 1 ? "" : "s");
    if (!s.all && n < static_cast<int>(s.ids.size())) {
        throw Error(ExitCode::usage,
                    fmt::format("{} of the {} ids given are not failed images",
                                s.ids.size() - static_cast<std::size_t>(n), s.ids.size()));
    }
    return 0;
}

int cmd_forget(const Context& ctx, const ForgetSettings& s) {
    if (s.state == ImageState::uploading) {
        throw Error(ExitCode::usage, "forget: images uploading are held by a pass; stop it first");
    }
    auto store = open_existing_store(ctx);
    if (s.refused) {
        const int n = store->forget_refusals();
        ctx.log->info("forgotten", {{"refusals", n}});
        std::printf("forgot %d refusal%s\n", n, n == 1 ? "" : "s");
        return 0;
    }
    const int n = store->forget(s.ids, s.state);
    ctx.log->info("forgotten",
                  {{"images", n}, {"state", s.state ? std::string(to_string(*s.state)) : "ids"}});
    std::printf("forgot %d image%s\n", n, n == 1 ? "" : "s");
    if (!s.state && n < static_cast<int>(s.ids.size())) {
        throw Error(ExitCode::usage,
                    fmt::format("{} of the {} ids given are not in the backlog or are uploading",
                                s.ids.size() - static_cast<std::size_t>(n), s.ids.size()));
    }
    return 0;
}

} // namespace imgsync::core
