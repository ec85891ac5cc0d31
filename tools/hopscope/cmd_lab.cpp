// hopscope lab up|down|status
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "hopscope/lab/lab.hpp"

namespace hopscope::cli {

void add_lab_command(CLI::App& app) {
  auto* lab = app.add_subcommand("lab", "Real-router lab in network namespaces");
  lab->require_subcommand(1);
  auto prefix = std::make_shared<std::string>("hslab");
  auto json = std::make_shared<bool>(false);
  // --prefix is accepted before or after the action: `lab --prefix X up` or `lab up --prefix X`.
  auto add_prefix = [prefix](CLI::App* a) {
    a->add_option("--prefix", *prefix, "Namespace name prefix (namespaces are PREFIX-<node>)")->capture_default_str();
  };
  add_prefix(lab);
  auto* up = lab->add_subcommand("up", "Build the lab (replacing a stale one) and wait until it routes");
  auto* down = lab->add_subcommand("down", "Remove the lab's namespaces and processes");
  auto* status = lab->add_subcommand("status", "Print whether the lab is up and its ground-truth paths");
  for (auto* a : {up, down, status}) add_prefix(a);

  up->callback(privileged("lab up", [prefix] {
    Lab l(*prefix);
    l.up();
    std::fputs(truth_text(l).c_str(), stdout);
  }));
  down->callback(privileged("lab down", [prefix] {
    Lab l(*prefix);
    l.down();
    std::printf("lab %s: down\n", prefix->c_str());
  }));
  status->add_flag("--json", *json, "Ground truth as NDJSON, one path per line");
  status->callback([prefix, json] {
    Lab l(*prefix);
    std::fputs((*json ? truth_json(l) : truth_text(l)).c_str(), stdout);
  });
}

}  // namespace hopscope::cli
