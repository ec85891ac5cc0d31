// hopscope: eBPF/XDP-assisted path prober. Parses the command line and hands
// off to the library; see README.md for usage.
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "hopscope/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"hopscope: eBPF/XDP-assisted network path prober"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "hopscope 0.1.0");
  hopscope::cli::add_trace_command(app);
  hopscope::cli::add_lab_command(app);
  hopscope::cli::add_sim_command(app);
  hopscope::cli::add_score_command(app);
  hopscope::cli::add_survey_command(app);
  hopscope::cli::add_watch_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // Every usage error (bad flag, value out of range, conflicting options):
    // one line, exit 2.
    std::fprintf(stderr, "hopscope: %s (see --help)\n", e.what());
    return hopscope::cli::kExitUsage;
  } catch (const hopscope::Interrupted& e) {
    std::fprintf(stderr, "hopscope: %s\n", e.what());
    return 128 + e.signal();
  } catch (const hopscope::PrivilegeError& e) {
    std::fprintf(stderr, "hopscope: %s\n", e.what());
    return hopscope::cli::kExitPrivileges;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hopscope: %s\n", e.what());
    return hopscope::cli::kExitRuntime;
  }
  return hopscope::cli::kExitOk;
}
