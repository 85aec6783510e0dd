// The command line's table: every command and option, with its help, as CLI11 parses it and
// the bash completion lists it (one table, so they cannot drift). cli/app.cpp adds the
// environment names and the config file and dispatches.
#pragma once

#include "commands/settings.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace imgsync::cli {

// What every command fills in.
struct Settings {
    core::SeedSettings seed;
    core::AddSettings add;
    core::ListSettings list;
    core::StatusSettings status;
    core::UploadSettings upload;
    core::RetrySettings retry;
    core::ForgetSettings forget;
    core::VerifySettings verify;
    core::PruneSettings prune;
    core::PresignSettings presign;
    core::MigrateSettings migrate;
    std::string completion_shell;
};

// The subcommands, to ask which one was parsed.
struct Commands {
    CLI::App* seed = nullptr;
    CLI::App* add = nullptr;
    CLI::App* list = nullptr;
    CLI::App* status = nullptr;
    CLI::App* upload = nullptr;
    CLI::App* retry = nullptr;
    CLI::App* forget = nullptr;
    CLI::App* verify = nullptr;
    CLI::App* prune = nullptr;
    CLI::App* check = nullptr;
    CLI::App* presign = nullptr;
    CLI::App* migrate = nullptr;
    CLI::App* completion = nullptr;
};

void define_global_options(CLI::App& app, core::GlobalSettings& g);
Commands define_commands(CLI::App& app, Settings& s);

// The upload command and its options (cli/upload_options.cpp).
CLI::App* define_upload(CLI::App& app, core::UploadSettings& upload);

// Options more than one command takes.
void add_multipart_options(CLI::App* cmd, core::MultipartSettings& s);
void add_jobs_option(CLI::App* cmd, unsigned& jobs);
void add_local_file_options(CLI::App* cmd, core::LocalFileSettings& s);
void add_key_options(CLI::App* cmd, core::KeyLayout& layout, std::string& key_template);
void add_exclude_option(CLI::App* cmd, std::vector<std::string>& patterns);

} // namespace imgsync::cli
