#include "cli/app.hpp"
#include "cli/args.hpp"
#include "cli/completion.hpp"
#include "cli/suggest.hpp"

#include "commands/commands.hpp"
#include "report/report.hpp"
#include "util/build_info.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/ini.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace imgsync::cli {

namespace {

constexpr const char* default_config_file = "/etc/imgsync/imgsync.conf";

// "max-images" -> "max_images". Config keys and the IMGSYNC_* suffix are the same name.
std::string key_for(const std::string& subcommand, const std::string& long_name) {
    std::string key = long_name;
    // seed's image-size bounds are not upload's per-pass byte limit: they get their own names.
    if (subcommand == "seed" && (long_name == "min-bytes" || long_name == "max-bytes")) {
        key = "seed-" + long_name;
    }
    for (auto& c : key) {
        c = c == '-' ? '_' : c;
    }
    return key;
}

std::string env_for(const std::string& key) {
    std::string env = "IMGSYNC_";
    for (char c : key) {
        env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return env;
}

// Gives every long option its IMGSYNC_* variable and records the config keys that exist.
void assign_env_names(CLI::App& app, std::set<std::string>& keys) {
    for (CLI::Option* opt : app.get_options()) {
        const auto& names = opt->get_lnames();
        if (names.empty() || names[0] == "help" || names[0] == "version" || names[0] == "config") {
            continue;
        }
        std::string key = key_for(app.get_parent() ? app.get_name() : "", names[0]);
        opt->envname(env_for(key));
        keys.insert(key);
    }
    for (CLI::App* sub : app.get_subcommands({})) {
        assign_env_names(*sub, keys);
    }
}

// The config file, read by util::parse_ini: `key = value` lines, '#' or ';' comments, optional
// [section] headers (ignored: every key names one option). Values reach the options as IMGSYNC_*
// defaults, below the real environment, which gives the documented precedence: command line,
// environment, file, default.
void load_config(const std::string& path, bool required, const std::set<std::string>& keys,
                 core::Context& ctx) {
    const auto text = util::read_text_file(path).or_throw(ExitCode::usage);
    if (!text) {
        if (required) {
            throw Error(ExitCode::usage, fmt::format("config file {} does not exist", path));
        }
        return;
    }
    bool has_secret = false;
    for (const auto& entry : util::parse_ini(*text, util::imgsync_ini_syntax)) {
        if (entry.kind == util::IniEntry::Kind::section ||
            entry.kind == util::IniEntry::Kind::bad_section) {
            continue;
        }
        const std::size_t line_no = entry.line;
        if (entry.kind == util::IniEntry::Kind::bad_line) {
            throw Error(ExitCode::usage,
                        fmt::format("{}:{}: expected 'key = value'", path, line_no));
        }
        std::string key = util::ascii_lower(entry.name);
        std::string value = entry.value;
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        for (auto& c : key) {
            c = c == '-' ? '_' : c;
        }
        if (key.rfind("aws_", 0) == 0) {
            ctx.config_credentials_file = path; // where check and the log say they came from
        }
        if (key == "aws_access_key_id") {
            ctx.config_access_key = value;
        } else if (key == "aws_secret_access_key") {
            ctx.config_secret_key = value;
            has_secret = true;
        } else if (key == "aws_session_token") {
            ctx.config_session_token = value;
            has_secret = true;
        } else if (keys.count(key)) {
            ::setenv(env_for(key).c_str(), value.c_str(), 0);
        } else {
            throw Error(ExitCode::usage,
                        fmt::format("{}:{}: unknown key '{}'", path, line_no, key));
        }
    }
    struct stat st {};
    if (has_secret && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077)) {
        std::fprintf(stderr,
                     "imgsync: warning: %s holds a secret key and is readable by others "
                     "(mode %03o); run chmod 600 %s\n",
                     util::printable(path).c_str(), static_cast<unsigned>(st.st_mode & 0777),
                     util::printable(path).c_str());
    }
}

// --config must be known before CLI11 parses, because the file's values feed the parse.
std::pair<std::string, bool> find_config_path(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") {
            break;
        }
        if (arg == "--config" && i + 1 < argc) {
            return {argv[i + 1], true};
        }
        if (arg.rfind("--config=", 0) == 0) {
            return {arg.substr(9), true};
        }
    }
    if (const char* env = std::getenv("IMGSYNC_CONFIG"); env && *env) {
        return {env, true};
    }
    return {default_config_file, false};
}

