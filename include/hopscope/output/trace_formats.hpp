// Output formats of `trace` and `survey` besides text and our JSON:
//  - csv: one row per reply (a hop without any gets one row with empty reply
//    fields), after a header row;
//  - atlas: RIPE Atlas traceroute result JSON (firmware 5000+ shape), one
//    object per trace;
//  - scamper-json: the trace objects of `scamper -O json`, for CAIDA-style tools;
//  - dot: a path graph (Graphviz): nodes = interfaces labelled with loss and
//    RTT, edges = links between consecutive hops (across silent hops, dashed),
//    ECMP diamonds visible as several nodes at one distance; with ASNs, nodes
//    are grouped per AS and links crossing an AS boundary are red.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

enum class Format { Text, Json, Csv, Atlas, ScamperJson, Dot };

// "text", "json", "csv", "atlas", "scamper-json", "dot"; false if unknown.
bool parse_format(const std::string& name, Format& out);

// One trace in format `f`, newline-terminated: a JSON / Atlas / scamper-json
// line, or CSV rows (after append_csv_header). Text and dot: nothing (text
// has its own functions, dot is one graph of all traces: traces_dot()).
void append_trace(std::string& out, const TraceResult& r, Format f);

void append_csv_header(std::string& out);
void append_trace_csv(std::string& out, const TraceResult& r);

// One line, no trailing newline.
void append_trace_atlas(std::string& out, const TraceResult& r);
// scamper's JSON trace object (`scamper -O json`, version 0.1): one line, no
// trailing newline.
void append_trace_scamper(std::string& out, const TraceResult& r);
// The records scamper's JSON output puts around its traces (a cycle of the
// "default" list, this host's name), each a line: before the first trace and
// after the last.
void append_scamper_cycle_start(std::string& out, std::int64_t unix_s);
void append_scamper_cycle_stop(std::string& out, std::int64_t unix_s);

// The path graph of many traces, built one trace at a time (a survey adds
// each as it is written; memory grows with interfaces and links only).
class PathGraph {
 public:
  void add(const TraceResult& r);
  [[nodiscard]] std::string dot() const;

 private:
  struct NodeStats {
    // Loss is the hops': at a hop shared by several interfaces (ECMP), a
    // probe another interface answered is no loss.
    int sent = 0;      // probes of the hops where it answered
    int answered = 0;  // answers at those hops, from any interface
    int received = 0;  // its own answers (its mean RTT)
    double rtt_sum = 0;
    bool destination = false;
    bool unreached = false;  // a traced destination that never answered
    std::string asn;         // origin AS ("" unknown)
    std::set<int> ttls;      // hops it answered at (several, not next to each other: a loop)
  };
  std::map<std::string, NodeStats> nodes_;
  std::map<std::pair<std::string, std::string>, int> edges_;       // -> fewest silent hops between them
  std::set<std::pair<std::string, std::string>> unreached_edges_;  // last answering hop -> unreached destination
  std::set<std::string> sources_;
  std::set<std::string> dsts_;
  std::set<std::string> methods_;
};

// A graph of one or many traces.
std::string traces_dot(const std::vector<TraceResult>& traces);

}  // namespace hopscope
