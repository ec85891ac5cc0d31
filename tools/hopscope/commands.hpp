// Sub-commands of the hopscope CLI: each registers its options and a callback.
#pragma once

#include <CLI/CLI.hpp>

#include "hopscope/core/error.hpp"
#include "hopscope/sys/privileges.hpp"

namespace hopscope::cli {

void add_trace_command(CLI::App& app);
void add_lab_command(CLI::App& app);
void add_sim_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_survey_command(CLI::App& app);
void add_watch_command(CLI::App& app);

// Runs `f`; a UsageError from the library becomes CLI11's ValidationError
// ("OPTION: message"), reported as a usage error.
template <class F>
void with_usage_errors(F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    throw CLI::ValidationError(e.option(), e.what());
  }
}

// Wraps a command's callback: refuses (PrivilegeError, exit 77) before it runs
// unless the process holds what XDP, BPF and namespaces need; then sets
// no-new-privileges (nothing it or its helpers exec can gain more).
template <class F>
auto privileged(std::string command, F f) {
  return [command = std::move(command), f = std::move(f)] {
    require_privileges(command);
    set_no_new_privileges();
    f();
  };
}

// --blocklist FILE and --allowlist FILE, as trace, survey and watch take them.
inline void add_blocklist_options(CLI::App* app, std::string& blocklist, std::string& allowlist) {
  app->add_option("--blocklist", blocklist,
                  "Never probe the prefixes in this file (one per line), on top of the default blocklist");
  app->add_option("--allowlist", allowlist,
                  "Probe only the prefixes in this file (one per line); they override the default blocklist");
}

// A number in [lo, hi] (CLI11's Range lets NaN through: every comparison with it is false).
inline CLI::Validator finite_range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !(v >= lo && v <= hi))
          return "Value " + text + " not in range [" + CLI::detail::to_string(lo) + " - " + CLI::detail::to_string(hi) +
                 "]";
        return {};
      },
      "FLOAT in [" + CLI::detail::to_string(lo) + " - " + CLI::detail::to_string(hi) + "]");
}

// Exit codes.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 1;
constexpr int kExitPrivileges = 77;  // sysexits' EX_NOPERM

}  // namespace hopscope::cli
