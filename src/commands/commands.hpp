// One function per subcommand. Each returns the process exit status (util/error.hpp) or throws
// imgsync::Error. cli/ parses the options; these do the work.
#pragma once

#include "commands/settings.hpp"
#include "util/log.hpp"

namespace imgsync::core {

// What every command gets besides its own settings.
struct Context {
    GlobalSettings global;
    util::Logger* log = nullptr;
    // Config-file credentials (aws_access_key_id, ...), consulted after the environment, and the
    // file they were read from.
    std::optional<std::string> config_access_key, config_secret_key, config_session_token;
    std::string config_credentials_file;
};

int cmd_seed(const Context& ctx, const SeedSettings& s);
int cmd_add(const Context& ctx, const AddSettings& s);
int cmd_list(const Context& ctx, const ListSettings& s);
int cmd_status(const Context& ctx, const StatusSettings& s);
int cmd_upload(const Context& ctx, const UploadSettings& s);
int cmd_retry(const Context& ctx, const RetrySettings& s);
int cmd_forget(const Context& ctx, const ForgetSettings& s);
int cmd_verify(const Context& ctx, const VerifySettings& s);
int cmd_prune(const Context& ctx, const PruneSettings& s);
int cmd_check(const Context& ctx);
int cmd_presign(const Context& ctx, const PresignSettings& s);
int cmd_migrate(const Context& ctx, const MigrateSettings& s);

} // namespace imgsync::core
