// The one storage interface the pass and the commands use: every image's path, size, hashes and
// upload state, the passes' history and multipart progress, whichever backend keeps them. Image
// bytes never enter it. Two implementations, each with its own SQL: SqliteStore (a state file on
// this host, one pass at a time under a flock) and PgStore (one PostgreSQL backlog shared by
// passes on many hosts, each claimed image under a lease). open_store() (storage/open.hpp) picks
// one from --db.
#pragma once

#include "model/records.hpp"
#include "storage/state_file.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::storage {

// Which images a pass may claim: only those registered with its own host id (files on this
// host's disks), or every image (files on a filesystem every uploader mounts).
enum class ClaimScope { local, any };
std::string_view to_string(ClaimScope scope);

// Who claims: the pass (its run id), the host it runs on, what it may claim and for how long.
struct Claimant {
    std::int64_t run_id = 0;
    std::string host_id;
    ClaimScope scope = ClaimScope::local;
    double lease_seconds = 60;
};

// The owner of one claimed image, named in every write about it: the run that claimed it and the
// fencing token the claim returned (0 on SQLite, where the flock makes the run id enough). A write
// under a token that is no longer the image's changes nothing.
struct Lease {
    std::int64_t run_id = 0;
    std::int64_t image_id = 0;
    std::int64_t token = 0;
};

class Store {
  public:
    enum class Access { read_write, read_only };
    // Permissions a backend took away from its files (SQLite), for the caller's warning.
    using ModeFix = storage::ModeFix;

    Store() = default;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    virtual ~Store() = default;

    // What the messages call it: the state file's path, or "PostgreSQL at HOST:PORT/DB".
    virtual std::string describe() const = 0;
    virtual const std::vector<ModeFix>& mode_fixes() const = 0;
    // Whether claims carry leases that passes renew (PostgreSQL) rather than one pass at a time
    // under a lock (SQLite).
    virtual bool leases() const = 0;

    // --- transactions (through WriteTransaction and ReadSnapshot below) -----------------------
    virtual void begin_write() = 0;
    virtual void commit_write() = 0;
    virtual void rollback_write() noexcept = 0;
    virtual void begin_read() = 0;
    virtual void end_read() noexcept = 0;
    // The pass's batch of outcome writes (pass/writes.hpp): a transaction on SQLite (a few
    // commits a second), nothing on PostgreSQL, where each outcome commits on its own so that no
    // transaction stays open while images upload.
    virtual void begin_batch() = 0;
    virtual void commit_batch() = 0;
    virtual void rollback_batch() noexcept = 0;

    // --- add ---------------------------------------------------------------------------------
    struct Known {
        std::int64_t id;
        std::uint64_t size;
        std::int64_t mtime_ns;
        core::ImageState state;
        std::uint64_t inode = 0; // 0: not recorded (registered before schema 6)
    };
    virtual std::optional<Known> find_by_path(const std::string& path) = 0;
    // find_by_path() of each path, in one statement (or a few): element i answers paths[i].
    virtual std::vector<std::optional<Known>>
    find_by_paths(const std::vector<std::string_view>& paths) = 0;
    // The path already registered under this key, if any.
    virtual std::optional<std::string> path_for_key(const std::string& key) = 0;
    virtual void insert_image(const NewImage& image, std::int64_t now) = 0;
    // The file behind an existing record changed: new content, back to pending. Returns false
    // (and changes nothing) when a running pass holds the row.
    virtual bool replace_content(std::int64_t id, const NewImage& image, std::int64_t now) = 0;

    // --- remembered refusals (add) ----------------------------------------------------------
    // Files add refused, each with the size and mtime it had when it was refused, so that a
    // later add of the same tree skips a file that did not change instead of refusing it again.
    virtual std::optional<Refusal> find_refusal(const std::string& path) = 0;
    // Records a refusal, or updates the one recorded for the path (its size, mtime, reason and
    // last sighting; the first sighting stays).
    virtual void remember_refusal(const Refusal& refusal, std::int64_t now) = 0;
    virtual void drop_refusal(const std::string& path) = 0;
    virtual std::int64_t count_refusals() = 0;
    // In path order, at most `limit` (-1: all) without holding them all.
    virtual void for_each_refusal(std::int64_t limit,
                                  const std::function<void(const Refusal&)>& visit) = 0;
    // Forgets every refusal, so that the next add tries those files again. Returns how many.
    virtual int forget_refusals() = 0;

