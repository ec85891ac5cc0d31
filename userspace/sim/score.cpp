#include "hopscope/sim/score.hpp"

#include <fmt/format.h>

#include <climits>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hopscope::sim {
namespace {

using nlohmann::json;

struct TruthHop {
  std::vector<std::string> addrs;  // every router of the hop
  std::vector<bool> silent;
  int diamond = 0;
  [[nodiscard]] bool any_silent() const {
    for (bool s : silent)
      if (s) return true;
    return false;
  }
};

struct TruthDest {
  int path = 0;
  bool answers = true;
};

struct Truth {
  std::unordered_map<int, std::vector<TruthHop>> paths;
  std::unordered_map<std::string, TruthDest> dests;
};

json parse_line(const std::string& line, std::size_t n, const char* what) {
  try {
    return json::parse(line);
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{} line {}: {}", what, n, e.what()));
  }
}

void add_truth_line(Truth& t, const json& j);

// An integer field of an object that must hold one (a float such as 1e21
// would not convert to int).
int int_field(const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_number_integer() || v.get<std::int64_t>() < INT_MIN || v.get<std::int64_t>() > INT_MAX)
    throw std::runtime_error(fmt::format("\"{}\" is not an integer: {}", key, v.dump()));
  return static_cast<int>(v.get<std::int64_t>());
}

Truth read_truth(std::istream& in) {
  Truth t;
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    n++;
    if (line.empty()) continue;
    json j = parse_line(line, n, "truth");
    try {
      add_truth_line(t, j);
    } catch (const std::exception& e) {  // json's, and a field that is not what it must be
      throw std::runtime_error(fmt::format("truth line {}: {}", n, e.what()));
    }
  }
  if (t.dests.empty()) throw std::runtime_error("truth: no destinations (is this a `hopscope sim up --truth` file?)");
  for (const auto& [dst, d] : t.dests)
    if (!t.paths.count(d.path))
      throw std::runtime_error(
          fmt::format("truth: destination {} is on path {}, which the file does not have", dst, d.path));
  return t;
}

void add_truth_line(Truth& t, const json& j) {
  {
    const std::string type = j.value("type", "");
    if (type == "path") {
      std::vector<TruthHop> hops;
      for (const auto& h : j.at("hops")) {
        TruthHop th;
        th.diamond = h.contains("diamond") ? int_field(h, "diamond") : 0;
        for (const auto& r : h.at("routers")) {
          th.addrs.push_back(r.at("addr").get<std::string>());
          th.silent.push_back(r.at("silent").get<bool>());
        }
        hops.push_back(std::move(th));
      }
      t.paths[int_field(j, "id")] = std::move(hops);
    } else if (type == "dest") {
      t.dests[j.at("dst").get<std::string>()] = {int_field(j, "path"), j.at("reply") == "answers"};
    }
  }
}

std::string link_key(const std::string& a, const std::string& b) { return a + ">" + b; }

// What the scored traces found, and which truth paths they cover.
struct Found {
  std::set<int> paths;
  std::unordered_set<std::string> nodes, links;
};

// Whether the trace's answers at each TTL are the truth path's (silent
// routers may be missing) and it ends as the destination does.
bool trace_exact(const std::map<int, std::set<std::string>>& at_ttl, const std::vector<TruthHop>& path,
                 const TruthDest& d, const std::string& dst) {
  bool exact = true;
  for (std::size_t t = 0; t < path.size() && exact; t++) {
    const TruthHop& th = path[t];
    auto got = at_ttl.find(static_cast<int>(t + 1));
    if (got == at_ttl.end() || got->second.empty()) {
      exact = th.any_silent();
      continue;
    }
    for (const auto& a : got->second) {
      bool ok = false;
      for (std::size_t k = 0; k < th.addrs.size(); k++) ok |= !th.silent[k] && th.addrs[k] == a;
      exact &= ok;
    }
  }
  auto last = at_ttl.find(static_cast<int>(path.size() + 1));
  if (d.answers) return exact && last != at_ttl.end() && last->second.count(dst) == 1;
  return exact && (last == at_ttl.end() || last->second.empty());
}

void score_trace(const Truth& truth, const json& j, Score& s, Found& found) {
  s.traces++;
  const std::string dst = j.at("dst").get<std::string>();
  auto it = truth.dests.find(dst);
  if (it == truth.dests.end()) {
    s.unknown_dests++;
    return;
  }
  const TruthDest& d = it->second;
  found.paths.insert(d.path);

  // ttl -> reply addresses, and flow -> ttl -> router addresses (for links).
  std::map<int, std::set<std::string>> at_ttl;
  std::map<int, std::map<int, std::set<std::string>>> by_flow;
  for (const auto& hop : j.at("hops")) {
    const int ttl = int_field(hop, "ttl");
    for (const auto& r : hop.at("replies")) {
      const std::string addr = r.at("addr").get<std::string>();
      at_ttl[ttl].insert(addr);
      if (addr == dst) continue;
      found.nodes.insert(addr);
      by_flow[r.contains("flow") ? int_field(r, "flow") : 0][ttl].insert(addr);
    }
  }
  for (const auto& [flow, ttls] : by_flow)
    for (const auto& [ttl, addrs] : ttls) {
      auto next = ttls.find(ttl + 1);
      if (next == ttls.end()) continue;
      for (const auto& a : addrs)
        for (const auto& b : next->second) found.links.insert(link_key(a, b));
    }
  s.paths++;
  s.paths_exact += trace_exact(at_ttl, truth.paths.at(d.path), d, dst);
}

