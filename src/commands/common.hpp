// Small pieces several commands share.
#pragma once

#include "commands/commands.hpp"
#include "model/multipart.hpp"
#include "storage/store.hpp"
#include "util/http_client.hpp"
#include "util/units.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

namespace imgsync::core {

// Opens (and on first use creates, with a 0700 parent directory) the state file.
std::unique_ptr<storage::Store> open_store(const Context& ctx);
// For read-only commands: refuses a missing state file instead of creating it.
std::unique_ptr<storage::Store> open_existing_store(const Context& ctx);
// For upload: open_store(), and on SQLite the pass lock first (one pass at a time; exit 5 naming
// the holder). PostgreSQL's passes share the backlog under leases: no lock.
std::unique_ptr<storage::Store> open_store_for_pass(const Context& ctx, bool wait,
                                                    double wait_seconds,
                                                    const std::string& started_at);
// Whether --db names a state file that exists, or a database (which exists or fails to connect).
bool state_file_exists(const Context& ctx);

// One request through the real HTTP client, waiting for its answer (check, verify's preflight).
// The request's own timeouts bound the wait.
util::HttpResponse send_one(util::HttpClient& http, util::HttpRequest req);

// Option values that are parsed late (sizes, durations, rates): a bad one is a usage error that
// names the option.
std::uint64_t require_size(const std::string& option, const std::string& text);
double require_seconds(const std::string& option, const std::string& text);
double require_rate(const std::string& option, const std::string& text);
PartPlan require_part_plan(const MultipartSettings& s);

// Registers images in batches: one transaction per batch, so a crash or a full disk loses at
// most the batch in hand and never leaves a half-written row.
class Registrar {
  public:
    Registrar(storage::Store& store, util::Logger& log) : store_(store), log_(log) {}
    ~Registrar();
    // Returns false (and logs why) when the key is taken by another path. The same path given
    // twice in one batch (a file named on the command line and found in a tree as well) is
    // registered once and counted in `duplicates`.
    // It only reads the state file, so that callers can check a batch in one
    // storage::ReadTransaction; flush_if_full() after it writes.
    bool add(const storage::NewImage& image, std::optional<std::int64_t> replace_id);
    void flush_if_full() {
        if (batch_.size() >= 500) {
            flush();
        }
    }
    void flush();
    std::int64_t added = 0, updated = 0, duplicates = 0, refused = 0;

  private:
    struct Pending {
        storage::NewImage image;
        std::optional<std::int64_t> replace_id;
    };
    storage::Store& store_;
    util::Logger& log_;
    std::vector<Pending> batch_;
    std::unordered_map<std::string, std::string> batch_keys_;  // path -> key, in batch_
    std::unordered_map<std::string, std::string> batch_paths_; // key -> path, in batch_
    bool store_failed_ = false; // a flush failed in SQLite: retrying on the way out is pointless
};

} // namespace imgsync::core