    // --- a pass ------------------------------------------------------------------------------
    // SQLite: images left "uploading" by a pass that died go back to pending (call only under the
    // pass lock). PostgreSQL: the running passes of this host id whose process is gone
    // (pid_alive says no) are recorded as crashed and their images go back to pending at once;
    // the passes of any host whose run lease expired are recorded as crashed (their images are
    // claimable as they are). Returns the images recovered.
    using PidAlive = std::function<bool(std::int64_t pid)>;
    virtual int recover_orphans(std::int64_t now, const std::string& host_id,
                                const PidAlive& pid_alive) = 0;
    // The run's own lease (PostgreSQL: renewed with its images; a run whose lease expired
    // without a recorded end crashed).
    virtual std::int64_t begin_run(std::int64_t now, std::int64_t pid, const std::string& host_id,
                                   double lease_seconds) = 0;
    // Records the end of a run: its totals, outcome, message and seconds (RunRecord::seconds).
    virtual void finish_run(const RunRecord& totals, std::int64_t now) = 0;
    // Records how many HTTP requests the run has in flight now, for status (the pass calls it
    // about once a second while the number changes, inside its write batch).
    virtual void set_run_requests(std::int64_t run_id, std::int64_t requests) = 0;
    // Moves up to `limit` due images, oldest first, to uploading for `who` and returns them, each
    // with its fencing token.
    virtual std::vector<ImageRecord> claim(const Claimant& who, std::int64_t now, int limit) = 0;
    // The images claim() would take for `who` now, in the same order, changing nothing (upload
    // --dry-run): visit returns false to stop.
    virtual void for_each_claimable(const Claimant& who, std::int64_t now,
                                    const std::function<bool(const ImageRecord&)>& visit) = 0;
    // Takes up to `want` whole tokens from the fleet's token bucket (upload --fleet-rate): one
    // bucket in the database for every pass on every host (core::fleet_take). `now` is the
    // pass's wall clock; PostgreSQL uses its own. Returns the tokens granted (0 .. want).
    virtual std::int64_t take_fleet_tokens(double rate, double burst, std::int64_t want,
                                           double now) = 0;
    // Extends the leases of images still held (by their tokens), and of the run; returns the
    // image ids renewed. An id missing from the answer is no longer this pass's to upload.
    virtual std::vector<std::int64_t> renew(const Claimant& who,
                                            const std::vector<Lease>& held) = 0;
    // The outcomes below apply only while the row is still "uploading" under that lease; they
    // return false (and change nothing) otherwise, so a stale pass can never overwrite another
    // pass's outcome. Also forgets the image's multipart progress and part digests.
    virtual bool mark_uploaded(const Lease& lease, const std::string& etag, std::int64_t now) = 0;
    // mark_uploaded() for images sent with one PUT each and claimed without part digests, in one
    // statement. Returns the ids among them that were still held (the others are unchanged).
    struct Uploaded {
        Lease lease;
        std::string etag;
    };
    virtual std::vector<std::int64_t> mark_uploaded(const std::vector<Uploaded>& images,
                                                    std::int64_t now) = 0;
    // Back to pending: after a transient failure (attempts counted, retry after next_attempt_at)
    // or because the pass stopped before it finished (attempts unchanged).
    virtual bool mark_pending(const Lease& lease, std::int64_t attempts,
                              std::int64_t next_attempt_at,
                              const std::optional<std::string>& last_error) = 0;
    virtual bool mark_failed(const Lease& lease, std::int64_t attempts,
                             const std::string& error) = 0;

    // Multipart progress, so a killed pass resumes instead of starting over (whoever started
    // it). Under the lease, like the outcomes.
    virtual bool set_multipart(const Lease& lease, const std::optional<std::string>& upload_id,
                               std::int64_t part_size) = 0;
    virtual bool add_part(const Lease& lease, const PartRecord& part) = 0;
    // The part digests add recorded for this part size, in part order (empty if none).
    virtual std::vector<PartDigest> part_digests(std::int64_t id, std::uint64_t part_size) = 0;

