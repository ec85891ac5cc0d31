// Sends a batch of probes and waits (up to `wait` after the last left) for
// their replies, matched by (seq, flow, method, destination). The shared
// step of path MTU discovery, MDA and the TCP handshake fallback.
#pragma once

#include <chrono>
#include <map>
#include <span>

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

// Index in `probes` -> the first reply to it. `method` is the probes'
// method (tcp_syn probes: TCP SYN whatever it says); `accept` may refuse a
// matched record (e.g. only a TCP answer from the destination).
std::map<std::size_t, HopReply> exchange_probes(ProbeTransport& t, std::span<const ProbeRequest> probes,
                                                const IpAddress& dst, Method method, std::chrono::milliseconds wait,
                                                const std::function<bool(const hs_reply_record&)>& accept = nullptr);

}  // namespace hopscope
