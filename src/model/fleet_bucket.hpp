// The fleet's token bucket (upload --fleet-rate, --fleet-burst): one bucket in the backlog's
// database shared by every pass on every host, so that "N images per period" holds however many
// passes run. Pure: the bucket's state and the time are parameters; the SQLite backend applies it
// in a transaction, the PostgreSQL backend's statement computes the same in SQL.
#pragma once

namespace imgsync::core {

struct FleetGrant {
    double granted = 0;     // whole tokens handed out (0 .. want)
    double tokens_left = 0; // what the bucket keeps
};

// A bucket holding `tokens` when last touched at `updated_at` refills at `rate` per second up to
// `burst`; at `now` it hands out as many whole tokens as it has, up to `want`. A clock that went
// back refills nothing.
FleetGrant fleet_take(double tokens, double updated_at, double now, double rate, double burst,
                      double want);

// The default bucket size: one second's worth, at least one image.
double fleet_default_burst(double rate);

} // namespace imgsync::core
