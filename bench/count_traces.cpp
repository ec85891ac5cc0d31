// Counts traces, probes and distinct router interfaces in NDJSON trace
// output, hopscope's (`trace`/`survey -o json`) or scamper's (`-O json`).
// Interfaces exclude each trace's own destination.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE.ndjson\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::perror(argv[1]);
    return 1;
  }
  std::uint64_t traces = 0, probes = 0, reached = 0;
  std::unordered_set<std::string> interfaces;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"type\":\"trace\"") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line);
    traces++;
    const std::string dst = j.value("dst", "");
    bool got_dst = false;
    if (j.contains("probe_count")) {  // scamper: one entry per reply
      probes += j["probe_count"].get<std::uint64_t>();
      for (const auto& h : j.value("hops", nlohmann::json::array())) {
        const std::string a = h.value("addr", "");
        if (a == dst)
          got_dst = true;
        else if (!a.empty())
          interfaces.insert(a);
      }
    } else {  // hopscope
      for (const auto& h : j["hops"]) {
        probes += h.value("probes_sent", 0);
        for (const auto& r : h["replies"]) {
          const std::string a = r["addr"];
          if (a == dst)
            got_dst = true;
          else
            interfaces.insert(a);
        }
      }
    }
    reached += got_dst;
  }
  std::printf("traces=%llu reached=%llu probes=%llu interfaces=%zu\n", (unsigned long long)traces,
              (unsigned long long)reached, (unsigned long long)probes, interfaces.size());
  return 0;
}
