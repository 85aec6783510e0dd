// The PostgreSQL backend: one backlog shared by passes on many hosts. A claim is one statement
// (FOR UPDATE SKIP LOCKED, oldest due first) that gives each image a lease: the run, a fencing
// token from a sequence and an expiry from the database's clock. Every outcome is written under
// the token; no transaction stays open while images upload. Its SQL is in pg_store.cpp, its
// schema in pg_schema.cpp; ARCHITECTURE.md, "Shared backlog (PostgreSQL)", has the design.
#pragma once

#include "storage/pg.hpp"
#include "storage/store.hpp"

namespace imgsync::storage {

class PgStore final : public Store {
  public:
    // Connects (libpq: the URI, its environment, ~/.pgpass, pg_service.conf) and creates or
    // migrates the schema.
    explicit PgStore(const std::string& conninfo);

    std::string describe() const override { return "PostgreSQL at " + db_.where(); }
    const std::vector<ModeFix>& mode_fixes() const override { return no_fixes_; }
    bool leases() const override { return true; }
    PgConnection& connection() { return db_; }

    void begin_write() override;
    void commit_write() override;
    void rollback_write() noexcept override;
    void begin_read() override;
    void end_read() noexcept override;
    // Each outcome commits on its own: nothing to open.
    void begin_batch() override {}
    void commit_batch() override {}
    void rollback_batch() noexcept override {}

    std::optional<Known> find_by_path(const std::string& path) override;
    std::vector<std::optional<Known>>
    find_by_paths(const std::vector<std::string_view>& paths) override; // *_store_scan.cpp
    std::optional<std::string> path_for_key(const std::string& key) override;
    void insert_image(const NewImage& image, std::int64_t now) override;
    bool replace_content(std::int64_t id, const NewImage& image, std::int64_t now) override;

    // Remembered refusals: in pg_store_refusals.cpp.
    std::optional<Refusal> find_refusal(const std::string& path) override;
    void remember_refusal(const Refusal& refusal, std::int64_t now) override;
    void drop_refusal(const std::string& path) override;
    std::int64_t count_refusals() override;
    void for_each_refusal(std::int64_t limit,
                          const std::function<void(const Refusal&)>& visit) override;
    int forget_refusals() override;
    bool import_refusal(const Refusal& refusal) override;

    int recover_orphans(std::int64_t now, const std::string& host_id,
                        const PidAlive& pid_alive) override;
    std::int64_t begin_run(std::int64_t now, std::int64_t pid, const std::string& host_id,
                           double lease_seconds) override;
    void finish_run(const RunRecord& totals, std::int64_t now) override;
    void set_run_requests(std::int64_t run_id, std::int64_t requests) override;
    std::vector<ImageRecord> claim(const Claimant& who, std::int64_t now, int limit) override;
    void for_each_claimable(const Claimant& who, std::int64_t now,
                            const std::function<bool(const ImageRecord&)>& visit) override;
    std::vector<std::int64_t> renew(const Claimant& who, const std::vector<Lease>& held) override;
    std::int64_t take_fleet_tokens(double rate, double burst, std::int64_t want,
                                   double now) override;
    bool mark_uploaded(const Lease& lease, const std::string& etag, std::int64_t now) override;
    std::vector<std::int64_t> mark_uploaded(const std::vector<Uploaded>& images,
                                            std::int64_t now) override;
    bool mark_pending(const Lease& lease, std::int64_t attempts, std::int64_t next_attempt_at,
                      const std::optional<std::string>& last_error) override;
    bool mark_failed(const Lease& lease, std::int64_t attempts, const std::string& error) override;
    bool set_multipart(const Lease& lease, const std::optional<std::string>& upload_id,
                       std::int64_t part_size) override;
    bool add_part(const Lease& lease, const PartRecord& part) override;
    std::vector<PartDigest> part_digests(std::int64_t id, std::uint64_t part_size) override;

    int requeue_failed(const std::vector<std::int64_t>& ids, bool all) override;
    int forget(const std::vector<std::int64_t>& ids,
               std::optional<core::ImageState> state) override;
    std::optional<ImageRecord> image(std::int64_t id) override;
    void for_each_image(std::optional<core::ImageState> state, std::int64_t limit,
                        const std::function<void(const ImageRecord&)>& visit) override;
    BacklogCounts counts() override;
    std::vector<RunRecord> recent_runs(int limit) override;
    FleetStatus fleet(int recent) override;
    std::optional<std::int64_t> last_success_at() override;
    ArrivalWindow window(std::int64_t now, std::int64_t seconds) override;
    std::string integrity_check() override;

    ImageExport export_image(const ImageRecord& image) override;
    bool import_image(const ImageExport& image) override;
    bool import_run(const RunRecord& run) override;

    std::vector<ImageRecord> uploaded_page(std::int64_t after_id,
                                           std::optional<std::int64_t> uploaded_since,
                                           int limit) override;
    std::vector<std::int64_t> sample_uploaded(std::int64_t n) override;
    bool requeue_uploaded(std::int64_t id, const std::string& reason) override;
    void record_verification(const VerificationRecord& verification) override;
    std::optional<VerificationRecord> last_verification() override;
    std::vector<ImageRecord> prunable_page(std::int64_t uploaded_before, const PruneCursor& after,
                                           const std::optional<std::string>& host_id,
                                           int limit) override;
    bool mark_pruned(std::int64_t id, std::uint64_t size, std::int64_t mtime_ns, std::int64_t now,
                     const std::optional<std::string>& moved_to) override;

  private:
    void insert_part_digests(std::int64_t id, const NewImage& image);
    void forget_old_claims();
    PgConnection db_;
    std::vector<ModeFix> no_fixes_;
};

} // namespace imgsync::storage
