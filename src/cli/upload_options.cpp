#include "cli/args.hpp"
#include "cli/command_table.hpp"

namespace imgsync::cli {

namespace {

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
    add_enum_option(*cmd, "--checksum-algorithm", s.checksum_algorithm,
                    {s3::ChecksumAlgorithm::crc32c, s3::ChecksumAlgorithm::sha256}, "none",
                    "Also send each body's x-amz-checksum-crc32c or -sha256, which the store "
                    "checks and echoes where it supports them");
}

} // namespace

CLI::App* define_upload(CLI::App& app, core::UploadSettings& upload) {
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
    upload_cmd->add_option("--fleet-rate", upload.fleet_rate,
                           "Images per second (or COUNT/PERIOD) for every pass on the backlog "
                           "together: one token bucket in the database");
    upload_cmd->add_option("--fleet-burst", upload.fleet_burst,
                           "Token bucket size for --fleet-rate (0: one second's worth)");
    upload_cmd->add_option("--lease", upload.lease,
                           "How long a claimed image stays reserved without renewal "
                           "(PostgreSQL; renewed every third of it)");
    add_enum_option(
        *upload_cmd, "--progress", upload.progress,
        {core::ProgressMode::automatic, core::ProgressMode::always, core::ProgressMode::never},
        "Live progress line: auto (only on a terminal), always, never");
    add_object_options(upload_cmd, upload.object);
    add_local_file_options(upload_cmd, upload.local);
    upload_cmd
        ->add_option("--source", upload.sources,
                     "Before the pass, register what is new or changed in this directory as "
                     "add DIR would (with --prefix, --key-layout, --key-template, --exclude); "
                     "repeat it or separate directories with ':'")
        ->delimiter(':');
    add_key_options(upload_cmd, upload.scan_key_layout, upload.scan_key_template);
    add_exclude_option(upload_cmd, upload.scan_exclude);
    upload_cmd->add_flag("--dry-run", upload.dry_run,
                         "Print the images this pass would upload, in order, within --max-images "
                         "and --max-bytes; change nothing, send nothing");
    upload_cmd->add_flag("--if-none-match", upload.if_none_match,
                         "Never overwrite an object: a key that exists counts as uploaded only "
                         "if it holds this image (its x-amz-meta-sha256)");
    return upload_cmd;
}

} // namespace imgsync::cli
