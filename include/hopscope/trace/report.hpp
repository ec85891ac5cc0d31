// `hopscope trace --report`: mtr-like cycles over a discovered path. A first
// trace (one probe per hop) finds the path; then each cycle sends one probe
// to every hop, `interval` apart, until every hop has `min_probes`; a hop
// with fewer than `min_probes` answers gets more, up to `max_probes` in all
// (adaptive probing, as Kadiska does). Each probe's timeout is scaled by the hop's distance: a few
// times the largest RTT seen up to that hop, never more than `trace.wait`.
#pragma once

#include <chrono>

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

struct ReportOptions {
  TraceOptions trace;  // destination, identity, discovery (probes_per_hop is ignored: 1)
  int min_probes = 6;
  int max_probes = 12;
  std::chrono::milliseconds interval{200};  // between the starts of two cycles
  std::chrono::milliseconds min_wait{20};   // shortest timeout of a probe
  double wait_factor = 3.0;                 // timeout = factor x largest RTT seen up to the hop
};

// Largest seq_base a report may use (its probes take seq_base .. + (max_probes+1) * max_ttl).
std::uint16_t max_report_seq_base(int max_probes, int max_ttl);

// Runs the report. Hops carry every probe's answer with attempt = cycle
// (0: the discovery trace); probes_sent counts them all.
TraceResult run_report(const ReportOptions& opts, ProbeTransport& transport);

}  // namespace hopscope
