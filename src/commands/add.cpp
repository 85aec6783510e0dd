// imgsync add: register existing image files (the work is register_files()).
#include "commands/common.hpp"
#include "commands/register_files.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace imgsync::core {

int cmd_add(const Context& ctx, const AddSettings& s) {
    check_register_settings(s); // a bad value is refused before the state file is opened
    auto store = open_store(ctx);
    const RegisterTotals t = register_files(ctx, s, *store);
    ctx.log->info("add_done", {{"added", t.added},
                               {"updated", t.updated},
                               {"unchanged", t.unchanged},
                               {"skipped", t.skipped},
                               {"refused", t.refused},
                               {"excluded", t.excluded},
                               {"remembered_refusals", t.remembered}});
    std::printf("added %lld, updated %lld, unchanged %lld, skipped %lld, refused %lld, "
                "excluded %lld, remembered refusals %lld\n",
                static_cast<long long>(t.added), static_cast<long long>(t.updated),
                static_cast<long long>(t.unchanged), static_cast<long long>(t.skipped),
                static_cast<long long>(t.refused), static_cast<long long>(t.excluded),
                static_cast<long long>(t.remembered));
    std::fflush(stdout); // the summary before the error line, also when both go to one pipe
    if (!t.missing.empty()) {
        // A path that does not exist is a mistyped argument: the rest was added all the same.
        throw Error(ExitCode::usage,
                    fmt::format("add: {}: no such file or directory{}", t.missing.front(),
                                t.missing.size() > 1
                                    ? fmt::format(" (and {} more)", t.missing.size() - 1)
                                    : std::string()));
    }
    return static_cast<int>(t.refused ? ExitCode::images_failed : ExitCode::ok);
}

} // namespace imgsync::core
