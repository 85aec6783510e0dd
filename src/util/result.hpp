// The one result type for expected failures: a value, or a one-line message that names the
// problem (bad input, a file that cannot be read, an answer that does not parse). Whatever ends a
// command is an `Error` (util/error.hpp) with its exit status; a caller turns a failed Result
// into one with `or_throw`, adding the context only it knows ("--bandwidth: ...").
//
//   util::Result<int> parse(std::string_view s) {
//       if (s.empty()) return util::fail("empty");
//       return 42;
//   }
//   util::Result<void> check(...) { ...; return util::fail("..."); ...; return {}; }
//
// Messages are single lines: producers quote outside text through util::printable.
#pragma once

#include "util/error.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace imgsync::util {

struct Failure {
    std::string message;
};

inline Failure fail(std::string message) {
    return Failure{std::move(message)};
}

template <class T> class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}           // NOLINT: implicit
    Result(Failure failure) : v_(std::in_place_index<1>, std::move(failure)) {} // NOLINT

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    const T& value() const& { return std::get<0>(checked()); }
    T& value() & { return std::get<0>(checked()); }
    T&& value() && { return std::get<0>(std::move(checked())); }
    const T& operator*() const& { return value(); }
    T& operator*() & { return value(); }
    const T* operator->() const { return &value(); }
    T* operator->() { return &value(); }

    // The message; empty when the result holds a value.
    // NOLINTNEXTLINE(bugprone-exception-escape): the empty static string cannot throw
    const std::string& error() const noexcept {
        static const std::string none;
        return ok() ? none : std::get<1>(v_).message;
    }
    // The value, or an Error with `code` and "<context><message>".
    T or_throw(ExitCode code, const std::string& context = {}) && {
        if (!ok()) {
            throw Error(code, context + error());
        }
        return std::get<0>(std::move(v_));
    }

  private:
    const std::variant<T, Failure>& checked() const {
        if (!ok()) {
            throw std::logic_error("Result::value() of a failure: " + error());
        }
        return v_;
    }
    std::variant<T, Failure>& checked() {
        if (!ok()) {
            throw std::logic_error("Result::value() of a failure: " + error());
        }
        return v_;
    }
    std::variant<T, Failure> v_;
};

// Success or a message, for operations that produce nothing.
template <> class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Failure failure) : failure_(std::move(failure)) {} // NOLINT: implicit

    bool ok() const noexcept { return !failure_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    // NOLINTNEXTLINE(bugprone-exception-escape): the empty static string cannot throw
    const std::string& error() const noexcept {
        static const std::string none;
        return failure_ ? failure_->message : none;
    }
    void or_throw(ExitCode code, const std::string& context = {}) const {
        if (failure_) {
            throw Error(code, context + failure_->message);
        }
    }

  private:
    std::optional<Failure> failure_;
};

} // namespace imgsync::util