void collect_option_names(CLI::App& app, std::set<std::string>& names, bool recurse = true) {
    for (const CLI::Option* opt : app.get_options()) {
        for (const std::string& n : opt->get_lnames()) {
            names.insert("--" + n);
        }
        for (const std::string& n : opt->get_snames()) {
            names.insert("-" + n);
        }
    }
    for (CLI::App* sub : recurse ? app.get_subcommands({}) : std::vector<CLI::App*>{}) {
        collect_option_names(*sub, names);
    }
}

// The options of app (not of its subcommands) that take a value, with their dashes.
std::set<std::string> valued_option_names(CLI::App& app) {
    std::set<std::string> names;
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_expected_min() > 0 && !opt->get_positional()) {
            for (const std::string& n : opt->get_lnames()) {
                names.insert("--" + n);
            }
        }
    }
    return names;
}

// What CLI11 did not expect: an unknown option named with the nearest real one (of the command
// given and the global ones), an unknown command with the nearest command, else the words.
std::string extras_problem(CLI::App& app, const std::vector<std::string_view>& words,
                           const std::set<std::string>& commands) {
    const std::vector<std::string> extras = app.remaining(true);
    const std::vector<CLI::App*> given = app.get_subcommands();
    for (const std::string& e : extras) {
        if (e.size() > 1 && e[0] == '-') {
            std::set<std::string> known;
            collect_option_names(app, known, false);
            if (!given.empty()) {
                collect_option_names(*given.front(), known, false);
            }
            return option_problem(e, known, given.empty() ? "" : given.front()->get_name());
        }
    }
    if (given.empty()) {
        return command_problem(words, commands, valued_option_names(app));
    }
    return unexpected_arguments(extras, words);
}

// Each command's --help ends by saying where the global options are.
void add_global_options_footer(CLI::App& app) {
    std::string names = "  ";
    std::size_t line = 2;
    for (const CLI::Option* opt : app.get_options()) {
        const auto& l = opt->get_lnames();
        if (l.empty() || l[0] == "help" || l[0] == "version") {
            continue;
        }
        const std::string item = (line > 2 ? " --" : "--") + l[0] + ",";
        if (line + item.size() > 80) {
            names += "\n  ";
            line = 2;
        }
        names += line == 2 ? "--" + l[0] + "," : item;
        line += item.size();
    }
    names.pop_back(); // the last ',
    for (CLI::App* sub : app.get_subcommands({})) {
        sub->footer("Global options (also after the command; imgsync --help describes them):\n" +
                    names);
    }
}

// The one place where a failure becomes output and an exit status.
int fail(Reporting how, ExitCode code, std::string_view message) {
    if (how == Reporting::plugin) {
        const core::CheckResult result = core::check_unknown(message);
        std::puts(result.line.c_str());
        return result.exit_code;
    }
    // What the command printed first comes first, also when stdout and stderr share one pipe
    // (`check 2>&1 | logger`): stdout is fully buffered there, stderr is not.
    std::fflush(stdout);
    std::fprintf(stderr, "imgsync: %s\n", util::printable(message).c_str());
    return static_cast<int>(code);
}

// --db classified (a password in a URI is refused when it was typed on the command line) and the
// host id defaulted to the host name.
bool given_on_command_line(const std::vector<std::string_view>& words, const std::string& name) {
    for (auto w : words) {
        if (w == name || w.rfind(name + "=", 0) == 0) {
            return true;
        }
    }
    return false;
}

void settle_globals(const std::vector<std::string_view>& words, core::GlobalSettings& g) {
    bool on_command_line = given_on_command_line(words, "--db");
    g.db_target =
        storage::classify_db(g.db, on_command_line ? storage::DbSource::command_line
                                                   : storage::DbSource::environment_or_config)
            .or_throw(ExitCode::usage);
    if (g.host_id.empty()) {
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
            throw Error(ExitCode::usage, "--host-id: the host name is unknown; give --host-id");
        }
        g.host_id = name;
    }
    if (g.host_id.size() > 200 || !util::is_printable(g.host_id)) {
        throw Error(ExitCode::usage, "--host-id: at most 200 printable characters");
    }
}

// add hashes the parts of a large file for the part size upload will use, so both take these.
void add_multipart_options(CLI::App* cmd, core::MultipartSettings& s) {
    cmd->add_option("--multipart-threshold", s.multipart_threshold,
                    "Files at least this large use multipart upload");
    cmd->add_option("--part-size", s.part_size,
                    "Multipart part size (grown to stay within 10,000 parts)");
}

