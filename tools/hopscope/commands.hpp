// Sub-commands of the hopscope CLI: each registers its options and a callback.
#pragma once

#include <CLI/CLI.hpp>

namespace hopscope::cli {

void add_trace_command(CLI::App& app);
void add_lab_command(CLI::App& app);
void add_sim_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_survey_command(CLI::App& app);
void add_watch_command(CLI::App& app);

// Exit codes.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 1;

}  // namespace hopscope::cli
