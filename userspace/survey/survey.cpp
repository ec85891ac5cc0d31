#include "hopscope/survey/survey.hpp"

#include <optional>
#include <span>
#include <string>

#include "hopscope/core/clock.hpp"
#include "hopscope/io/pcap_writer.hpp"
#include "hopscope/io/xdp_transport.hpp"
#include "hopscope/survey/engine.hpp"
#include "hopscope/survey/tx_pool.hpp"
#include "hopscope/sys/privileges.hpp"

namespace hopscope::survey {
namespace {

// The XDP reply matcher's ring buffer as the engine's reply source; with a
// pcap, the copies of the replies' frames are written in batches after each
// poll (on the receiving thread, the only one that polls).
class MatcherReplySource final : public ReplySource {
 public:
  MatcherReplySource(ReplyMatcher& m, PcapWriter* pcap) : m_(m) {
    if (!pcap) return;
    cap_.emplace(*pcap);
    const std::int64_t offset = unix_minus_mono_ns();
    m_.set_capture_handler([this, offset](std::uint64_t rx_ns, std::span<const std::uint8_t> frame, std::uint32_t len) {
      cap_->add(offset + static_cast<std::int64_t>(rx_ns), frame, len);
    });
  }
  ~MatcherReplySource() override {
    if (cap_) m_.set_capture_handler(nullptr);
  }
  MatcherReplySource(const MatcherReplySource&) = delete;
  MatcherReplySource& operator=(const MatcherReplySource&) = delete;

  int poll(int timeout_ms, const ReplyHandler& on_reply) override {
    const int n = m_.poll(timeout_ms, on_reply);
    if (cap_) cap_->flush();
    return n;
  }
  [[nodiscard]] MatcherCounters counters() const override { return m_.counters(); }
  [[nodiscard]] double fill() const override { return m_.ring_fill(); }

 private:
  ReplyMatcher& m_;
  std::optional<PcapBatch> cap_;
};

XdpTransportConfig transport_config(const TargetList& targets, const SurveyOptions& o, const ProbeCodec& codec) {
  XdpTransportConfig tc;
  tc.dst = targets.at(0);
  tc.method = o.method;
  tc.ifname = o.ifname;
  tc.ip_len = codec.ip_len(o.max_ttl);  // the largest probe must fit the MTU
  tc.nflows = 2;                        // flow 0: trace probes, flow 1: pre-probes
  tc.tx_queues = o.tx == TxBackend::AfXdp ? o.threads : 0;
  // 32 MiB: ~380k records (88 bytes each with the header), 0.4 s of replies at
  // 0.9 Mpps and 3.8 s at the default rate; sending pauses when it is half
  // full (engine.cpp). 64 MiB cost 64 MB more max RSS (the kernel maps the data
  // pages twice); no 1M or 131k bench run with 32 MiB was ever slowed (never
  // half full).
  tc.ring_bytes = 32u << 20;
  if (o.pcap) tc.capture_bytes = HS_CAPTURE_MAX;
  return tc;
}

TxPoolConfig tx_config(XdpTransport& t, const SurveyOptions& o) {
  TxPoolConfig c;
  c.backend = o.tx;
  c.threads = o.threads;
  for (unsigned q = 0; q < t.tx_queues(); q++) c.sockets.push_back(&t.sender(q));
  c.probe = t.probe_template();
  c.ifindex = t.route().ifindex;
  c.pcap = o.pcap;
  return c;
}

// How the probes look, for the outputs.
SurveyMeta probe_meta(const XdpTransport& t, const std::string& tx_mode) {
  SurveyMeta m;
  const ProbeTemplate& pt = t.probe_template();
  m.src = t.route().src;
  m.tx_mode = tx_mode;
  m.sport = pt.udp_sport_base;
  m.dport = pt.udp_dport;
  m.icmp_sum = pt.icmp_csum_base;
  m.tos = pt.tos;
  return m;
}

}  // namespace

SurveySummary run_survey(const TargetList& targets, const SurveyOptions& o, std::ostream& out) {
  check_survey_options(targets, o);
  const ProbeCodec codec(targets.family(), o.method);
  XdpTransport transport(transport_config(targets, o, codec));
  const std::string tx_mode =
      o.tx == TxBackend::XdpLive ? std::string("xdp-live") : std::string("af_xdp-") + transport.tx_mode();
  TxPool pool(tx_config(transport, o), targets, codec);
  MatcherReplySource replies(transport.matcher(), o.pcap);
  SurveyEngine engine(targets, o, probe_meta(transport, tx_mode), pool, replies, system_clock(), out);
  // Everything is loaded and attached: from here on no thread has a
  // capability, and the syscall filter is on.
  enter_steady_state();
  SurveySummary s = engine.run();
  s.tx_mode = tx_mode;
  s.tx_warning = pool.tx_warning();
  s.ifname = transport.route().ifname;
  if (o.pcap) {
    o.pcap->flush();
    s.pcap = true;
    s.pcap_frames = o.pcap->frames();
    s.pcap_out_of_order = o.pcap->out_of_order();
  }
  return s;
}

}  // namespace hopscope::survey
