// What add does, for add and for upload --source: walk the paths given, look each file found up
// in the state (unchanged files are recognised by size and mtime without being read), read the
// new and changed ones through the ingest pipeline, and register them through the Registrar.
#pragma once

#include "commands/commands.hpp"
#include "storage/store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace imgsync::core {

// What one registration found, for add's summary line and upload's log.
struct RegisterTotals {
    std::int64_t added = 0, updated = 0, unchanged = 0, skipped = 0, refused = 0;
    std::int64_t excluded = 0;   // entries of a tree --exclude matched (a directory counts once)
    std::int64_t remembered = 0; // files refused before and unchanged since: skipped, no error
    std::vector<std::string> missing; // arguments that do not exist
};

// Refuses (Error, usage) a bad --multipart-threshold, --part-size, --key-template or --exclude, so
// that callers can check before they open the state.
void check_register_settings(const AddSettings& s);

// Registers what is new or changed under s.paths in `store`. Refusals are logged (add_refused),
// counted and remembered (with the file's size and mtime; not key conflicts), and a file whose
// refusal is remembered is skipped while its size and mtime stay the same; a missing argument is
// counted in `missing` and the others are registered all the same. Throws Error for a bad option
// (usage) or a failing store.
RegisterTotals register_files(const Context& ctx, const AddSettings& s, storage::Store& store);

} // namespace imgsync::core
