#include "cli/app.hpp"
#include "cli/args.hpp"
#include "cli/command_table.hpp"
#include "cli/completion.hpp"
#include "cli/suggest.hpp"

#include "commands/commands.hpp"
#include "report/report.hpp"
#include "util/build_info.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/ini.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace imgsync::cli {

namespace {

constexpr const char* default_config_file = "/etc/imgsync/imgsync.conf";

// "max-images" -> "max_images". Config keys and the IMGSYNC_* suffix are the same name.
std::string key_for(const std::string& subcommand, const std::string& long_name) {
    std::string key = long_name;
    // seed's image-size bounds are not upload's per-pass byte limit: they get their own names.
    if (subcommand == "seed" && (long_name == "min-bytes" || long_name == "max-bytes")) {
        key = "seed-" + long_name;
    }
    for (auto& c : key) {
        c = c == '-' ? '_' : c;
    }
    return key;
}

std::string env_for(const std::string& key) {
    std::string env = "IMGSYNC_";
    for (char c : key) {
        env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return env;
}

// Gives every long option its IMGSYNC_* variable and records the config keys that exist.
void assign_env_names(CLI::App& app, std::set<std::string>& keys) {
    for (CLI::Option* opt : app.get_options()) {
        const auto& names = opt->get_lnames();
        if (names.empty() || names[0] == "help" || names[0] == "version" || names[0] == "config") {
            continue;
        }
        std::string key = key_for(app.get_parent() ? app.get_name() : "", names[0]);
        opt->envname(env_for(key));
        keys.insert(key);
    }
    for (CLI::App* sub : app.get_subcommands({})) {
        assign_env_names(*sub, keys);
    }
}

// The config file, read by util::parse_ini: `key = value` lines, '#' or ';' comments, optional
// [section] headers (ignored: every key names one option). Values reach the options as IMGSYNC_*
// defaults, below the real environment, which gives the documented precedence: command line,
// environment, file, default.
void load_config(const std::string& path, bool required, const std::set<std::string>& keys,
                 core::Context& ctx) {
    const auto text = util::read_text_file(path).or_throw(ExitCode::usage);
    if (!text) {
        if (required) {
            throw Error(ExitCode::usage, fmt::format("config file {} does not exist", path));
        }
        return;
    }
    bool has_secret = false;
    for (const auto& entry : util::parse_ini(*text, util::imgsync_ini_syntax)) {
        if (entry.kind == util::IniEntry::Kind::section ||
            entry.kind == util::IniEntry::Kind::bad_section) {
            continue;
        }
        const std::size_t line_no = entry.line;
        if (entry.kind == util::IniEntry::Kind::bad_line) {
            throw Error(ExitCode::usage,
                        fmt::format("{}:{}: expected 'key = value'", path, line_no));
        }
        std::string key = util::ascii_lower(entry.name);
        std::string value = entry.value;
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        for (auto& c : key) {
            c = c == '-' ? '_' : c;
        }
        if (key.rfind("aws_", 0) == 0) {
            ctx.config_credentials_file = path; // where check and the log say they came from
        }
        if (key == "aws_access_key_id") {
            ctx.config_access_key = value;
        } else if (key == "aws_secret_access_key") {
            ctx.config_secret_key = value;
            has_secret = true;
        } else if (key == "aws_session_token") {
            ctx.config_session_token = value;
            has_secret = true;
        } else if (keys.count(key)) {
            ::setenv(env_for(key).c_str(), value.c_str(), 0);
        } else {
            throw Error(ExitCode::usage,
                        fmt::format("{}:{}: unknown key '{}'", path, line_no, key));
        }
    }
    struct stat st {};
    if (has_secret && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077)) {
        std::fprintf(stderr,
                     "imgsync: warning: %s holds a secret key and is readable by others "
                     "(mode %03o); run chmod 600 %s\n",
                     util::printable(path).c_str(), static_cast<unsigned>(st.st_mode & 0777),
                     util::printable(path).c_str());
    }
}

// --config must be known before CLI11 parses, because the file's values feed the parse.
std::pair<std::string, bool> find_config_path(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") {
            break;
        }
        if (arg == "--config" && i + 1 < argc) {
            return {argv[i + 1], true};
        }
        if (arg.rfind("--config=", 0) == 0) {
            return {arg.substr(9), true};
        }
    }
    if (const char* env = std::getenv("IMGSYNC_CONFIG"); env && *env) {
        return {env, true};
    }
    return {default_config_file, false};
}

