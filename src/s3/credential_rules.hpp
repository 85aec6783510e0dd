// The small rules of the credential chain, each pure: how credential_process's command line is
// split, which container credentials URLs are allowed, and when temporary credentials are
// replaced.
#pragma once

#include "s3/credentials.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::s3 {

// credential_process's words, as botocore splits it (shlex): blanks separate words, single
// quotes keep everything, double quotes keep all but \" \\ \$ \` escapes, a backslash outside
// quotes escapes the next character. Fails on an unterminated quote or an empty command.
util::Result<std::vector<std::string>> split_command(std::string_view command);

// The container credentials URL from the environment: RELATIVE_URI is appended to
// http://169.254.170.2; a FULL_URI must be https, or http to a loopback address, 169.254.170.2,
// 169.254.170.23 or fd00:ec2::23 (the SDKs' rule). nullopt: neither variable is set.
std::optional<util::Result<std::string>> container_url(const EnvLookup& env);

// When temporary credentials should be replaced: five minutes before they expire, or halfway
// through their life when that is shorter (so credentials that live a minute are not refreshed
// all the time), never before `obtained_at` + 1 s.
std::int64_t refresh_time(std::int64_t obtained_at, std::int64_t expires_at);

} // namespace imgsync::s3
