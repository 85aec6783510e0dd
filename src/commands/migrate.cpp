// imgsync migrate --to DB: copies the backlog from --db into another state (SQLite to PostgreSQL,
// and back): every image with its state, attempts, error and multipart progress, the part digests
// and the passes' history. Idempotent (images are matched by path, passes by start, pid and
// host), leaves the source untouched, and verifies the counts.
#include "commands/common.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace imgsync::core {

namespace {

std::int64_t total(const storage::BacklogCounts& c) {
    return c.pending + c.uploading + c.uploaded + c.failed;
}

} // namespace

int cmd_migrate(const Context& ctx, const MigrateSettings& s) {
    auto source = open_existing_store(ctx);
    Context to = ctx;
    to.global.db_target = s.target;
    to.global.db = s.to;
    auto target = open_store(to);
    if (source->describe() == target->describe()) {
        throw Error(ExitCode::usage, "migrate: --to names the same state as --db");
    }
    const auto before = total(target->counts());
    std::int64_t copied = 0, present = 0, seen = 0;
    // In batches of 500, each one transaction of the target: a failure loses at most the batch
    // in hand, and the next run copies what is missing.
    std::optional<storage::WriteTransaction> txn;
    int in_batch = 0;
    source->for_each_image(std::nullopt, -1, [&](const storage::ImageRecord& image) {
        if (!txn) {
            txn.emplace(*target);
        }
        ++seen;
        if (target->import_image(source->export_image(image))) {
            ++copied;
        } else {
            ++present;
        }
        if (++in_batch == 500) {
            txn->commit();
            txn.reset();
            in_batch = 0;
        }
    });
    if (txn) {
        txn->commit();
        txn.reset();
    }
    std::int64_t runs = 0;
    {
        storage::WriteTransaction runs_txn(*target);
        auto history = source->recent_runs(1 << 30);
        for (auto it = history.rbegin(); it != history.rend(); ++it) {
            if (it->outcome != RunOutcome::running && target->import_run(*it)) {
                ++runs;
            }
        }
        runs_txn.commit();
    }
    std::int64_t refusals = 0;
    {
        storage::WriteTransaction refusals_txn(*target);
        source->for_each_refusal(
            -1, [&](const storage::Refusal& r) { refusals += target->import_refusal(r) ? 1 : 0; });
        refusals_txn.commit();
    }
    const auto source_total = total(source->counts());
    const auto after = total(target->counts());
    if (seen != source_total || after != before + copied) {
        throw Error(ExitCode::state_error,
                    fmt::format("migrate: counts do not match: the source lists {} images and "
                                "counts {}; the target had {}, copied {}, and counts {}",
                                seen, source_total, before, copied, after));
    }
    ctx.log->info("migrate_done", {{"to", target->describe()},
                                   {"copied", copied},
                                   {"already_there", present},
                                   {"runs", runs},
                                   {"refusals", refusals}});
    std::printf("migrated %lld images (%lld already there) and %lld passes to %s; the source "
                "has %lld images\n",
                static_cast<long long>(copied), static_cast<long long>(present),
                static_cast<long long>(runs), util::printable(target->describe()).c_str(),
                static_cast<long long>(source_total));
    return 0;
}

} // namespace imgsync::core
