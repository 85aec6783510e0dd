// Every knob of imgsync in one place, as the command line, the environment and the config file
// settled it (cli/ fills it; the commands read it). Defaults here are the documented defaults. A
// setting that is one of a closed set of names is the enum of the module that owns it: cli/ maps
// the names, the commands compare values.
#pragma once

#include "images/image_synth.hpp"
#include "ingest/ingest.hpp"
#include "model/image_state.hpp"
#include "model/prune.hpp"
#include "pass/upload_pass.hpp"
#include "s3/endpoint.hpp"
#include "s3/object_settings.hpp"
#include "storage/db_target.hpp"
#include "storage/store.hpp"
#include "util/log.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imgsync::core {

struct GlobalSettings {
    std::string config_file;
    std::string db = "/var/lib/imgsync/state.db";
    storage::DbTarget db_target; // --db classified (cli/ sets it)
    std::string host_id;         // empty on the command line: the host name (cli/ sets it)
    std::string spool = "/var/lib/imgsync/spool";
    std::string bucket;
    std::string prefix;
    std::string endpoint; // empty: AWS
    std::string region;   // empty: from AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1
    s3::Addressing addressing = s3::Addressing::automatic;
    std::string profile; // AWS profile; empty: AWS_PROFILE or "default"
    std::string ca_bundle;
    util::Logger::Format log_format = util::Logger::Format::logfmt;
    bool verbose = false;
    bool quiet = false;
};

struct SeedSettings {
    std::int64_t count = 0;
    std::string min_bytes = "8K";
    std::string max_bytes = "1M";
    SynthFormat format = SynthFormat::mixed;
    std::optional<std::uint64_t> seed;
    unsigned jobs = 0; // --jobs: hashing threads; 0: the number of cores
};

// --multipart-threshold and --part-size belong to add as well as to upload: add hashes each part
// of a large file in the same read as the whole file, for the part size upload will use.
struct MultipartSettings {
    std::string multipart_threshold = "64M";
    std::string part_size = "16M";
};

struct AddSettings {
    std::vector<std::string> paths;
    KeyLayout key_layout = KeyLayout::path;
    std::string key_template;         // --key-template: wins over the layout when set
    std::vector<std::string> exclude; // --exclude: globs on the path below a directory argument
    MultipartSettings multipart;
    unsigned jobs = 0; // --jobs: hashing threads; 0: the number of cores
};

struct ListSettings {
    std::optional<ImageState> state; // empty: all
    bool refused = false;            // the remembered refusals instead of images
    std::int64_t limit = -1;
    bool json = false;
};

struct StatusSettings {
    bool json = false;
    bool check = false;
    // Thresholds as typed: N, N:, ~:N, N:M or @N:M (report/threshold.hpp); empty: none.
    std::string warn_pending, crit_pending, crit_failed;
    std::optional<std::int64_t> crit_failed_passes;
    std::string warn_age, crit_age;
    std::string warn_success_age, crit_success_age;
    std::string prometheus;
    std::string window = "24h";
};

// What becomes of an image's local file once S3 holds it: upload --after-upload and prune.
struct LocalFileSettings {
    AfterUpload after_upload = AfterUpload::keep;
    std::string move_to;            // for move: the directory the files go under
    std::string keep_for = "0s";    // how long after its upload a file stays
    bool delete_empty_dirs = false; // directories emptied below a source go too
};

struct UploadSettings {
    int concurrency = 8;
    std::optional<std::int64_t> max_images;
    std::string max_bytes;    // per pass; empty: no limit
    std::string rate;         // images/s or COUNT/PERIOD; empty: unlimited
    double burst = 0;         // 0: max(1, concurrency)
    std::string bandwidth;    // bytes/s or timetable; empty: unlimited
    std::string max_duration; // soft deadline; empty: none
    std::string grace = "30s";
    int max_attempts = 10; // in total, across passes, before an image becomes failed
    int pass_attempts = 4; // tries within one pass
    MultipartSettings multipart;
    std::string stall_timeout = "60s";
    std::string connect_timeout = "10s";
    bool wait = false;
    std::string wait_timeout; // empty: no limit
    std::string metrics_file;
    ProgressMode progress = ProgressMode::automatic;
    s3::ObjectSettingsInput object; // validated by s3::make_object_settings before any request
    bool if_none_match = false;
    bool dry_run = false; // print what the pass would upload, change nothing
    storage::ClaimScope claim = storage::ClaimScope::local;
    std::string lease = "60s";
    std::string fleet_rate; // images/s or COUNT/PERIOD for every pass on the backlog; empty: none
    double fleet_burst = 0; // 0: one second's worth
    // --source: directories registered (as add would, with these) before the pass claims.
    std::vector<std::string> sources;
    KeyLayout scan_key_layout = KeyLayout::path;
    std::string scan_key_template;
    std::vector<std::string> scan_exclude;
    LocalFileSettings local;
};

struct PruneSettings {
    LocalFileSettings local;
    std::vector<std::string> sources; // --source: where --delete-empty-dirs may remove directories
    bool dry_run = false;
};

struct RetrySettings {
    bool all = false;
    std::vector<std::int64_t> ids;
};

struct ForgetSettings {
    std::vector<std::int64_t> ids;
    std::optional<ImageState> state; // instead of ids: every image in this state
    bool refused = false;            // instead: every remembered refusal
};

struct VerifySettings {
    bool all = false;                   // every uploaded image (the default)
    std::optional<std::int64_t> sample; // N uploaded images drawn at random
    std::string since;                  // those uploaded within this duration
    bool requeue = false;               // missing or changed ones whose file matches: pending
    int concurrency = 8;
    std::string rate; // HEAD requests per second or COUNT/PERIOD; empty: unlimited
    double burst = 0; // 0: max(1, concurrency)
    std::string stall_timeout = "60s";
    std::string connect_timeout = "10s";
};

struct MigrateSettings {
    std::string to;           // the target's --db value
    storage::DbTarget target; // classified (cli/ sets it)
};

struct PresignSettings {
    std::string key;
    std::int64_t expires = 3600;
};

} // namespace imgsync::core
