// The credentials edge: carries out a credential plan (s3/credential_chain) with real I/O: STS
// over HTTPS, the instance metadata service, the container endpoint, credential_process, the
// token files. Each call re-reads the token files and asks again, so the same provider serves
// the first fetch and every refresh.
#pragma once

#include "s3/credential_chain.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace imgsync::core {

struct FetchOptions {
    std::string ca_bundle;           // as --ca-bundle, for STS and https container URLs
    int process_timeout_ms = 30000;  // credential_process
    int metadata_timeout_ms = 1000;  // each request to the instance metadata service
    int container_timeout_ms = 2000; // each request to the container endpoint
};

class CredentialProvider {
  public:
    CredentialProvider(s3::CredentialPlan plan, FetchOptions options);

    // Runs every step of the plan; the credentials carry provenance and, when temporary,
    // expires_at. Fails with a one-line reason that names the step, never a secret.
    util::Result<s3::Credentials> fetch(std::int64_t now);

    const s3::CredentialPlan& plan() const { return plan_; }
    // The instance's region from the metadata service's placement, when the plan used it and
    // it answered; nullopt otherwise.
    const std::optional<std::string>& instance_region() const { return instance_region_; }
    // True when the plan ended at the instance metadata service only because nothing else was
    // configured (a failure there means "no credentials", a usage problem).
    bool last_resort() const;

  private:
    util::Result<s3::Credentials> run_step(const s3::CredentialStep& step,
                                           const s3::Credentials* source, std::int64_t now);
    util::Result<s3::Credentials> from_process(const s3::CredentialStep& step);
    util::Result<s3::Credentials> from_container(const s3::CredentialStep& step);
    util::Result<s3::Credentials> from_instance(const s3::CredentialStep& step);
    util::Result<s3::Credentials> from_sts(const s3::CredentialStep& step,
                                           const s3::Credentials* source, std::int64_t now);

    s3::CredentialPlan plan_;
    FetchOptions options_;
    std::optional<std::string> instance_region_;
    std::string instance_role_;
};

} // namespace imgsync::core