// How each object is stored (s3/object_settings validates the values before any request).
void add_object_options(CLI::App* cmd, s3::ObjectSettingsInput& s) {
    cmd->add_option("--storage-class", s.storage_class,
                    "Storage class of each object (STANDARD_IA, GLACIER_IR, a store's own, ...)");
    cmd->add_option("--cache-control", s.cache_control, "Cache-Control header of each object");
    cmd->add_option("--content-disposition", s.content_disposition,
                    "Content-Disposition header of each object");
    cmd->add_option("--metadata", s.metadata,
                    "User metadata KEY=VALUE (x-amz-meta-KEY); repeat it or separate entries "
                    "with commas")
        ->delimiter(',');
    cmd->add_option("--tagging", s.tagging, "Object tags as K=V&K2=V2 (URL-encoded)");
    add_enum_option(*cmd, "--acl", s.acl,
                    {s3::CannedAcl::private_acl, s3::CannedAcl::public_read,
                     s3::CannedAcl::public_read_write, s3::CannedAcl::authenticated_read,
                     s3::CannedAcl::aws_exec_read, s3::CannedAcl::bucket_owner_read,
                     s3::CannedAcl::bucket_owner_full_control},
                    "none", "Canned ACL of each object (none: the bucket's default)");
    add_enum_option(*cmd, "--sse", s.sse, {s3::Sse::aes256, s3::Sse::kms}, "none",
                    "Server-side encryption: AES256 (SSE-S3) or aws:kms (SSE-KMS)");
    cmd->add_option("--sse-kms-key-id", s.sse_kms_key_id,
                    "With --sse aws:kms: the KMS key (id or ARN; default: the account's key)");
}

// add and seed hash on this many threads.
void add_jobs_option(CLI::App* cmd, unsigned& jobs) {
    cmd->add_option("--jobs", jobs, "Hashing threads (0: the number of cores)")
        ->check(CLI::Range(0, 256));
}

} // namespace

