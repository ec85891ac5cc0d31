// hopscope score --truth FILE RESULTS.ndjson
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "hopscope/sim/score.hpp"

namespace hopscope::cli {

void add_score_command(CLI::App& app) {
  struct Args {
    std::string truth, results;
  };
  auto a = std::make_shared<Args>();
  auto* s = app.add_subcommand("score", "Score traces (NDJSON) against a simulated Internet's ground truth");
  s->add_option("--truth", a->truth, "Ground truth written by `hopscope sim up --truth`")->required();
  s->add_option("RESULTS", a->results, "Traces, NDJSON (hopscope trace/survey -o json); - for stdin")->required();
  s->callback([a] { std::fputs(sim::score_files(a->truth, a->results).c_str(), stdout); });
}

}  // namespace hopscope::cli
