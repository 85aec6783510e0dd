#include "cli/command_table.hpp"

#include "cli/args.hpp"

namespace imgsync::cli {

// add hashes the parts of a large file for the part size upload will use, so both take these.
void add_multipart_options(CLI::App* cmd, core::MultipartSettings& s) {
    cmd->add_option("--multipart-threshold", s.multipart_threshold,
                    "Files at least this large use multipart upload");
    cmd->add_option("--part-size", s.part_size,
                    "Multipart part size (grown to stay within 10,000 parts)");
}

// How add and upload --source name the objects of the files they register.
void add_key_options(CLI::App* cmd, core::KeyLayout& layout, std::string& key_template) {
    add_enum_option(*cmd, "--key-layout", layout,
                    {core::KeyLayout::path, core::KeyLayout::sha256, core::KeyLayout::date,
                     core::KeyLayout::exif_date},
                    "path: prefix + path relative to the argument; sha256: prefix + "
                    "content hash; date: prefix + YYYY/MM/DD/name (mtime); exif-date: the same "
                    "from EXIF DateTimeOriginal, else the mtime");
    cmd->add_option("--key-template", key_template,
                    "Key from named fields, e.g. '{prefix}{date}/{sha256:8}-{name}' (fields: "
                    "prefix path dir name stem ext sha256 sha256:N year month day hour "
                    "minute second date)");
}

// add and upload --source skip what these globs match below a directory they walk.
void add_exclude_option(CLI::App* cmd, std::vector<std::string>& patterns) {
    cmd->add_option("--exclude", patterns,
                    "Skip files and directories whose path below a directory argument matches "
                    "this glob (fnmatch; '*' also matches '/'; a trailing '/' matches directories "
                    "only; a directory matched is not entered); repeat it or separate with commas")
        ->delimiter(',');
}

// add and seed hash on this many threads.
void add_jobs_option(CLI::App* cmd, unsigned& jobs) {
    cmd->add_option("--jobs", jobs, "Hashing threads (0: the number of cores)")
        ->check(CLI::Range(0, 256));
}

// upload and prune: what becomes of a local file once S3 holds it.
void add_local_file_options(CLI::App* cmd, core::LocalFileSettings& s) {
    add_enum_option(*cmd, "--after-upload", s.after_upload,
                    {core::AfterUpload::keep, core::AfterUpload::remove, core::AfterUpload::move},
                    "What becomes of an uploaded image's local file: keep, delete, or move "
                    "(under --move-to); never a file changed since its upload");
    cmd->add_option("--move-to", s.move_to,
                    "With --after-upload move: the directory files go under, each at its "
                    "absolute path (/srv/in/a.jpg: DIR/srv/in/a.jpg)");
    cmd->add_option("--keep-for", s.keep_for,
                    "Keep a file this long after its upload before deleting or moving it, e.g. 7d");
    cmd->add_flag("--delete-empty-dirs", s.delete_empty_dirs,
                  "Remove the directories a deleted or moved file leaves empty, below a --source "
                  "(never the source itself)");
}

void define_global_options(CLI::App& app, core::GlobalSettings& g) {
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
}

Commands define_commands(CLI::App& app, Settings& s) {
    Commands c;
    auto* seed_cmd = app.add_subcommand("seed", "Write N dummy images into the spool and register "
                                                "them as pending (demos, CI)");
    seed_cmd->add_option("--count", s.seed.count, "How many images")
        ->required()
        ->check(CLI::Range(1, 100000000));
    seed_cmd->add_option("--min-bytes", s.seed.min_bytes,
                         "Smallest image size (K, M = 1024 powers)");
    seed_cmd->add_option("--max-bytes", s.seed.max_bytes, "Largest image size");
    add_enum_option(*seed_cmd, "--format", s.seed.format,
                    {core::SynthFormat::png, core::SynthFormat::jpeg, core::SynthFormat::mixed},
                    "png, jpeg or mixed");
    seed_cmd->add_option("--seed", s.seed.seed, "Random seed (default: from the clock)");
    add_jobs_option(seed_cmd, s.seed.jobs);

    auto* add_cmd = app.add_subcommand("add", "Register image files (directories are walked)");
    add_cmd->add_option("paths", s.add.paths, "Files or directories")->required();
    add_key_options(add_cmd, s.add.key_layout, s.add.key_template);

    add_exclude_option(add_cmd, s.add.exclude);
    add_multipart_options(add_cmd, s.add.multipart);
    add_jobs_option(add_cmd, s.add.jobs);

    auto* list_cmd = app.add_subcommand("list", "List the backlog");
    add_enum_option(*list_cmd, "--state", s.list.state,
                    {core::ImageState::pending, core::ImageState::uploading,
                     core::ImageState::uploaded, core::ImageState::failed},
                    "all", "pending, uploading, uploaded, failed or all");
    list_cmd->add_option("--limit", s.list.limit, "At most N rows (-1: all)");
    list_cmd->add_flag("--json", s.list.json, "One JSON array");
    list_cmd->add_flag("--refused", s.list.refused,
                       "The files add refused and skips while they stay unchanged (path, size, "
                       "last seen, reason) instead of images");

    auto* status_cmd = app.add_subcommand("status", "Is the backlog draining?");
    status_cmd->add_flag("--json", s.status.json, "JSON object instead of text");
    status_cmd->add_flag("--check", s.status.check,
                         "Nagios/Icinga plugin output; exit 0 OK, 1 WARNING, 2 CRITICAL, "
                         "3 UNKNOWN");
    // Thresholds: N alerts at >= N; N:, ~:N, N:M and @N:M are Monitoring Plugins ranges.
    status_cmd->add_option("--warn-pending", s.status.warn_pending,
                           "--check: pending images; N (>= N) or a range N: ~:N N:M @N:M");
    status_cmd->add_option("--crit-pending", s.status.crit_pending,
                           "--check: pending images; N or a range, as --warn-pending");
    status_cmd->add_option("--warn-age", s.status.warn_age,
                           "--check: oldest pending age, e.g. 1h; N or a range, e.g. 10m:1h");
    status_cmd->add_option("--crit-age", s.status.crit_age,
                           "--check: oldest pending age; N or a range");
    status_cmd->add_option("--crit-failed", s.status.crit_failed,
                           "--check: failed images; N or a range");
    status_cmd->add_option("--crit-failed-passes", s.status.crit_failed_passes,
                           "--check: failed passes in a row (one failed pass is a WARNING)");
    status_cmd->add_option("--warn-success-age", s.status.warn_success_age,
                           "--check: time since the last successful pass, e.g. 1h; N or a range");
    status_cmd->add_option("--crit-success-age", s.status.crit_success_age,
                           "--check: time since the last successful pass; N or a range");
    status_cmd->add_option("--prometheus", s.status.prometheus,
                           "Also write metrics to FILE (node_exporter textfile format)");
    status_cmd->add_option("--window", s.status.window, "Window for arrival and upload rates");

    auto* upload_cmd = define_upload(app, s.upload);

    auto* retry_cmd = app.add_subcommand("retry", "Move failed images back to pending");
    retry_cmd->add_flag("--all", s.retry.all, "Every failed image");
    retry_cmd->add_option("ids", s.retry.ids, "Image ids (see list --state failed)");

    auto* forget_cmd = app.add_subcommand(
        "forget", "Remove images from the backlog (files and objects are not touched)");
    forget_cmd->add_option("ids", s.forget.ids, "Image ids (see list)");
    add_enum_option(
        *forget_cmd, "--state", s.forget.state,
        {core::ImageState::pending, core::ImageState::uploaded, core::ImageState::failed}, "",
        "Every image in this state instead of ids: failed, pending or uploaded");
    forget_cmd->add_flag("--refused", s.forget.refused,
                         "Instead: every refusal add remembers, so that the next add tries those "
                         "files again");

    auto* verify_cmd = app.add_subcommand(
        "verify", "HEAD each uploaded image's object and report every one missing or changed");
    auto* all = verify_cmd->add_flag("--all", s.verify.all, "Every uploaded image (the default)");
    auto* sample =
        verify_cmd->add_option("--sample", s.verify.sample, "N uploaded images drawn at random")
            ->check(CLI::PositiveNumber)
            ->excludes(all);
    verify_cmd
        ->add_option("--since", s.verify.since,
                     "The images uploaded within this duration, e.g. 1d or 12h")
        ->excludes(all)
        ->excludes(sample);
    verify_cmd->add_flag("--requeue", s.verify.requeue,
                         "Put a missing or changed object's image back to pending when its local "
                         "file still matches");
    verify_cmd->add_option("--concurrency", s.verify.concurrency, "Requests in flight at once")
        ->check(CLI::Range(1, 256));
    verify_cmd->add_option("--rate", s.verify.rate,
                           "Objects per second, or COUNT/PERIOD such as 100/1m (token bucket)");
    verify_cmd->add_option("--burst", s.verify.burst,
                           "Token bucket size for --rate (0: the concurrency)");
    verify_cmd->add_option("--stall-timeout", s.verify.stall_timeout,
                           "Abandon a request that sends or receives nothing for this long");
    verify_cmd->add_option("--connect-timeout", s.verify.connect_timeout,
                           "TCP/TLS connect timeout");

    auto* prune_cmd = app.add_subcommand(
        "prune", "Delete or move the local files of uploaded images, as --after-upload says");
    add_local_file_options(prune_cmd, s.prune.local);
    prune_cmd
        ->add_option("--source", s.prune.sources,
                     "A source directory, as for upload: with --delete-empty-dirs, directories "
                     "emptied below it are removed; repeat it or separate directories with ':'")
        ->delimiter(':');
    prune_cmd->add_flag("--dry-run", s.prune.dry_run,
                        "Print what would be deleted or moved; change nothing");

    auto* check_cmd =
        app.add_subcommand("check", "Validate configuration and credentials with one signed "
                                    "request to the bucket");

    auto* presign_cmd = app.add_subcommand("presign", "Print a presigned GET URL for a key");
    presign_cmd->add_option("key", s.presign.key, "Object key (the prefix is not added)")
        ->required();
    presign_cmd->add_option("--expires", s.presign.expires, "Seconds the URL stays valid")
        ->check(CLI::Range(1, 604800));

    auto* migrate_cmd = app.add_subcommand(
        "migrate", "Copy the backlog from --db into another state (SQLite or PostgreSQL): every "
                   "image with its state, attempts, errors and multipart progress, and the "
                   "passes; idempotent, the source untouched, the counts verified");
    migrate_cmd
        ->add_option("--to", s.migrate.to,
                     "The target, as for --db: a state file path or a postgresql:// URI")
        ->required();
    // Hidden (no group): the bash completion script, generated from this very table.
    auto* completion_cmd = app.add_subcommand("completion", "Print a shell completion script");
    completion_cmd->group("");
    completion_cmd->add_option("shell", s.completion_shell, "bash")
        ->required()
        ->check(CLI::IsMember({"bash"}));
    c.seed = seed_cmd;
    c.add = add_cmd;
    c.list = list_cmd;
    c.status = status_cmd;
    c.upload = upload_cmd;
    c.retry = retry_cmd;
    c.forget = forget_cmd;
    c.verify = verify_cmd;
    c.prune = prune_cmd;
    c.check = check_cmd;
    c.presign = presign_cmd;
    c.migrate = migrate_cmd;
    c.completion = completion_cmd;
    return c;
}

} // namespace imgsync::cli