void collect_option_names(CLI::App& app, std::set<std::string>& names, bool recurse = true) {
    for (const CLI::Option* opt : app.get_options()) {
        for (const std::string& n : opt->get_lnames()) {
            names.insert("--" + n);
        }
        for (const std::string& n : opt->get_snames()) {
            names.insert("-" + n);
        }
    }
    for (CLI::App* sub : recurse ? app.get_subcommands({}) : std::vector<CLI::App*>{}) {
        collect_option_names(*sub, names);
    }
}

// The options of app (not of its subcommands) that take a value, with their dashes.
std::set<std::string> valued_option_names(CLI::App& app) {
    std::set<std::string> names;
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_expected_min() > 0 && !opt->get_positional()) {
            for (const std::string& n : opt->get_lnames()) {
                names.insert("--" + n);
            }
        }
    }
    return names;
}

// What CLI11 did not expect: an unknown option named with the nearest real one (of the command
// given and the global ones), an unknown command with the nearest command, else the words.
std::string extras_problem(CLI::App& app, const std::vector<std::string_view>& words,
                           const std::set<std::string>& commands) {
    const std::vector<std::string> extras = app.remaining(true);
    const std::vector<CLI::App*> given = app.get_subcommands();
    for (const std::string& e : extras) {
        if (e.size() > 1 && e[0] == '-') {
            std::set<std::string> known;
            collect_option_names(app, known, false);
            if (!given.empty()) {
                collect_option_names(*given.front(), known, false);
            }
            return option_problem(e, known, given.empty() ? "" : given.front()->get_name());
        }
    }
    if (given.empty()) {
        return command_problem(words, commands, valued_option_names(app));
    }
    return unexpected_arguments(extras, words);
}

// Each command's --help ends by saying where the global options are.
void add_global_options_footer(CLI::App& app) {
    std::string names = "  ";
    std::size_t line = 2;
    for (const CLI::Option* opt : app.get_options()) {
        const auto& l = opt->get_lnames();
        if (l.empty() || l[0] == "help" || l[0] == "version") {
            continue;
        }
        const std::string item = (line > 2 ? " --" : "--") + l[0] + ",";
        if (line + item.size() > 80) {
            names += "\n  ";
            line = 2;
        }
        names += line == 2 ? "--" + l[0] + "," : item;
        line += item.size();
    }
    names.pop_back(); // the last ',
    for (CLI::App* sub : app.get_subcommands({})) {
        sub->footer("Global options (also after the command; imgsync --help describes them):\n" +
                    names);
    }
}

// The one place where a failure becomes output and an exit status.
int fail(Reporting how, ExitCode code, std::string_view message) {
    if (how == Reporting::plugin) {
        const core::CheckResult result = core::check_unknown(message);
        std::puts(result.line.c_str());
        return result.exit_code;
    }
    // What the command printed first comes first, also when stdout and stderr share one pipe
    // (`check 2>&1 | logger`): stdout is fully buffered there, stderr is not.
    std::fflush(stdout);
    std::fprintf(stderr, "imgsync: %s\n", util::printable(message).c_str());
    return static_cast<int>(code);
}

// --db classified (a password in a URI is refused when it was typed on the command line) and the
// host id defaulted to the host name.
bool given_on_command_line(const std::vector<std::string_view>& words, const std::string& name) {
    for (auto w : words) {
        if (w == name || w.rfind(name + "=", 0) == 0) {
            return true;
        }
    }
    return false;
}

void settle_globals(const std::vector<std::string_view>& words, core::GlobalSettings& g) {
    bool on_command_line = given_on_command_line(words, "--db");
    g.db_target =
        storage::classify_db(g.db, on_command_line ? storage::DbSource::command_line
                                                   : storage::DbSource::environment_or_config)
            .or_throw(ExitCode::usage);
    if (g.host_id.empty()) {
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
            throw Error(ExitCode::usage, "--host-id: the host name is unknown; give --host-id");
        }
        g.host_id = name;
    }
    if (g.host_id.size() > 200 || !util::is_printable(g.host_id)) {
        throw Error(ExitCode::usage, "--host-id: at most 200 printable characters");
    }
}

} // namespace

