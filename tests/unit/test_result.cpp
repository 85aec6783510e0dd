// util::Result: a value or a one-line failure, and the way it becomes an Error.
#include "util/result.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

using namespace imgsync;

namespace {

util::Result<int> half(int n) {
    if (n % 2 != 0) {
        return util::fail("odd: " + std::to_string(n));
    }
    return n / 2;
}

util::Result<void> even(int n) {
    if (n % 2 != 0) {
        return util::fail("odd");
    }
    return {};
}

} // namespace

TEST_SUITE("result") {

    TEST_CASE("a value, or a message, never both") {
        auto good = half(4);
        REQUIRE(good.ok());
        CHECK(*good == 2);
        CHECK(good.error().empty());
        auto bad = half(3);
        CHECK_FALSE(bad);
        CHECK(bad.error() == "odd: 3");
        CHECK_THROWS_AS((void)bad.value(), std::logic_error);
    }

    TEST_CASE("or_throw carries the exit status and the caller's context") {
        CHECK(half(8).or_throw(ExitCode::usage) == 4);
        try {
            (void)half(5).or_throw(ExitCode::usage, "--jobs: ");
            FAIL("no throw");
        } catch (const Error& e) {
            CHECK(e.code() == ExitCode::usage);
            CHECK(std::string(e.what()) == "--jobs: odd: 5");
        }
        CHECK_NOTHROW(even(2).or_throw(ExitCode::state_error));
        CHECK_THROWS_AS(even(1).or_throw(ExitCode::state_error), Error);
        CHECK(even(1).error() == "odd");
        CHECK(even(2).error().empty());
    }

    TEST_CASE("move-only values move out") {
        util::Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
        std::unique_ptr<int> p = std::move(r).value();
        REQUIRE(p);
        CHECK(*p == 7);
        util::Result<std::string> s(std::string("text"));
        CHECK(s->size() == 4);
    }
}
