// The JSON that temporary credentials arrive in: the instance metadata service's and the
// container endpoints' answers, and a credential_process program's output. Pure and fuzzed.
//
// Errors name the member that is wrong, never a value: the text holds a secret.
#pragma once

#include "s3/credentials.hpp"
#include "util/result.hpp"

#include <map>
#include <string>
#include <string_view>

namespace imgsync::s3 {

// The members of one JSON object: strings decoded, numbers, true, false and null as their text;
// nested objects and arrays are checked and skipped. A repeated member: the last one wins.
// Fails on anything that is not one well-formed object (with only white space around it), or
// nested deeper than 32 levels.
using JsonMembers = std::map<std::string, std::string, std::less<>>;
util::Result<JsonMembers> parse_json_object(std::string_view text);

// Which answer it is: the names differ (Token or SessionToken) and so do the rules.
enum class CredentialJson {
    instance_metadata, // IMDS: Code "Success", AccessKeyId, SecretAccessKey, Token, Expiration
    container,         // ECS / EKS Pod Identity: AccessKeyId, SecretAccessKey, Token, Expiration
    process,           // credential_process: Version 1, AccessKeyId, SecretAccessKey,
                       // optional SessionToken and Expiration
};

// Credentials with expires_at set when the answer names an expiration (ISO 8601). Their
// sources and provenance are left for the caller to fill in.
util::Result<Credentials> parse_credential_json(std::string_view text, CredentialJson kind);

} // namespace imgsync::s3