int run(int argc, char** argv) {
    core::Context ctx;
    core::GlobalSettings& g = ctx.global;
    core::SeedSettings seed;
    core::AddSettings add;
    core::ListSettings list;
    core::StatusSettings status;
    core::UploadSettings upload;
    core::RetrySettings retry;
    core::PresignSettings presign;
    core::MigrateSettings migrate;

    CLI::App app{"imgsync: moves a backlog of image files into S3 at a controlled pace.\n"
                 "Every option can also be set as IMGSYNC_<NAME> in the environment or as\n"
                 "<name> = value in the config file (precedence: command line, environment,\n"
                 "config file, default). Credentials come from AWS_ACCESS_KEY_ID /\n"
                 "AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or ~/.aws profiles, never from\n"
                 "the command line.",
                 "imgsync"};
    app.set_version_flag("--version", util::version_line());
    app.require_subcommand(1);
    app.fallthrough();
    app.option_defaults()->always_capture_default();

    app.add_option("--config", g.config_file,
                   "Config file (key = value lines); default /etc/imgsync/imgsync.conf when it "
                   "exists")
        ->envname("IMGSYNC_CONFIG");
    app.add_option("--db", g.db,
                   "State file (SQLite, created on first use with mode 0600), or a PostgreSQL "
                   "URI postgresql://USER@HOST:PORT/DBNAME (password from ~/.pgpass, "
                   "PGPASSWORD, IMGSYNC_DB or the config file, never the command line)");
    app.add_option("--host-id", g.host_id,
                   "This host's name in a shared backlog, recorded by add, seed and upload "
                   "(default: the host name)");
    app.add_option("--spool", g.spool, "Directory where seed writes images (created 0700)");
    app.add_option("--bucket", g.bucket, "Destination bucket");
    app.add_option("--prefix", g.prefix,
                   "Prepended to every object key, e.g. photos/; applies to add and seed (the key "
                   "is fixed when an image is registered)");
    app.add_option("--endpoint", g.endpoint,
                   "S3 endpoint URL (also AWS_ENDPOINT_URL); default AWS itself");
    app.add_option("--region", g.region,
                   "Region (also AWS_REGION, AWS_DEFAULT_REGION, the profile's region); "
                   "default us-east-1");
    add_enum_option(
        app, "--addressing", g.addressing,
        {s3::Addressing::automatic, s3::Addressing::path, s3::Addressing::virtual_hosted},
        "auto: virtual-hosted on AWS, path-style for IP or custom endpoints");
    app.add_option("--profile", g.profile,
                   "AWS profile (else AWS_PROFILE, else AWS_DEFAULT_PROFILE, else default)");
    app.add_option("--ca-bundle", g.ca_bundle, "CA certificates file for a private CA");
    add_enum_option(app, "--log-format", g.log_format,
                    {util::Logger::Format::logfmt, util::Logger::Format::json},
                    "Log lines on stderr: logfmt or json");
    app.add_flag("-v,--verbose", g.verbose, "Log debug events too");
    app.add_flag("-q,--quiet", g.quiet, "Log warnings and errors only");

    auto* seed_cmd = app.add_subcommand("seed", "Write N dummy images into the spool and register "
                                                "them as pending (demos, CI)");
    seed_cmd->add_option("--count", seed.count, "How many images")
        ->required()
        ->check(CLI::Range(1, 100000000));
    seed_cmd->add_option("--min-bytes", seed.min_bytes, "Smallest image size (K, M = 1024 powers)");
    seed_cmd->add_option("--max-bytes", seed.max_bytes, "Largest image size");
    add_enum_option(*seed_cmd, "--format", seed.format,
                    {core::SynthFormat::png, core::SynthFormat::jpeg, core::SynthFormat::mixed},
                    "png, jpeg or mixed");
    seed_cmd->add_option("--seed", seed.seed, "Random seed (default: from the clock)");
    add_jobs_option(seed_cmd, seed.jobs);

    auto* add_cmd = app.add_subcommand("add", "Register image files (directories are walked)");
    add_cmd->add_option("paths", add.paths, "Files or directories")->required();
    add_enum_option(*add_cmd, "--key-layout", add.key_layout,
                    {core::KeyLayout::path, core::KeyLayout::sha256, core::KeyLayout::date,
                     core::KeyLayout::exif_date},
                    "path: prefix + path relative to the argument; sha256: prefix + "
                    "content hash; date: prefix + YYYY/MM/DD/name (mtime); exif-date: the same "
                    "from EXIF DateTimeOriginal, else the mtime");
    add_cmd->add_option("--key-template", add.key_template,
                        "Key from named fields, e.g. '{prefix}{date}/{sha256:8}-{name}' (fields: "
                        "prefix path dir name stem ext sha256 sha256:N year month day hour "
                        "minute second date)");

    add_multipart_options(add_cmd, add.multipart);
    add_jobs_option(add_cmd, add.jobs);

    auto* list_cmd = app.add_subcommand("list", "List the backlog");
    add_enum_option(*list_cmd, "--state", list.state,
                    {core::ImageState::pending, core::ImageState::uploading,
                     core::ImageState::uploaded, core::ImageState::failed},
                    "all", "pending, uploading, uploaded, failed or all");
    list_cmd->add_option("--limit", list.limit, "At most N rows (-1: all)");
    list_cmd->add_flag("--json", list.json, "One JSON array");

    auto* status_cmd = app.add_subcommand("status", "Is the backlog draining?");
    status_cmd->add_flag("--json", status.json, "JSON object instead of text");
    status_cmd->add_flag("--check", status.check,
                         "Nagios/Icinga plugin output; exit 0 OK, 1 WARNING, 2 CRITICAL, "
                         "3 UNKNOWN");
    // Thresholds: N alerts at >= N; N:, ~:N, N:M and @N:M are Monitoring Plugins ranges.
    status_cmd->add_option("--warn-pending", status.warn_pending,
                           "--check: pending images; N (>= N) or a range N: ~:N N:M @N:M");
    status_cmd->add_option("--crit-pending", status.crit_pending,
                           "--check: pending images; N or a range, as --warn-pending");
    status_cmd->add_option("--warn-age", status.warn_age,
                           "--check: oldest pending age, e.g. 1h; N or a range, e.g. 10m:1h");
    status_cmd->add_option("--crit-age", status.crit_age,
                           "--check: oldest pending age; N or a range");
    status_cmd->add_option("--crit-failed", status.crit_failed,
                           "--check: failed images; N or a range");
    status_cmd->add_option("--crit-failed-passes", status.crit_failed_passes,
                           "--check: failed passes in a row (one failed pass is a WARNING)");
    status_cmd->add_option("--warn-success-age", status.warn_success_age,
                           "--check: time since the last successful pass, e.g. 1h; N or a range");
    status_cmd->add_option("--crit-success-age", status.crit_success_age,
                           "--check: time since the last successful pass; N or a range");
    status_cmd->add_option("--prometheus", status.prometheus,
                           "Also write metrics to FILE (node_exporter textfile format)");
    status_cmd->add_option("--window", status.window, "Window for arrival and upload rates");

    auto* upload_cmd = app.add_subcommand("upload", "Run one throttled upload pass");
    upload_cmd->add_option("--concurrency", upload.concurrency, "Uploads in flight at once")
        ->check(CLI::Range(1, 256));
    upload_cmd->add_option("--max-images", upload.max_images, "At most N images this pass")
        ->check(CLI::PositiveNumber);
    upload_cmd->add_option("--max-bytes", upload.max_bytes,
                           "At most SIZE bytes this pass (K, M, G = 1024 powers; KB, MB = 1000)");
    upload_cmd->add_option("--rate", upload.rate,
                           "Images per second, or COUNT/PERIOD such as 100/1m (token bucket)");
    upload_cmd->add_option("--burst", upload.burst,
                           "Token bucket size for --rate (0: the concurrency)");
    upload_cmd->add_option("--bandwidth", upload.bandwidth,
                           "Bytes per second across all uploads, or a timetable such as "
                           "\"08:00,512K 19:00,10M 23:00,off\"");
    upload_cmd->add_option("--max-duration", upload.max_duration,
                           "Soft deadline (90s, 4m30s): no new upload starts after it");
    upload_cmd->add_option("--grace", upload.grace,
                           "After the deadline or a signal, time for uploads in flight");
    upload_cmd
        ->add_option("--max-attempts", upload.max_attempts,
                     "Attempts in total before an image becomes failed")
        ->check(CLI::Range(1, 1000));
    upload_cmd
        ->add_option("--pass-attempts", upload.pass_attempts,
                     "Attempts within one pass before an image waits for the next pass")
        ->check(CLI::Range(1, 100));
    add_multipart_options(upload_cmd, upload.multipart);
    upload_cmd->add_option("--stall-timeout", upload.stall_timeout,
                           "Abandon a request that moves no byte for this long");
    upload_cmd->add_option("--connect-timeout", upload.connect_timeout, "TCP/TLS connect timeout");
    upload_cmd->add_flag("--wait", upload.wait,
                         "Wait for another pass to finish instead of "
                         "exiting with status 5");
    upload_cmd->add_option("--wait-timeout", upload.wait_timeout,
                           "With --wait: give up after this long (e.g. 10m) and exit with "
                           "status 5; default: no limit");
    upload_cmd->add_option("--metrics-file", upload.metrics_file,
                           "Write Prometheus metrics to FILE after the pass");
    add_enum_option(*upload_cmd, "--claim", upload.claim,
                    {storage::ClaimScope::local, storage::ClaimScope::any},
                    "local: only images added with this --host-id; any: every image (files on a "
                    "filesystem every uploader mounts)");
    upload_cmd->add_option("--lease", upload.lease,
                           "How long a claimed image stays reserved without renewal "
                           "(PostgreSQL; renewed every third of it)");
    add_enum_option(
        *upload_cmd, "--progress", upload.progress,
        {core::ProgressMode::automatic, core::ProgressMode::always, core::ProgressMode::never},
        "Live progress line: auto (only on a terminal), always, never");
    add_object_options(upload_cmd, upload.object);
    upload_cmd->add_flag("--if-none-match", upload.if_none_match,
                         "Never overwrite an object: a key that exists counts as uploaded only "
                         "if it holds this image (its x-amz-meta-sha256)");

    auto* retry_cmd = app.add_subcommand("retry", "Move failed images back to pending");
    retry_cmd->add_flag("--all", retry.all, "Every failed image");
    retry_cmd->add_option("ids", retry.ids, "Image ids (see list --state failed)");

    app.add_subcommand("check", "Validate configuration and credentials with one signed "
                                "request to the bucket");

    auto* presign_cmd = app.add_subcommand("presign", "Print a presigned GET URL for a key");
    presign_cmd->add_option("key", presign.key, "Object key (the prefix is not added)")->required();
    presign_cmd->add_option("--expires", presign.expires, "Seconds the URL stays valid")
        ->check(CLI::Range(1, 604800));

    auto* migrate_cmd = app.add_subcommand(
        "migrate", "Copy the backlog from --db into another state (SQLite or PostgreSQL): every "
                   "image with its state, attempts, errors and multipart progress, and the "
                   "passes; idempotent, the source untouched, the counts verified");
    migrate_cmd
        ->add_option("--to", migrate.to,
                     "The target, as for --db: a state file path or a postgresql:// URI")
        ->required();
    // Hidden (no group): the bash completion script, generated from this very table.
    std::string completion_shell;
    auto* completion_cmd = app.add_subcommand("completion", "Print a shell completion script");
    completion_cmd->group("");
    completion_cmd->add_option("shell", completion_shell, "bash")
        ->required()
        ->check(CLI::IsMember({"bash"}));

    std::set<std::string> keys;
    assign_env_names(app, keys);
    add_global_options_footer(app);

    // Every failure from here on becomes an exit status in fail(), and nowhere else.
    const std::vector<std::string_view> words = option_words(argc, argv);
    std::set<std::string> commands, option_names;
    for (const CLI::App* sub : app.get_subcommands({})) {
        commands.insert(sub->get_name());
    }
    collect_option_names(app, option_names);
    std::set<std::string> visible_commands = commands;
    visible_commands.erase("completion");
    Reporting how = reporting_for(words, commands);
    try {
        refuse_credential_options(words);
        auto [config_path, required] = find_config_path(argc, argv);
        load_config(config_path, required, keys, ctx);
        app.parse(argc, argv);
    } catch (const CLI::ExtrasError&) {
        return fail(how, ExitCode::usage, extras_problem(app, words, visible_commands));
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            return app.exit(e);
        }
        // No command recognised (CLI11: "A subcommand is required"), not an option's problem.
        if (app.get_subcommands().empty() &&
            std::string_view(e.what()).find("subcommand") != std::string_view::npos) {
            return fail(how, ExitCode::usage,
                        command_problem(words, visible_commands, valued_option_names(app)));
        }
        return fail(how, ExitCode::usage, without_unknown_values(e.what(), words, option_names));
    } catch (const Error& e) {
        return fail(how, e.code(), e.what());
    }
    // Now the settings are known, from the environment and the config file too.
    how = status_cmd->parsed() && status.check ? Reporting::plugin : Reporting::command;
    try {
        settle_globals(words, g);
    } catch (const Error& e) {
        return fail(how, e.code(), e.what());
    }

    util::Logger log(stderr, g.log_format, util::threshold_for(g.verbose, g.quiet));
    log.set_color(g.log_format == util::Logger::Format::logfmt && ::isatty(2) &&
                  !std::getenv("NO_COLOR"));
    ctx.log = &log;

    try {
        if (completion_cmd->parsed()) {
            std::fputs(bash_completion(app).c_str(), stdout);
            return 0;
        }
        if (seed_cmd->parsed()) {
            return core::cmd_seed(ctx, seed);
        }
        if (add_cmd->parsed()) {
            return core::cmd_add(ctx, add);
        }
        if (list_cmd->parsed()) {
            return core::cmd_list(ctx, list);
        }
        if (status_cmd->parsed()) {
            return core::cmd_status(ctx, status);
        }
        if (upload_cmd->parsed()) {
            return core::cmd_upload(ctx, upload);
        }
        if (retry_cmd->parsed()) {
            if (!retry.all && retry.ids.empty()) {
                throw Error(ExitCode::usage, "retry: give image ids or --all");
            }
            if (retry.all && !retry.ids.empty()) {
                throw Error(ExitCode::usage, "retry: give image ids or --all, not both");
            }
            return core::cmd_retry(ctx, retry);
        }
        if (presign_cmd->parsed()) {
            return core::cmd_presign(ctx, presign);
        }
        if (migrate_cmd->parsed()) {
            migrate.target = storage::classify_db(migrate.to,
                                                  given_on_command_line(words, "--to")
                                                      ? storage::DbSource::command_line
                                                      : storage::DbSource::environment_or_config,
                                                  "--to")
                                 .or_throw(ExitCode::usage);
            return core::cmd_migrate(ctx, migrate);
        }
        return core::cmd_check(ctx);
    } catch (const Error& e) {
        return fail(how, e.code(), e.what());
    } catch (const std::exception& e) {
        return fail(how, ExitCode::internal, std::string("internal error: ") + e.what());
    }
}

} // namespace imgsync::cli
