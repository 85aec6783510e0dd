// From settings and the environment to a ready S3 target: endpoint, region and credentials.
// This is where the environment (AWS_*) and the ~/.aws files are read; s3/ only parses.
#pragma once

#include "commands/commands.hpp"
#include "s3/credentials.hpp"
#include "s3/endpoint.hpp"

namespace imgsync::core {

struct Target {
    s3::Endpoint endpoint;
    s3::Credentials credentials;
};

// Throws Error(usage) with a one-line reason: no bucket, bad endpoint URL, invalid bucket name,
// no credentials. Never names a secret.
Target resolve_target(const Context& ctx);

} // namespace imgsync::core
