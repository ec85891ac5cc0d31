// Per-hop statistics of a trace, as mtr and Trippy report them: probes sent
// and answered, loss, RTT last/min/avg/max/stddev and jitter, overall and per
// responding address; and the path's RTT, loss and length.
#pragma once

#include <cstdint>
#include <vector>

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

struct RttStats {
  int received = 0;
  double last_ms = 0;
  double min_ms = 0;
  double avg_ms = 0;
  double max_ms = 0;
  double stddev_ms = 0;  // sample standard deviation (n - 1); 0 with fewer than 2 samples
  double jitter_ms = 0;  // mean |RTT(i) - RTT(i-1)| over consecutive answered probes; 0 with fewer than 2
};

struct AddressStats {
  IpAddress addr;
  RttStats rtt;
};

struct HopStats {
  int ttl = 0;
  int sent = 0;
  double loss_pct = 0;                  // 100 * (sent - received) / sent
  RttStats rtt;                         // every answer of the hop
  std::vector<AddressStats> addresses;  // in order of first answer
};

struct PathStats {
  int length = 0;         // hops to the destination (or to the last hop that answered)
  bool reached = false;   // the destination answered
  double rtt_avg_ms = 0;  // of the last hop's answers
  double loss_pct = 0;    // of the last hop
};

// RTT statistics of answers in probe (attempt) order.
RttStats rtt_stats(const std::vector<double>& rtts_ms);
HopStats hop_stats(const Hop& hop);
PathStats path_stats(const TraceResult& r);

}  // namespace hopscope
