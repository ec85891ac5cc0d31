// What a trace needs of its transport beyond sending and receiving: the
// route it probes along, the probes' template, the link MTU, how probes
// leave and the matcher's counters. XdpTransport (one trace, its own
// matcher) and MuxChannel (one of several concurrent traces sharing one
// matcher, watch) implement it.
#pragma once

#include "hopscope/io/probe_transport.hpp"
#include "hopscope/kernel/reply_matcher.hpp"
#include "hopscope/probe/probe_builder.hpp"
#include "hopscope/sys/netlink.hpp"

namespace hopscope {

class TraceTransport : public ProbeTransport {
 public:
  [[nodiscard]] virtual const Route& route() const = 0;
  [[nodiscard]] virtual const ProbeTemplate& probe_template() const = 0;
  [[nodiscard]] virtual unsigned link_mtu() const = 0;
  [[nodiscard]] virtual const char* tx_mode() const = 0;
  [[nodiscard]] virtual MatcherCounters counters() const = 0;
};

}  // namespace hopscope
