// The state file: one SQLite database in WAL mode that owns every image's path, size, hashes and
// upload state, the passes' history and multipart progress. Image bytes never enter it.
// This is the only code that speaks SQL.
#pragma once

#include "model/records.hpp"
#include "storage/sqlite.hpp"
#include "storage/state_file.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace imgsync::storage {

class Store {
  public:
    enum class Access { read_write, read_only };
    // Creates the file (mode 0600) and its schema on first use and migrates older schemas.
    // read_only refuses a missing file instead of creating it.
    Store(const std::string& path, Access access);

    static constexpr int schema_version = 2;

    // Permissions the constructor took away from the state file (or its -wal or -shm): all
    // group and other permissions from a new (empty) file, those of others from an existing
    // one (see state_file.hpp). The caller warns about each.
    using ModeFix = storage::ModeFix;
    const std::vector<ModeFix>& mode_fixes() const { return mode_fixes_; }

    Database& db() { return db_; }

    // --- add ---------------------------------------------------------------------------------
    struct Known {
        std::int64_t id;
        std::uint64_t size;
        std::int64_t mtime_ns;
        core::ImageState state;
    };
    std::optional<Known> find_by_path(const std::string& path);
    // The path already registered under this key, if any.
    std::optional<std::string> path_for_key(const std::string& key);
    void insert_image(const NewImage& image, std::int64_t now);
    // The file behind an existing record changed: new content, back to pending. Returns false
    // (and changes nothing) when a running pass holds the row.
    bool replace_content(std::int64_t id, const NewImage& image, std::int64_t now);

    // --- a pass ------------------------------------------------------------------------------
    // Images left "uploading" by a pass that died: back to pending. Call only under the pass lock.
    int recover_orphans(std::int64_t now);
    std::int64_t begin_run(std::int64_t now, std::int64_t pid);
    void finish_run(const RunRecord& totals, std::int64_t now);
    // Moves up to `limit` due pending images, oldest first, to uploading and returns them.
    std::vector<ImageRecord> claim(std::int64_t run_id, std::int64_t now, int limit);
    // The outcomes below name the run that claimed the image, and apply only while the row is
    // still "uploading" under that run; they return false (and change nothing) otherwise, so a
    // stale pass can never overwrite another pass's outcome.
    // Also forgets the image's multipart progress and part digests.
    bool mark_uploaded(std::int64_t run_id, std::int64_t id, const std::string& etag,
                       std::int64_t now);
    // mark_uploaded() for images sent with one PUT each and claimed without part digests, so
    // with nothing to forget, in one statement: one UPDATE per image cost a pass measurably more
    // CPU (doc/benchmarks.md). Returns the ids among them that were still held (the others are
    // unchanged).
    struct Uploaded {
        std::int64_t id;
        std::string etag;
    };
    std::vector<std::int64_t> mark_uploaded(std::int64_t run_id,
                                            const std::vector<Uploaded>& images, std::int64_t now);
    // Back to pending: after a transient failure (attempts counted, retry after next_attempt_at)
    // or because the pass stopped before it finished (attempts unchanged).
    bool mark_pending(std::int64_t run_id, std::int64_t id, std::int64_t attempts,
                      std::int64_t next_attempt_at, const std::optional<std::string>& last_error);
    bool mark_failed(std::int64_t run_id, std::int64_t id, std::int64_t attempts,
                     const std::string& error);

    // Multipart progress, so a killed pass resumes instead of starting over.
    void set_multipart(std::int64_t id, const std::optional<std::string>& upload_id,
                       std::int64_t part_size);
    void add_part(std::int64_t id, const PartRecord& part);
    // The part digests add recorded for this part size, in part order (empty if none).
    std::vector<PartDigest> part_digests(std::int64_t id, std::uint64_t part_size);

    // --- operators ---------------------------------------------------------------------------
    int requeue_failed(const std::vector<std::int64_t>& ids, bool all);
    std::optional<ImageRecord> image(std::int64_t id);
    // Streams rows (state "all" or one state) in id order without holding them all in memory.
    // state: one state, or nullopt for all.
    void for_each_image(std::optional<core::ImageState> state, std::int64_t limit,
                        const std::function<void(const ImageRecord&)>& visit);
    BacklogCounts counts();
    std::vector<RunRecord> recent_runs(int limit);
    // finished_at of the newest successful pass (core::is_success), however long ago.
    std::optional<std::int64_t> last_success_at();
    ArrivalWindow window(std::int64_t now, std::int64_t seconds);
    std::string integrity_check();

  private:
    void migrate();
    void insert_part_digests(std::int64_t id, const NewImage& image);
    void forget_parts(std::int64_t id);
    // Prepared once per connection; `sql` must be a string literal (the key is not copied).
    Statement& stmt(std::string_view sql);
    std::vector<ModeFix> mode_fixes_;
    bool fresh_ = false; // before db_: set while db_ is opened
    Database db_;
    std::unordered_map<std::string_view, Statement> statements_;
};

} // namespace imgsync::storage