int run(int argc, char** argv) {
    core::Context ctx;
    core::GlobalSettings& g = ctx.global;
    CLI::App app{"imgsync: moves a backlog of image files into S3 at a controlled pace.\n"
                 "Every option can also be set as IMGSYNC_<NAME> in the environment or as\n"
                 "<name> = value in the config file (precedence: command line, environment,\n"
                 "config file, default). Credentials come from AWS_ACCESS_KEY_ID /\n"
                 "AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or ~/.aws profiles, never from\n"
                 "the command line.",
                 "imgsync"};
    app.set_version_flag("--version", util::version_line());
    app.require_subcommand(1);
    app.fallthrough();
    app.option_defaults()->always_capture_default();

    define_global_options(app, g);
    Settings s;
    Commands cmds = define_commands(app, s);

    std::set<std::string> keys;
    assign_env_names(app, keys);
    add_global_options_footer(app);

    // Every failure from here on becomes an exit status in fail(), and nowhere else.
    const std::vector<std::string_view> words = option_words(argc, argv);
    std::set<std::string> commands, option_names;
    for (const CLI::App* sub : app.get_subcommands({})) {
        commands.insert(sub->get_name());
    }
    collect_option_names(app, option_names);
    std::set<std::string> visible_commands = commands;
    visible_commands.erase("completion");
    Reporting how = reporting_for(words, commands);
    try {
        refuse_credential_options(words);
        auto [config_path, required] = find_config_path(argc, argv);
        load_config(config_path, required, keys, ctx);
        app.parse(argc, argv);
    } catch (const CLI::ExtrasError&) {
        return fail(how, ExitCode::usage, extras_problem(app, words, visible_commands));
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            return app.exit(e);
        }
        // No command recognised (CLI11: "A subcommand is required"), not an option's problem.
        if (app.get_subcommands().empty() &&
            std::string_view(e.what()).find("subcommand") != std::string_view::npos) {
            return fail(how, ExitCode::usage,
                        command_problem(words, visible_commands, valued_option_names(app)));
        }
        return fail(how, ExitCode::usage, without_unknown_values(e.what(), words, option_names));
    } catch (const Error& e) {
        return fail(how, e.code(), e.what());
    }
    // Now the settings are known, from the environment and the config file too.
    how = cmds.status->parsed() && s.status.check ? Reporting::plugin : Reporting::command;
    try {
        settle_globals(words, g);
    } catch (const Error& e) {
        return fail(how, e.code(), e.what());
    }

    util::Logger log(stderr, g.log_format, util::threshold_for(g.verbose, g.quiet));
    log.set_color(g.log_format == util::Logger::Format::logfmt && ::isatty(2) &&
                  !std::getenv("NO_COLOR"));
    ctx.log = &log;

    try {
        if (cmds.completion->parsed()) {
            std::fputs(bash_completion(app).c_str(), stdout);
            return 0;
        }
        if (cmds.seed->parsed()) {
            return core::cmd_seed(ctx, s.seed);
        }
        if (cmds.add->parsed()) {
            return core::cmd_add(ctx, s.add);
        }
        if (cmds.list->parsed()) {
            return core::cmd_list(ctx, s.list);
        }
        if (cmds.status->parsed()) {
            return core::cmd_status(ctx, s.status);
        }
        if (cmds.upload->parsed()) {
            return core::cmd_upload(ctx, s.upload);
        }
        if (cmds.retry->parsed()) {
            if (!s.retry.all && s.retry.ids.empty()) {
                throw Error(ExitCode::usage, "retry: give image ids or --all");
            }
            if (s.retry.all && !s.retry.ids.empty()) {
                throw Error(ExitCode::usage, "retry: give image ids or --all, not both");
            }
            return core::cmd_retry(ctx, s.retry);
        }
        if (cmds.presign->parsed()) {
            return core::cmd_presign(ctx, s.presign);
        }
        if (cmds.forget->parsed()) {
            if ((s.forget.ids.empty() ? 0 : 1) + (s.forget.state ? 1 : 0) +
                    (s.forget.refused ? 1 : 0) !=
                1) {
                throw Error(ExitCode::usage,
                            "forget: give image ids, --state or --refused, one of them");
            }
            return core::cmd_forget(ctx, s.forget);
        }
        if (cmds.prune->parsed()) {
            return core::cmd_prune(ctx, s.prune);
        }
        if (cmds.verify->parsed()) {
            return core::cmd_verify(ctx, s.verify);
        }
        if (cmds.migrate->parsed()) {
            s.migrate.target = storage::classify_db(s.migrate.to,
                                                    given_on_command_line(words, "--to")
                                                        ? storage::DbSource::command_line
                                                        : storage::DbSource::environment_or_config,
                                                    "--to")
                                   .or_throw(ExitCode::usage);
            return core::cmd_migrate(ctx, s.migrate);
        }
        return core::cmd_check(ctx);
    } catch (const Error& e) {
        return fail(how, e.code(), e.what());
    } catch (const std::exception& e) {
        return fail(how, ExitCode::internal, std::string("internal error: ") + e.what());
    }
}

} // namespace imgsync::cli
