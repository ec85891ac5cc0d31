// The survey engine: many destinations, every (target, TTL) pair in a keyed
// random order at a fixed rate. It runs
//  - cohorts of destinations (cohorts.hpp), each with its pre-probes first
//    (one per destination at the max TTL: the reply's TTL tells its
//    distance), then its passes of TTL bands and retry rounds (scheduler.hpp:
//    gap limit, Doubletree, retries); after each of them a cohort settles
//    (its replies are awaited before its next pass's limits are computed
//    from them) while another cohort sends;
//  - streaming: the destinations each pass finishes go, with their replies,
//    to the trace writer while probing goes on;
//  - the summary, whose invariant (one trace per target) is checked.
// Its I/O edges (edges.hpp) and clock are passed in: run_survey() gives it
// AF_XDP or the kernel generator and the XDP matcher; tests a fake network.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>

#include "hopscope/core/clock.hpp"
#include "hopscope/output/asn.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/survey/cohorts.hpp"
#include "hopscope/survey/collector.hpp"
#include "hopscope/survey/edges.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/target_state.hpp"
#include "hopscope/survey/targets.hpp"
#include "hopscope/survey/token_bucket.hpp"
#include "hopscope/survey/trace_writer.hpp"
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
  std::size_t cohort_size = Cohorts::kDefaultSize;  // destinations probed together (memory: their replies)
  // Set (SIGINT/SIGTERM): probing stops, the replies in flight are awaited, every
  // destination not done is written with what it has, stop reason "halted".
  const std::atomic<bool>* stop = nullptr;
};

// Throws std::invalid_argument for options no survey can run with.
void check_survey_options(const TargetList& targets, const SurveyOptions& o);

struct SurveySummary {
  std::uint64_t targets = 0;
  std::uint64_t skipped_targets = 0;  // addresses of the target blocks the blocklist left out
  std::uint64_t halted = 0;           // destinations written unfinished, after `stop` was set
  std::uint64_t lost_traces = 0;      // destinations traced while the ring buffer lost replies
  std::uint64_t pairs = 0;            // (target, TTL) pairs in the space
  std::uint64_t probes_sent = 0;      // pre-probes included
  std::uint64_t preprobes = 0;
  std::uint64_t hinted = 0;       // destinations whose distance a pre-probe gave
  std::uint64_t skipped = 0;      // pairs beyond a destination already reached
  std::uint64_t replies = 0;      // decoded replies
  std::uint64_t unmatched = 0;    // validated but not decodable as a survey reply
  std::uint64_t reached = 0;      // destinations that answered
  std::uint64_t dropped = 0;      // lost inside hopscope (ring buffer full)
  std::uint64_t retried = 0;      // probes of retry rounds (TTLs that had no answer)
  std::uint64_t late = 0;         // replies after their destination's trace was written
  std::uint64_t duplicates = 0;   // refused: a TTL (or pre-probe) answered again
  std::uint64_t stale = 0;        // refused: older than the wait (a replay)
  std::uint64_t short_mac = 0;    // stored on the 16-bit value alone (28-byte IPv4 quotes)
  std::uint64_t interfaces = 0;   // distinct addresses that answered
  std::uint64_t written = 0;      // trace objects written
  std::uint64_t streamed = 0;     // of which finished (handed to the writer) while probes were still to be sent
  double first_write_s = 0;       // when the first was written
  double write_delay_s = 0;       // the longest from a destination finishing to its trace written out
  std::uint64_t late_writes = 0;  // traces written more than 1 s after their destination finished
  bool writer_priority = true;    // the writer thread runs above the probing threads (TraceWriter)
  std::size_t state_bytes = 0;    // scheduling state per destination
  int retry_rounds = 0;
  bool doubletree = false;
  double probing_s = 0;         // first to last probe
  double paused_s = 0;          // of which waiting for replies between phases (rate_pps excludes it)
  int passes = 1;               // passes of TTL bands (forward probing with a gap limit), most of any cohort
  int cohorts = 1;              // cohorts the destinations were probed in
  std::size_t cohort_size = 0;  // destinations per cohort (the last may have fewer)
  std::uint64_t held_peak = 0;  // most replies held at once for destinations not finished
  double duration_s = 0;        // whole survey, the final wait included
  std::string tx_mode;
  std::string ifname;
  unsigned threads = 1;
  std::uint64_t generator_runs = 0;    // BPF_PROG_RUN calls of the kernel generator (xdp-live)
  std::string tx_warning;              // xdp-live: why its runs are slow, or empty
  std::uint64_t queue_full_waits = 0;  // the pacing thread found a sender's queue full (backpressure, no loss)
  MatcherCounters matcher{};
  double rate = 0;                        // the configured probing rate (-r)
  std::uint64_t backpressure_pauses = 0;  // times the pacing thread stopped: the reply ring was over half full
  double backpressure_s = 0;              // how long it stopped in all
  bool pcap = false;
  std::uint64_t pcap_frames = 0;        // probes and replies written to the pcap
  std::uint64_t pcap_out_of_order = 0;  // of them written after a later frame
};

class SurveyEngine {
 public:
  // `probes` describes the probes as the outputs need it (src, tx_mode,
  // ports, checksum base, TOS); the engine fills in the rest of the meta
  // from the options. Throws std::invalid_argument on bad options.
  SurveyEngine(const TargetList& targets, const SurveyOptions& o, const SurveyMeta& probes, ProbeSink& sink,
               ReplySource& source, Clock& clock, std::ostream& out);
  SurveyEngine(const SurveyEngine&) = delete;
  SurveyEngine& operator=(const SurveyEngine&) = delete;

  // Runs the whole survey (once); writes one trace per target to `out`, each
  // as soon as nothing more will be sent to its destination. Throws
  // std::logic_error if the summary's invariant does not hold.
  SurveySummary run();

  // Probes the pacing thread pushes at once at `rate`.
  static std::size_t probes_per_push(double rate);

 private:
  template <class Next>
  bool push_paced(Next&& next);
  void probe_cohorts(class ReplyPump& pump);
  void advance_settled(class ReplyPump& pump);
  void halt(class ReplyPump& pump);
  [[nodiscard]] bool settled(Cohort& c, const class ReplyPump& pump, std::uint64_t now);
  [[nodiscard]] bool hints_in(Cohort& c, std::uint64_t now);
  [[nodiscard]] std::uint64_t settle_cap_ns() const;
  void draw_progress(std::uint64_t now);
  void hold_while_congested();
  void fill_summary(std::uint64_t t_end);
  // The source's ring-buffer losses so far (a few syscalls: per cohort event, not per probe).
  [[nodiscard]] std::uint64_t ring_lost_now() const;
  // Hands finished destinations to the writer, each with the losses since its cohort began.
  void post(class ReplyPump& pump, std::vector<FinishedTarget> finished, std::uint64_t lost_at_start,
            bool per_target = false);

  const TargetList& targets_;
  SurveyOptions o_;
  ProbeSink& sink_;
  ReplySource& source_;
  Clock& clock_;
  TargetState state_;
  Collector collector_;
  Cohorts cohorts_;
  TraceWriter writer_;
  TokenBucket bucket_;
  std::size_t per_push_;
  SurveySummary s_;
  std::uint64_t done_ = 0;  // destinations handed to the writer
  int cohorts_seen_ = 0;    // cohorts whose admission was noted (lost_at_start)
  std::uint64_t t0_ = 0;
  std::uint64_t next_progress_ = 0;
  bool ran_ = false;
};

}  // namespace hopscope::survey
