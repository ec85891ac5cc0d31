// `hopscope survey`: many destinations, every (target, TTL) pair once in a
// keyed random order at a fixed rate, through AF_XDP, replies matched in XDP.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>

#include "hopscope/kernel/reply_matcher.hpp"
#include "hopscope/output/asn.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/probe/probe_builder.hpp"
#include "hopscope/survey/targets.hpp"
#include "hopscope/survey/tx_pool.hpp"

namespace hopscope::survey {

struct SurveyOptions {
  Method method = Method::UdpParis;
  int max_ttl = 32;
  double rate = 100000;                  // probes per second
  std::uint64_t seed = 1;                // order of the (target, TTL) pairs
  std::chrono::milliseconds wait{1000};  // for replies after the last probe (< 2.1 s)
  bool preprobe = true;                  // learn each destination's distance first (one probe per target)
  int retries = 1;                       // retry rounds for TTLs that got no answer
  bool doubletree = false;               // backward probing that stops at an interface already known
  unsigned threads = 1;                  // sending threads (AF_XDP: one socket each on TX queues 0..threads-1)
  TxBackend tx = TxBackend::AfXdp;       // AF_XDP sockets, or the kernel generator (xdp-live)
  Format format = Format::Json;          // json, csv, atlas (per destination) or dot (one graph)
  const AsnTable* asn = nullptr;         // annotate replies with their origin AS (--asn-file)
  std::string ifname;                    // empty: from the route to the first target
  std::FILE* progress = nullptr;         // where to draw a live progress line (a terminal)
  PcapWriter* pcap = nullptr;            // every probe and matched reply also goes there (--tx af_xdp)
};

struct SurveySummary {
  std::uint64_t targets = 0;
  std::uint64_t pairs = 0;        // (target, TTL) pairs in the space
  std::uint64_t probes_sent = 0;  // pre-probes included
  std::uint64_t preprobes = 0;
  std::uint64_t hinted = 0;      // destinations whose distance a pre-probe gave
  std::uint64_t skipped = 0;     // pairs beyond a destination already reached
  std::uint64_t replies = 0;     // decoded replies
  std::uint64_t unmatched = 0;   // validated but not decodable as a survey reply
  std::uint64_t reached = 0;     // destinations that answered
  std::uint64_t dropped = 0;     // lost inside hopscope (ring buffer full)
  std::uint64_t retried = 0;     // probes of retry rounds (TTLs that had no answer)
  std::uint64_t late = 0;        // replies after their destination's trace was written
  std::uint64_t interfaces = 0;  // distinct addresses that answered
  std::uint64_t written = 0;     // trace objects written
  std::uint64_t streamed = 0;    // of which finished (handed to the writer) while probes were still to be sent
  double first_write_s = 0;      // when the first was written
  std::size_t state_bytes = 0;   // scheduling state per destination
  int retry_rounds = 0;
  bool doubletree = false;
  double probing_s = 0;   // first to last probe
  double paused_s = 0;    // of which waiting for replies between phases (rate_pps excludes it)
  int passes = 1;         // passes of TTL bands (forward probing with a gap limit)
  double duration_s = 0;  // whole survey, the final wait included
  std::string tx_mode;
  std::string ifname;
  unsigned threads = 1;
  std::uint64_t generator_runs = 0;    // BPF_PROG_RUN calls of the kernel generator (xdp-live)
  std::uint64_t queue_full_waits = 0;  // the pacing thread found a sender's queue full (backpressure, no loss)
  MatcherCounters matcher{};
  bool pcap = false;
  std::uint64_t pcap_frames = 0;  // probes and replies written to the pcap
};

// Runs the survey; writes one trace object (NDJSON) per target to `out`, each
// as soon as nothing more will be sent to its destination.
SurveySummary run_survey(const TargetList& targets, const SurveyOptions& opts, std::ostream& out);
// The summary; its last line is
// "probes_sent=… replies=… destinations=… duration_s=… rate_pps=… dropped=…".
std::string summary_text(const SurveySummary& s);

}  // namespace hopscope::survey
