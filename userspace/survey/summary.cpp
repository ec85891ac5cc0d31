#include <fmt/format.h>

#include "hopscope/output/counters_text.hpp"
#include "hopscope/survey/survey.hpp"

namespace hopscope::survey {

namespace {

// The probing rate achieved (pauses between phases excluded).
double achieved_rate(const SurveySummary& s) {
  return s.probing_s > s.paused_s ? static_cast<double>(s.probes_sent) / (s.probing_s - s.paused_s) : 0.0;
}

// The achieved rate beside the configured one; backpressure; a warning when
// the survey ran more than 10% below -r, with the likely reason.
std::string rate_note(const SurveySummary& s) {
  const double got = achieved_rate(s);
  std::string out = fmt::format("survey: probing at {:.0f} probes/s of the {:.0f} configured ({:.1f}%)\n", got, s.rate,
                                s.rate > 0 ? 100.0 * got / s.rate : 0.0);
  if (s.backpressure_pauses)
    out += fmt::format(
        "survey: slowed down {} time(s), {:.3f} s in all: the reply ring buffer was more than half full (replies "
        "arrived faster than they were consumed); nothing was sent until it was down to a quarter\n",
        s.backpressure_pauses, s.backpressure_s);
  if (s.rate > 0 && got < 0.9 * s.rate && s.probes_sent > 1000) {
    const std::string why =
        s.backpressure_pauses ? std::string("the receiving side could not keep up (see above)")
        : s.queue_full_waits
            ? fmt::format("the senders could not keep up ({} waits on a full queue)", s.queue_full_waits)
            : std::string("the pacing thread could not go faster on this machine");
    out += fmt::format("survey: warning: probing ran {:.1f}% below -r {:.0f}: {}\n", 100.0 * (1 - got / s.rate), s.rate,
                       why);
  }
  return out;
}

}  // namespace

std::string summary_text(const SurveySummary& s) {
  const std::string m = matcher_counters_text(s.matcher);
  // A failed XDP_TX is invisible to the generator (a veth drops them silently
  // when its peer runs no XDP program): say so when nothing came back.
  const std::string live_note =
      s.tx_mode == "xdp-live" && s.probes_sent > 0 && s.matcher[HS_CNT_MATCHED] == 0
          ? fmt::format(
                "survey: warning: no reply at all; with --tx xdp-live, {} must transmit XDP frames (a veth "
                "does so only while its peer runs an XDP program): try --tx af_xdp\n",
                s.ifname)
          : std::string();
  const std::string pcap_note =
      s.pcap ? fmt::format(
                   "survey: pcap: {} frames (probes and replies) in time order, {} of them out of it (later than the "
                   "writer's window); {} reply copies lost to a full capture ring\n",
                   s.pcap_frames, s.pcap_out_of_order, s.matcher[HS_CNT_CAPTURE_FULL])
             : std::string();
  const std::string anchor_note =
      s.tx_warning.empty()
          ? std::string()
          : fmt::format(
                "survey: warning: {}: the generators could not be kept in the kernel's XDP dispatcher, so each "
                "of their runs waits for RCU grace periods (25-40 ms measured) and sends in larger bursts\n",
                s.tx_warning);
  const std::string skipped_note =
      s.skipped_targets ? fmt::format(
                              "survey: {} address{} of the targets not probed (blocklist, this host's own; "
                              "reasons on the lines before)\n",
                              s.skipped_targets, s.skipped_targets == 1 ? "" : "es")
                        : std::string();
  const std::string lost_note =
      s.dropped ? fmt::format(
                      "survey: {} replies lost to a full ring buffer (their TTLs were probed again as retries); {} "
                      "destinations were traced while it happened (\"replies_lost_while_traced\" in each)\n",
                      s.dropped, s.lost_traces)
                : std::string();
  const std::string halted_note =
      s.halted ? fmt::format(
                     "survey: interrupted: probing stopped, the replies in flight were awaited; {} "
                     "destinations written unfinished (stop reason halted)\n",
                     s.halted)
               : std::string();
  return halted_note + lost_note + skipped_note + live_note + anchor_note + pcap_note + rate_note(s) +
         fmt::format(
             "survey: {} targets, {} (target, TTL) pairs in a random order; {} skipped beyond a reached destination\n"
             "survey: {} pre-probes gave the distance of {} destinations; {} cohort(s) of up to {} destinations, "
             "{} passes of TTL bands at most; {:.3f} s with nothing to send, waiting for replies\n"
             "survey: {} destinations answered; {} interfaces; {} replies not decodable as survey replies; {} late "
             "(after their trace was written)\n"
             "survey: replies refused: {} duplicates (a hop answered again: a replay; \"duplicate_replies\" in its "
             "trace), {} stale (sent longer ago than -w: a replay); {} replies authenticated on 16 bits only (an "
             "IPv4 router quoting 28 bytes), the rest on 48\n"
             "survey: {} retry probes in {} round(s); {}; {} bytes of scheduling state per destination; at most {} "
             "replies held for destinations not finished\n"
             "survey: {} traces written, {} of them while probing went on, the first {:.3f} s after the start; each "
             "at most {:.3f} s after its destination finished ({} more than 1 s after){}\n"
             "survey: {} on {} ({} sending thread(s), {} waits on a full queue{}); probing {:.3f} s; XDP matcher:{}\n"
             "probes_sent={} replies={} destinations={} duration_s={:.3f} rate_pps={:.0f} dropped={}\n",
             s.targets, s.pairs, s.skipped, s.preprobes, s.hinted, s.cohorts, s.cohort_size, s.passes, s.paused_s,
             s.reached, s.interfaces, s.unmatched, s.late, s.duplicates, s.stale, s.short_mac, s.retried,
             s.retry_rounds, s.doubletree ? "Doubletree stop set on" : "no stop set", s.state_bytes, s.held_peak,
             s.written, s.streamed, s.first_write_s, s.write_delay_s, s.late_writes,
             s.writer_priority ? ""
                               : "; the writer could not raise its priority (no CAP_SYS_NICE): under load it competes "
                                 "with the probing threads",
             s.tx_mode, s.ifname, s.threads, s.queue_full_waits,
             s.generator_runs ? fmt::format(", {} generator runs", s.generator_runs) : std::string(), s.probing_s, m,
             s.probes_sent, s.replies, s.targets, s.duration_s, achieved_rate(s), s.dropped);
}

}  // namespace hopscope::survey
