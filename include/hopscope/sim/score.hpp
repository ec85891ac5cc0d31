// Scores measured traces (NDJSON in the schema of `hopscope trace -o json`)
// against a simulated Internet's ground truth.
//
// Only destinations that appear in the results are scored, against the paths
// the truth gives them:
//  - truth nodes: the non-silent router addresses on those paths (every ECMP branch);
//  - truth links: router pairs at consecutive TTLs, both non-silent, that the
//    flow hash can produce: inside a diamond spanning several hops (widths w1,
//    w2) branch a links to branch b where a = b mod gcd(w1, w2), elsewhere every pair;
//  - discovered nodes: reply addresses other than the trace's destination
//    (for `trace --mda` results: the interfaces);
//  - discovered links: per trace and flow, addresses at TTL t and t+1 (for
//    `--mda` results: their links with no silent hop between, not to the destination);
//  - a path is exact when every TTL answers with addresses of its truth hop
//    (or is silent where the truth hop has a silent router), and the
//    destination answers at its TTL (or stays silent if it is silent);
//  - a diamond's branch recall: its non-silent branches found / all of them.
#pragma once

#include <cstdint>
#include <istream>
#include <string>

namespace hopscope::sim {

struct Score {
  std::uint64_t traces = 0;         // trace objects read
  std::uint64_t mda = 0;            // `trace --mda` objects read
  std::uint64_t unknown_dests = 0;  // traces to destinations the truth does not have
  std::uint64_t truth_nodes = 0, found_nodes = 0, correct_nodes = 0;
  std::uint64_t truth_links = 0, found_links = 0, correct_links = 0;
  std::uint64_t paths = 0, paths_exact = 0;
  std::uint64_t diamonds = 0, diamonds_complete = 0;
  double diamond_branch_recall = 0;  // mean over diamonds

  [[nodiscard]] double node_recall() const { return ratio(correct_nodes, truth_nodes); }
  [[nodiscard]] double node_precision() const { return ratio(correct_nodes, found_nodes); }
  [[nodiscard]] double link_recall() const { return ratio(correct_links, truth_links); }
  [[nodiscard]] double link_precision() const { return ratio(correct_links, found_links); }

 private:
  static double ratio(std::uint64_t a, std::uint64_t b) {
    return b ? static_cast<double>(a) / static_cast<double>(b) : 1.0;
  }
};

// Throws std::runtime_error (with the line number) on malformed input.
Score score(std::istream& truth, std::istream& results);
// Human-readable report; its last line is
// "node_recall=… link_recall=… node_precision=… link_precision=… paths_exact=…/…".
std::string score_report(const Score& s);

// `hopscope score`: reads the truth file and the results (NDJSON; "-":
// stdin) and returns the report. Throws std::runtime_error if a file cannot be read.
std::string score_files(const std::string& truth_path, const std::string& results_path);

}  // namespace hopscope::sim