    // --- operators ---------------------------------------------------------------------------
    virtual int requeue_failed(const std::vector<std::int64_t>& ids, bool all) = 0;
    // Removes images from the backlog (with their multipart progress and digests): those with
    // the ids given, or every image in `state`. An image a pass holds (uploading) is never
    // removed. Returns the images removed. The files and the objects are not touched.
    virtual int forget(const std::vector<std::int64_t>& ids,
                       std::optional<core::ImageState> state) = 0;
    virtual std::optional<ImageRecord> image(std::int64_t id) = 0;
    // Streams rows (one state, or nullopt for all) in id order without holding them all.
    virtual void for_each_image(std::optional<core::ImageState> state, std::int64_t limit,
                                const std::function<void(const ImageRecord&)>& visit) = 0;
    virtual BacklogCounts counts() = 0;
    virtual std::vector<RunRecord> recent_runs(int limit) = 0;
    // The passes running now and the `recent` newest finished ones, and the expired leases.
    virtual FleetStatus fleet(int recent) = 0;
    // finished_at of the newest successful pass (core::is_success), however long ago.
    virtual std::optional<std::int64_t> last_success_at() = 0;
    virtual ArrivalWindow window(std::int64_t now, std::int64_t seconds) = 0;
    // "ok", or the first problems on one line.
    virtual std::string integrity_check() = 0;

    // --- imgsync verify (storage/*_store_verify.cpp) -------------------------------------------
    // Up to `limit` uploaded images with ids above `after_id`, in id order, uploaded at or after
    // `uploaded_since` when given: the pages a verification walks, each read on its own so that
    // nothing stays open while objects are checked.
    virtual std::vector<ImageRecord>
    uploaded_page(std::int64_t after_id, std::optional<std::int64_t> uploaded_since, int limit) = 0;
    // The ids of `n` uploaded images drawn at random (all of them if there are fewer), sorted.
    virtual std::vector<std::int64_t> sample_uploaded(std::int64_t n) = 0;
    // An uploaded image whose object is missing or changed goes back to pending: attempts 0,
    // due now, its ETag and upload time forgotten, `reason` as its last error. False, changing
    // nothing, when it is no longer uploaded.
    virtual bool requeue_uploaded(std::int64_t id, const std::string& reason) = 0;
    virtual void record_verification(const VerificationRecord& verification) = 0;
    // The newest finished verification, if any.
    virtual std::optional<VerificationRecord> last_verification() = 0;

    // --- prune: local files of uploaded images (storage/*_store_prune.cpp) --------------------
    // Where a walk over the prunable images is: after this upload time and id.
    struct PruneCursor {
        std::int64_t uploaded_at = -1;
        std::int64_t id = 0;
    };
    // Up to `limit` uploaded images whose local file is not pruned yet, uploaded at or before
    // `uploaded_before`, after `after` in (uploaded_at, id) order; only those registered by
    // `host_id` when it is given (files on this host's disks).
    virtual std::vector<ImageRecord> prunable_page(std::int64_t uploaded_before,
                                                   const PruneCursor& after,
                                                   const std::optional<std::string>& host_id,
                                                   int limit) = 0;
    // Records that the image's local file is gone (deleted, moved to `moved_to`, or found gone),
    // if the row is still uploaded, not pruned, and of that size and mtime; false otherwise.
    virtual bool mark_pruned(std::int64_t id, std::uint64_t size, std::int64_t mtime_ns,
                             std::int64_t now, const std::optional<std::string>& moved_to) = 0;

    // --- imgsync migrate ---------------------------------------------------------------------
    // The image's multipart progress and part digests, for an export.
    virtual ImageExport export_image(const ImageRecord& image) = 0;
    // Adds an image with its state, attempts, error, multipart progress and digests unless its
    // path is registered already (then returns false and changes nothing). An image "uploading"
    // in the source arrives pending: no pass of the target holds it.
    virtual bool import_image(const ImageExport& image) = 0;
    // Adds a finished pass to the history unless one with the same start, pid and host is there.
    virtual bool import_run(const RunRecord& run) = 0;
    // Adds a remembered refusal as it is (both sightings kept) unless its path has one already.
    virtual bool import_refusal(const Refusal& refusal) = 0;
};

// A write transaction: begun on construction, rolled back on destruction unless commit() ran, so
// an exception in the middle never leaves a row half written.
class WriteTransaction {
  public:
    explicit WriteTransaction(Store& store) : store_(store) { store_.begin_write(); }
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;
    ~WriteTransaction() {
        if (open_) {
            store_.rollback_write();
        }
    }
    void commit() {
        store_.commit_write();
        open_ = false;
    }

  private:
    Store& store_;
    bool open_ = true;
};

// One read snapshot for several lookups (nothing may write inside it).
class ReadSnapshot {
  public:
    explicit ReadSnapshot(Store& store) : store_(store) { store_.begin_read(); }
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;
    ~ReadSnapshot() { store_.end_read(); }

  private:
    Store& store_;
};

} // namespace imgsync::storage