// A `trace --mda` result: its interfaces are nodes, its links (where no silent hop lies
// between) are links; the destination is neither, as for traces.
void score_mda(const Truth& truth, const json& j, Score& s, Found& found) {
  s.mda++;
  const std::string dst = j.at("dst").get<std::string>();
  auto it = truth.dests.find(dst);
  if (it == truth.dests.end()) {
    s.unknown_dests++;
    return;
  }
  found.paths.insert(it->second.path);
  std::map<int, std::set<std::string>> at_ttl;
  for (const auto& hop : j.at("hops")) {
    const int ttl = int_field(hop, "ttl");
    for (const auto& a : hop.at("interfaces")) {
      const std::string addr = a.get<std::string>();
      at_ttl[ttl].insert(addr);
      if (addr != dst) found.nodes.insert(addr);
    }
  }
  for (const auto& l : j.at("links")) {
    const std::string from = l.at("from").get<std::string>(), to = l.at("to").get<std::string>();
    if (int_field(l, "silent_between") == 0 && from != dst && to != dst) found.links.insert(link_key(from, to));
  }
  s.paths++;
  s.paths_exact += trace_exact(at_ttl, truth.paths.at(it->second.path), it->second, dst);
}

// Recall and precision: the truth's nodes, links and diamonds on the scored paths against what was found.
void score_against_truth(const Truth& truth, const Found& found, Score& s) {
  std::unordered_set<std::string> truth_nodes, truth_links;
  std::map<int, std::set<std::string>> diamond_branches;
  for (int id : found.paths) {
    const auto& path = truth.paths.at(id);
    for (std::size_t t = 0; t < path.size(); t++) {
      const TruthHop& h = path[t];
      for (std::size_t k = 0; k < h.addrs.size(); k++) {
        if (h.silent[k]) continue;
        truth_nodes.insert(h.addrs[k]);
        if (h.diamond) diamond_branches[h.diamond].insert(h.addrs[k]);
      }
      if (t + 1 == path.size()) continue;
      const TruthHop& nx = path[t + 1];
      // Within a diamond the same flow hash picks both hops' branches (hash % width):
      // branch a links to branch b where a and b agree modulo gcd of the widths.
      const std::size_t g = h.diamond && h.diamond == nx.diamond ? std::gcd(h.addrs.size(), nx.addrs.size()) : 1;
      for (std::size_t a = 0; a < h.addrs.size(); a++)
        for (std::size_t b = 0; b < nx.addrs.size(); b++) {
          if (h.silent[a] || nx.silent[b] || a % g != b % g) continue;
          truth_links.insert(link_key(h.addrs[a], nx.addrs[b]));
        }
    }
  }
  s.truth_nodes = truth_nodes.size();
  s.found_nodes = found.nodes.size();
  for (const auto& a : found.nodes) s.correct_nodes += truth_nodes.count(a);
  s.truth_links = truth_links.size();
  s.found_links = found.links.size();
  for (const auto& l : found.links) s.correct_links += truth_links.count(l);
  double sum = 0;
  for (const auto& [id, branches] : diamond_branches) {
    std::size_t got = 0;
    for (const auto& b : branches) got += found.nodes.count(b);
    s.diamonds++;
    s.diamonds_complete += got == branches.size();
    sum += static_cast<double>(got) / static_cast<double>(branches.size());
  }
  s.diamond_branch_recall = s.diamonds ? sum / static_cast<double>(s.diamonds) : 1.0;
}

}  // namespace

Score score(std::istream& truth_in, std::istream& results) {
  const Truth truth = read_truth(truth_in);
  Score s;
  Found found;
  std::size_t n = 0;
  for (std::string line; std::getline(results, line);) {
    n++;
    if (line.empty() || line[0] != '{') continue;
    json j = parse_line(line, n, "results");
    const auto it = j.find("type");
    const std::string type = it != j.end() && it->is_string() ? it->get<std::string>() : "";
    if (type != "trace" && type != "mda") continue;
    try {
      if (type == "trace")
        score_trace(truth, j, s, found);
      else
        score_mda(truth, j, s, found);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("results line {}: {}", n, e.what()));
    }
  }
  score_against_truth(truth, found, s);
  return s;
}

std::string score_report(const Score& s) {
  std::string out;
  out += fmt::format("traces={}{} unknown_destinations={}\n", s.traces, s.mda ? fmt::format(" mda={}", s.mda) : "",
                     s.unknown_dests);
  out += fmt::format("nodes: truth={} found={} correct={}\n", s.truth_nodes, s.found_nodes, s.correct_nodes);
  out += fmt::format("links: truth={} found={} correct={}\n", s.truth_links, s.found_links, s.correct_links);
  out += fmt::format("diamonds: {} crossed, {} complete, branch recall {:.4f}\n", s.diamonds, s.diamonds_complete,
                     s.diamond_branch_recall);
  out += fmt::format(
      "node_recall={:.4f} link_recall={:.4f} node_precision={:.4f} link_precision={:.4f} paths_exact={}/{}\n",
      s.node_recall(), s.link_recall(), s.node_precision(), s.link_precision(), s.paths_exact, s.paths);
  return out;
}

std::string score_files(const std::string& truth_path, const std::string& results_path) {
  std::ifstream truth(truth_path);
  if (!truth) throw std::runtime_error("cannot read the truth file '" + truth_path + "'");
  std::ifstream file;
  std::istream* results = &std::cin;
  if (results_path != "-") {
    file.open(results_path);
    if (!file) throw std::runtime_error("cannot read the results file '" + results_path + "'");
    results = &file;
  }
  return score_report(score(truth, *results));
}

}  // namespace hopscope::sim
