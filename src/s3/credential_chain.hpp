// Which credentials to use, decided the way the AWS CLI decides, as a plan of steps that the
// I/O edge (commands/credential_fetch) then carries out. Pure: the environment and the shared
// files come in through CredentialSources, the time as a parameter.
//
// The chain, first match wins:
//   1. static keys in the environment, then imgsync's config file (skipped when --profile names
//      a profile explicitly);
//   2. the selected profile's role_arn with source_profile (chained, with a loop guard) or
//      credential_source (Environment, Ec2InstanceMetadata, EcsContainer): STS AssumeRole;
//   3. web identity: web_identity_token_file + role_arn in the profile, or
//      AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME): STS
//      AssumeRoleWithWebIdentity;
//   4. the profile's static keys (credentials file, then config file);
//   5. the profile's credential_process;
//   6. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS) or _FULL_URI;
//   7. the instance metadata service (IMDSv2), unless AWS_EC2_METADATA_DISABLED=true.
// Refused with a message: mfa_serial (needs a person), SSO profiles, a source_profile loop,
// role_arn without a source, a full container URI naming a host the SDKs do not allow.
#pragma once

#include "s3/credential_rules.hpp"
#include "s3/credentials.hpp"
#include "s3/sts.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imgsync::s3 {

enum class StepKind {
    static_keys,       // keys already known (environment, config file, a profile)
    assume_role,       // STS AssumeRole, signed with the previous step's credentials
    web_identity,      // STS AssumeRoleWithWebIdentity with a token read from a file
    process,           // credential_process
    container,         // ECS / EKS Pod Identity endpoint
    instance_metadata, // IMDSv2
};
// "static", "assume-role", "web-identity", "credential-process", "container", "instance".
const char* step_name(StepKind kind);

struct CredentialStep {
    StepKind kind = StepKind::static_keys;
    std::string profile; // the profile that configured this step; "" for the environment
    // static_keys
    std::optional<Credentials> keys;
    // assume_role, web_identity
    AssumeRoleParams role;
    StsEndpoint sts;
    std::string token_file; // web_identity
    // process: the command line as written, and its words (split as a POSIX shell would, but
    // run without one)
    std::string command;
    std::vector<std::string> argv;
    // container: the URL and the authorization token, or the file that holds it (re-read on
    // each refresh). instance_metadata: the service's base URL.
    std::string url;
    Secret auth_token;
    std::string auth_token_file;
    std::string url_variable; // container: the variable that named the URL
};

// steps[0] yields credentials by itself; each later step is an assume_role signed with the
// credentials of the step before it.
struct CredentialPlan {
    std::vector<CredentialStep> steps;
    // Set when the plan is the instance metadata service only because nothing else was
    // configured: what to say ("no credentials: ...") when the service does not answer.
    std::string none_found;
    // For check and the pass log: "assume-role arn:aws:iam::1:role/x via profile p",
    // "web identity arn:... (AWS_WEB_IDENTITY_TOKEN_FILE)", "credential_process of profile p",
    // "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, host 127.0.0.1:8080)",
    // "instance metadata" (the fetch names the role), or the static keys' source. Never a key.
    std::string describe() const;
    bool is_static() const { return steps.size() == 1 && steps[0].kind == StepKind::static_keys; }
};

util::Result<CredentialPlan> plan_credentials(const CredentialSources& sources);

} // namespace imgsync::s3
