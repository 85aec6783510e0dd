#include "commands/common.hpp"

#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

namespace imgsync::core {

namespace {

// The store made a file private that was open to others: say so, as for the config file.
std::unique_ptr<storage::Store> warn_mode_fixes(const Context& ctx,
                                                std::unique_ptr<storage::Store> store) {
    for (const auto& fix : store->mode_fixes()) {
        if (ctx.log) {
            ctx.log->warn("state_file_mode", {{"path", fix.path},
                                              {"was", fmt::format("{:04o}", fix.was)},
                                              {"now", fmt::format("{:04o}", fix.now)},
                                              {"reason", "the state file was open to others"}});
        }
    }
    return store;
}

} // namespace

std::unique_ptr<storage::Store> open_store(const Context& ctx) {
    const storage::DbTarget& db = ctx.global.db_target;
    if (db.backend == storage::Backend::postgresql) {
        return std::make_unique<storage::PgStore>(db.value);
    }
    util::make_dirs(util::parent_dir(db.value), 0700).or_throw(ExitCode::state_error);
    return warn_mode_fixes(
        ctx, std::make_unique<storage::SqliteStore>(db.value, storage::Store::Access::read_write));
}

std::unique_ptr<storage::Store> open_store_for_pass(const Context& ctx, bool wait,
                                                    double wait_seconds,
                                                    const std::string& started_at) {
    const storage::DbTarget& db = ctx.global.db_target;
    if (db.backend == storage::Backend::postgresql) {
        return std::make_unique<storage::PgStore>(db.value);
    }
    util::make_dirs(util::parent_dir(db.value), 0700).or_throw(ExitCode::state_error);
    auto lock = storage::SqliteStore::lock_pass(db.value, wait, wait_seconds, started_at);
    auto store =
        std::make_unique<storage::SqliteStore>(db.value, storage::Store::Access::read_write);
    store->keep_pass_lock(std::move(lock));
    return warn_mode_fixes(ctx, std::move(store));
}

std::unique_ptr<storage::Store> open_existing_store(const Context& ctx) {
    const storage::DbTarget& db = ctx.global.db_target;
    if (db.backend == storage::Backend::postgresql) {
        return std::make_unique<storage::PgStore>(db.value);
    }
    if (!state_file_exists(ctx)) {
        throw Error(ExitCode::state_error,
                    fmt::format("state file {} does not exist yet (imgsync add or seed creates "
                                "it; --db or IMGSYNC_DB names another)",
                                db.value));
    }
    return warn_mode_fixes(
        ctx, std::make_unique<storage::SqliteStore>(db.value, storage::Store::Access::read_write));
}

bool state_file_exists(const Context& ctx) {
    const storage::DbTarget& db = ctx.global.db_target;
    if (db.backend != storage::Backend::sqlite) {
        return true;
    }
    struct stat st {};
    return ::stat(db.value.c_str(), &st) == 0;
}

std::uint64_t require_size(const std::string& option, const std::string& text) {
    auto parsed = util::parse_size(text);
    if (!parsed) {
        throw Error(ExitCode::usage, fmt::format("{}: {}", option, parsed.error()));
    }
    return *parsed;
}

double require_seconds(const std::string& option, const std::string& text) {
    auto parsed = util::parse_duration(text);
    if (!parsed) {
        throw Error(ExitCode::usage, fmt::format("{}: {}", option, parsed.error()));
    }
    return static_cast<double>(parsed->count()) / 1000.0;
}

double require_rate(const std::string& option, const std::string& text) {
    auto parsed = util::parse_rate(text);
    if (!parsed) {
        throw Error(ExitCode::usage, fmt::format("{}: {}", option, parsed.error()));
    }
    return *parsed;
}

PartPlan require_part_plan(const MultipartSettings& s) {
    PartPlan plan;
    plan.threshold = require_size("--multipart-threshold", s.multipart_threshold);
    if (plan.threshold < min_part_size) {
        throw Error(ExitCode::usage, "--multipart-threshold must be at least 5M (S3's minimum "
                                     "part size)");
    }
    plan.wanted_part_size = require_size("--part-size", s.part_size);
    if (plan.wanted_part_size < min_part_size || plan.wanted_part_size > max_part_size) {
        throw Error(ExitCode::usage, "--part-size must be between 5M and 5G (S3's limits)");
    }
    return plan;
}

Registrar::~Registrar() {
    // Best effort on the way out of an exception: what was read is still worth keeping.
    if (store_failed_) {
        return;
    }
    try {
        flush();
    } catch (...) {
    }
}

bool Registrar::add(const storage::NewImage& image, std::optional<std::int64_t> replace_id) {
    if (auto same_path = batch_keys_.find(image.path); same_path != batch_keys_.end()) {
        if (same_path->second == image.key) {
            ++duplicates;
            return true;
        }
        log_.warn("add_refused",
                  {{"path", image.path},
                   {"reason", fmt::format("named twice, and already being added under key {}",
                                          same_path->second)}});
        return false;
    }
    if (auto same_key = batch_paths_.find(image.key); same_key != batch_paths_.end()) {
        log_.warn("add_refused", {{"path", image.path},
                                  {"reason", fmt::format("key {} is also the key of {}", image.key,
                                                         same_key->second)}});
        return false;
    }
    if (auto owner = store_.path_for_key(image.key); owner && *owner != image.path) {
        log_.warn("add_refused",
                  {{"path", image.path},
                   {"reason", fmt::format("key {} is already used by {}", image.key, *owner)}});
        return false;
    }
    batch_.push_back({image, replace_id});
    batch_keys_.emplace(image.path, image.key);
    batch_paths_.emplace(image.key, image.path);
    return true;
}

void Registrar::flush() {
    if (batch_.empty()) {
        return;
    }
    auto now = util::wall_epoch();
    std::vector<bool> held; // replacements refused because a pass claimed the row meanwhile
    try {
        storage::WriteTransaction txn(store_);
        for (const auto& p : batch_) {
            if (p.replace_id) {
                held.push_back(!store_.replace_content(*p.replace_id, p.image, now));
            } else {
                store_.insert_image(p.image, now);
            }
        }
        txn.commit();
    } catch (const Error&) {
        store_failed_ = true;
        throw;
    }
    std::size_t r = 0;
    for (const auto& p : batch_) {
        if (!p.replace_id) {
            ++added;
        } else if (held[r++]) {
            ++refused;
            log_.warn("add_refused", {{"path", p.image.path},
                                      {"reason", "changed while a pass is uploading it; add it "
                                                 "again after the pass"}});
        } else {
            ++updated;
        }
    }
    batch_.clear();
    batch_keys_.clear();
    batch_paths_.clear();
}

util::HttpResponse send_one(util::HttpClient& http, util::HttpRequest req) {
    util::HttpResponse out;
    bool done = false;
    http.start(1, std::move(req));
    for (int i = 0; i < 1000 && !done; ++i) { // bounded: the request has its own timeouts
        http.poll(100, [&](std::uint64_t, util::HttpResponse&& r) {
            out = std::move(r);
            done = true;
        });
    }
    return out;
}

} // namespace imgsync::core
