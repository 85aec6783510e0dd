#include "util/log.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

using imgsync::util::Field;
using imgsync::util::format_utc_millis;
using imgsync::util::Level;
using imgsync::util::log_precision;
using imgsync::util::logfmt_value;
using imgsync::util::Logger;
using imgsync::util::parse_level;
using imgsync::util::threshold_for;

namespace {

// 2026-11-28T15:04:05.123Z
constexpr double t0 = 1795878245.123;

std::string read_all(std::FILE* f) {
    std::rewind(f);
    std::string out;
    char buf[256];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        out.append(buf, n);
    }
    return out;
}

} // namespace

TEST_SUITE_BEGIN("report.log");

TEST_CASE("millisecond UTC timestamps") {
    CHECK(format_utc_millis(t0) == "2026-11-28T15:04:05.123Z");
    CHECK(format_utc_millis(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_utc_millis(951782399.9996) == "2000-02-29T00:00:00.000Z"); // rounds up
    CHECK(format_utc_millis(-0.5) == "1969-12-31T23:59:59.500Z");
}

TEST_CASE("levels parse and thresholds follow -v and -q") {
    CHECK(parse_level("WARNING") == Level::warn);
    CHECK(parse_level("debug") == Level::debug);
    CHECK_FALSE(parse_level("loud").has_value());
    CHECK(threshold_for(false, false) == Level::info);
    CHECK(threshold_for(true, false) == Level::debug);
    CHECK(threshold_for(false, true) == Level::warn);
    CHECK(threshold_for(true, true) == Level::debug);
}

TEST_CASE("log format names, as --log-format takes them") {
    CHECK(to_string(Logger::Format::logfmt) == "logfmt");
    CHECK(to_string(Logger::Format::json) == "json");
}

TEST_CASE("logfmt values are quoted only when needed") {
    CHECK(logfmt_value("a.png") == "a.png");
    CHECK(logfmt_value("C:\\dir") == "C:\\dir");
    CHECK(logfmt_value("") == "\"\"");
    CHECK(logfmt_value("a b.png") == "\"a b.png\"");
    CHECK(logfmt_value("k=v") == "\"k=v\"");
    CHECK(logfmt_value("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"");
    CHECK(logfmt_value("two\nlines\r") == "\"two\\nlines\\r\"");
    CHECK(logfmt_value("bad\xFF") == "\"bad\xEF\xBF\xBD\"");
    CHECK(logfmt_value("caf\xC3\xA9") == "caf\xC3\xA9");
    // A terminal showing the log may obey DEL and the C1 controls (U+0080..U+009F): escaped.
    CHECK(logfmt_value("del\x7F") == "\"del\\u007f\"");
    CHECK(logfmt_value("\xC2\x9B"
                       "31mred") == "\"\\u009b31mred\"");
    CHECK(logfmt_value("a\xC2\x85"
                       "b\xC2\xA0") == "\"a\\u0085b\xC2\xA0\"");
    CHECK(logfmt_value("\x1b[2J") == "\"\\u001b[2J\"");
}

TEST_CASE("logfmt line with every value type") {
    const Logger log(nullptr);
    const std::string key = "a b.png";
    const std::uint64_t bytes = 123;
    const std::int64_t ms = 45;
    CHECK(log.format_line(Level::info, t0, "uploaded",
                          {{"key", key}, {"bytes", bytes}, {"ms", ms}}) ==
          "ts=2026-11-28T15:04:05.123Z level=info event=uploaded key=\"a b.png\" bytes=123 "
          "ms=45\n");
    CHECK(log.format_line(Level::warn, t0, "mixed",
                          {{"i", -1},
                           {"u", std::numeric_limits<std::uint64_t>::max()},
                           {"d", 0.25},
                           {"nan", std::nan("")},
                           {"inf", std::numeric_limits<double>::infinity()},
                           {"b", true},
                           {"sv", std::string_view("x")},
                           {"err", "line1\nline2"}}) ==
          "ts=2026-11-28T15:04:05.123Z level=warn event=mixed i=-1 u=18446744073709551615 "
          "d=0.25 nan=NaN inf=+Inf b=true sv=x err=\"line1\\nline2\"\n");
}

TEST_CASE("logfmt keys cannot break the line or shadow the fixed columns") {
    const Logger log(nullptr);
    CHECK(log.format_line(Level::error, t0, "odd event",
                          {{"bad key=\"\n", 1}, {"level", "x"}, {"", 2}}) ==
          "ts=2026-11-28T15:04:05.123Z level=error event=\"odd event\" bad_key___=1 _level=x "
          "_=2\n");
}

TEST_CASE("json line") {
    const Logger log(nullptr, Logger::Format::json);
    CHECK(log.format_line(Level::info, t0, "uploaded",
                          {{"key", "a b.png"},
                           {"bytes", 123u},
                           {"ms", 45},
                           {"ok", false},
                           {"r", 0.5},
                           {"nan", std::nan("")},
                           {"ts", "shadow"}}) ==
          R"({"ts":"2026-11-28T15:04:05.123Z","level":"info","event":"uploaded","key":"a b.png",)"
          R"("bytes":123,"ms":45,"ok":false,"r":0.5,"nan":null,"_ts":"shadow"})"
          "\n");
}

TEST_CASE("colour only when enabled, only in logfmt") {
    Logger log(nullptr);
    log.set_color(true);
    CHECK(log.format_line(Level::error, t0, "boom", {}) ==
          "ts=2026-11-28T15:04:05.123Z level=\x1b[31merror\x1b[0m event=boom\n");
    Logger json(nullptr, Logger::Format::json);
    json.set_color(true);
    CHECK(json.format_line(Level::error, t0, "boom", {}) ==
          R"({"ts":"2026-11-28T15:04:05.123Z","level":"error","event":"boom"})"
          "\n");
}

TEST_CASE("log writes lines at or above the threshold with the injected clock") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    double now = t0;
    Logger log(f, Logger::Format::logfmt, Level::info, [&now] { return now; });
    log.debug("hidden");
    log.info("shown", {{"n", 1}});
    now += 1;
    log.set_threshold(Level::warn);
    log.info("hidden");
    log.warn("careful");
    const std::vector<imgsync::util::Field> fields{{"k", "v"}};
    log.log(Level::error, "dynamic", fields);
    CHECK(read_all(f) == "ts=2026-11-28T15:04:05.123Z level=info event=shown n=1\n"
                         "ts=2026-11-28T15:04:06.123Z level=warn event=careful\n"
                         "ts=2026-11-28T15:04:06.123Z level=error event=dynamic k=v\n");
    std::fclose(f);
}

TEST_CASE("a null sink discards") {
    Logger log(nullptr);
    log.error("nowhere"); // must not crash
    CHECK(log.enabled(Level::error));
    CHECK_FALSE(log.enabled(Level::debug));
}

TEST_SUITE_END();

TEST_CASE("log fields carry a sensible precision") {
    CHECK(log_precision(12.387812193000002) == doctest::Approx(12.388).epsilon(1e-12));
    CHECK(fmt::format("{}", log_precision(12.387812193000002)) == "12.388");
    CHECK(fmt::format("{}", log_precision(0.0012345)) == "0.00123");
    CHECK(fmt::format("{}", log_precision(104857.6)) == "104857.6");
    CHECK(fmt::format("{}", log_precision(-3.14159)) == "-3.142");
    CHECK(log_precision(0) == 0);
    CHECK(log_precision(1.5e15 + 0.25) == 1.5e15 + 0.25); // unchanged from 1e12 up
    const Logger log(nullptr);
    CHECK(log.format_line(Level::info, t0, "pass_done", {{"seconds", 12.387812193000002}}) ==
          "ts=2026-11-28T15:04:05.123Z level=info event=pass_done seconds=12.388\n");
}
