// The lease rules of a shared backlog (PostgreSQL): when a pass renews the leases of the images
// it holds, when it counts a lease as lost, and which images a claim may take. Pure: every time is
// a parameter (seconds; the pass's monotonic clock for renewals, the database's clock for
// expiries). The claim statement of storage/pg_store.cpp applies claimable() in SQL.
#pragma once

#include "model/image_state.hpp"

#include <cstdint>
#include <optional>

namespace imgsync::core {

// A third of the lease: two renewals may fail or come late before a lease runs out.
double renewal_interval(double lease_seconds);

// Whether a renewal is due at `now`, the last one having been sent at `last_sent`.
bool renewal_due(double last_sent, double now, double lease_seconds);

// Whether the pass must count a lease as lost at `now` although the database has not said so:
// the last renewal that confirmed it was sent at `confirmed_sent` (the database computed the
// expiry later than that, so the lease lasts at least until confirmed_sent + lease on this
// clock), and a tenth of the lease is kept as a margin against a database clock that runs fast.
bool lease_lost(double confirmed_sent, double now, double lease_seconds);

// Whether a claim at database time `now` may take an image: pending and due, or uploading under
// a lease that expired (its pass died, was cut off, or stopped renewing). `lease_expires_at` is
// empty for an image that no lease holds.
bool claimable(ImageState state, std::int64_t next_attempt_at,
               std::optional<double> lease_expires_at, double now);

} // namespace imgsync::core
