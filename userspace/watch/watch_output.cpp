#include "hopscope/watch/watch_output.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <ctime>

#include "hopscope/core/clock.hpp"
#include "hopscope/output/report_output.hpp"
#include "hopscope/output/trace_output.hpp"
#include "hopscope/trace/hop_stats.hpp"

namespace hopscope::watch {
namespace {

std::int64_t to_unix_ms(std::uint64_t mono_ns, std::int64_t offset_ns) {
  return (static_cast<std::int64_t>(mono_ns) + offset_ns) / 1'000'000;
}

std::string human_rate(double bytes_per_s) {
  if (bytes_per_s >= 1e9) return fmt::format("{:.1f}GB", bytes_per_s / 1e9);
  if (bytes_per_s >= 1e6) return fmt::format("{:.1f}MB", bytes_per_s / 1e6);
  if (bytes_per_s >= 1e3) return fmt::format("{:.1f}kB", bytes_per_s / 1e3);
  return fmt::format("{:.0f}B", bytes_per_s);
}

std::string addr_list(const std::vector<IpAddress>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); i++) out += (i ? ",\"" : "\"") + v[i].str() + "\"";
  return out + "]";
}

std::string addr_text(const std::vector<IpAddress>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); i++) out += (i ? ", " : "") + v[i].str();
  return out;
}

}  // namespace

const char* tcp_state_name(std::uint8_t state) {
  static const char* const names[] = {"",          "established", "syn_sent",     "syn_recv",      "fin_wait1",
                                      "fin_wait2", "time_wait",   "close",        "close_wait",    "last_ack",
                                      "listen",    "closing",     "new_syn_recv", "bound_inactive"};
  return state < std::size(names) ? names[state] : "?";
}

std::string flow_json(const Flow& f, std::int64_t offset_ns) {
  char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
  const hs_flow_stats& s = f.stats;
  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 R"({{"type":"flow","ts_ms":{},"src":"{}","sport":{},"dst":"{}","dport":{},"proto":"{}",)"
                 R"("bytes_out":{},"bytes_in":{},"packets_out":{},"packets_in":{},)",
                 to_unix_ms(s.last_ns, offset_ns), f.local().to_chars(a), f.key.local_port, f.remote().to_chars(b),
                 f.key.remote_port, proto_name(f.key.proto), s.bytes_out, s.bytes_in, s.pkts_out, s.pkts_in);
  if ((s.flags & HS_FLOW_F_TCP_RTT) && s.srtt_us)
    fmt::format_to(it, R"("srtt_us":{},)", s.srtt_us);
  else
    out += R"("srtt_us":null,)";
  if (f.key.proto == 6) fmt::format_to(it, R"("retrans":{},"state":"{}",)", s.retrans, tcp_state_name(s.state));
  fmt::format_to(it, R"("closed":{},"first_ms":{},"last_ms":{},"cgroup_id":{}}})",
                 (s.flags & HS_FLOW_F_CLOSED) ? "true" : "false", to_unix_ms(s.first_ns, offset_ns),
                 to_unix_ms(s.last_ns, offset_ns), s.cgroup_id);
  return out;
}

std::string path_json(const DestKey& d, const TraceResult& r, const DestTotals& k) {
  std::string trace = trace_json(r);
  static constexpr std::string_view kHead = R"({"type":"trace",)";
  if (trace.compare(0, kHead.size(), kHead) != 0) throw std::logic_error("trace_json changed its first field");
  std::string out = fmt::format(
      R"({{"type":"path","dport":{},"proto":"{}","kernel":{{"srtt_us":{},"retrans":{},"retrans_rate":{:.4f},)"
      R"("connections":{},"bytes_out":{},"bytes_in":{},"packets_out":{},"packets_in":{},"window_s":{:.1f}}},)",
      d.port, proto_name(d.proto), k.srtt_us ? std::to_string(k.srtt_us) : "null", k.retrans, k.retrans_rate(),
      k.connections, k.bytes_out, k.bytes_in, k.pkts_out, k.pkts_in, k.span_s);
  out.append(trace, kHead.size());
  return out;
}

std::string path_change_json(const DestKey& d, const PathChange& c, std::int64_t ts_ms) {
  std::string out = fmt::format(
      R"({{"type":"path_change","ts_ms":{},"dst":"{}","dport":{},"proto":"{}","length_before":{},"length_after":{},"hops":[)",
      ts_ms, d.addr.str(), d.port, proto_name(d.proto), c.length_before, c.length_after);
  for (std::size_t i = 0; i < c.hops.size(); i++)
    out += fmt::format(R"({}{{"ttl":{},"before":{},"after":{}}})", i ? "," : "", c.hops[i].ttl,
                       addr_list(c.hops[i].before), addr_list(c.hops[i].after));
  return out + "]}";
}

std::string path_change_text(const DestKey& d, const PathChange& c) {
  std::string out = "path change to " + dest_label(d) + ":";
  for (const HopChange& h : c.hops)
    out += fmt::format(" hop {} {} -> {};", h.ttl, addr_text(h.before), addr_text(h.after));
  if (c.length_before != c.length_after && c.length_before && c.length_after)
    out += fmt::format(" length {} -> {};", c.length_before, c.length_after);
  out.pop_back();
  return out;
}

int worst_hop_index(const TraceResult& r) {
  int worst = -1;
  HopStats w;
  for (std::size_t i = 0; i < r.hops.size(); i++) {
    const HopStats h = hop_stats(r.hops[i]);
    if (!h.rtt.received) continue;
    if (worst < 0 || h.loss_pct > w.loss_pct || (h.loss_pct == w.loss_pct && h.rtt.avg_ms > w.rtt.avg_ms)) {
      worst = static_cast<int>(i);
      w = h;
    }
  }
  return worst;
}

std::string watch_table_text(const std::vector<DestRow>& rows, std::uint64_t now_ns) {
  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{:<34} {:>5} {:>8} {:>8} {:>9} {:>6} {:>9} {:>4} {:>6}  {:<32} {:>7}\n", "DESTINATION", "FLOWS",
                 "OUT/s", "IN/s", "SRTT", "RETR%", "PATH RTT", "HOPS", "LOSS%", "WORST HOP (ttl addr loss avg)",
                 "TRACED");
  if (rows.empty()) out += "  (no application traffic to trace yet)\n";
  for (const DestRow& row : rows) {
    const DestTotals& t = row.traffic;
    const std::string srtt = t.srtt_us ? fmt::format("{:.2f}ms", t.srtt_us / 1000.0) : "-";
    const std::string retr = t.key.proto == 6 ? fmt::format("{:.1f}", 100 * t.retrans_rate()) : "-";
    std::string path_rtt = "-", hops = "-", loss = "-", worst = "(not traced yet)", traced = "-";
    if (row.last) {
      const PathStats p = path_stats(*row.last);
      path_rtt = p.length ? fmt::format("{:.2f}ms", p.rtt_avg_ms) : "-";
      hops = fmt::format("{}{}", p.length, p.reached ? "" : "?");
      loss = fmt::format("{:.1f}", p.loss_pct);
      const int w = worst_hop_index(*row.last);
      if (w >= 0) {
        const HopStats h = hop_stats(row.last->hops[static_cast<std::size_t>(w)]);
        worst = fmt::format("{} {} {:.0f}% {:.2f}ms", h.ttl, h.addresses[0].addr.str(), h.loss_pct, h.rtt.avg_ms);
      } else {
        worst = "(no answer)";
      }
      traced = fmt::format("{}s ago", now_ns > row.traced_at_ns ? (now_ns - row.traced_at_ns) / 1'000'000'000 : 0);
    }
    fmt::format_to(it, "{:<34} {:>5} {:>8} {:>8} {:>9} {:>6} {:>9} {:>4} {:>6}  {:<32} {:>7}\n", dest_label(t.key),
                   t.connections, human_rate(t.bytes_per_s(true)), human_rate(t.bytes_per_s(false)), srtt, retr,
                   path_rtt, hops, loss, worst, traced);
  }
  return out;
}

namespace {

std::string clock_text() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
  return buf;
}

std::int64_t unix_ms_now() { return (static_cast<std::int64_t>(mono_ns()) + unix_minus_mono_ns()) / 1'000'000; }

}  // namespace

StreamSink::StreamSink(std::FILE* out, Format format, bool live, std::string title)
    : out_(out),
      format_(format),
      live_(live && format == Format::Text),
      title_(std::move(title)),
      offset_ns_(unix_minus_mono_ns()) {}

void StreamSink::note(std::string line) {
  line = clock_text() + " " + line;
  if (!live_) {
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
    return;
  }
  notes_.push_back(std::move(line));
  if (notes_.size() > 8) notes_.erase(notes_.begin());
}

void StreamSink::on_flows(const std::vector<Flow>& flows) {
  if (format_ == Format::Json) {
    for (const Flow& f : flows) std::fprintf(out_, "%s\n", flow_json(f, offset_ns_).c_str());
    std::fflush(out_);
  } else if (!live_) {
    std::fprintf(out_, "%s destinations\n%s", clock_text().c_str(), watch_table_text(rows_, mono_ns()).c_str());
    std::fflush(out_);
  }
}

void StreamSink::on_path(const DestKey& d, const TraceResult& r, const DestTotals& k) {
  if (format_ == Format::Json) {
    std::fprintf(out_, "%s\n", path_json(d, r, k).c_str());
    std::fflush(out_);
    return;
  }
  const PathStats p = path_stats(r);
  std::string line = fmt::format("path to {}: {} hops{}, RTT {:.3f} ms, loss {:.1f}%", dest_label(d), p.length,
                                 p.reached ? "" : " (destination not reached)", p.rtt_avg_ms, p.loss_pct);
  if (k.srtt_us) line += fmt::format("; kernel srtt {:.3f} ms", k.srtt_us / 1000.0);
  if (d.proto == 6) line += fmt::format(", retransmitted {:.2f}%", 100 * k.retrans_rate());
  if (live_) {
    note(std::move(line));
    return;
  }
  note(std::move(line));
  std::fputs(report_text(r).c_str(), out_);
  std::fflush(out_);
}

void StreamSink::on_path_change(const DestKey& d, const PathChange& c, const TraceResult&) {
  if (format_ == Format::Json) {
    std::fprintf(out_, "%s\n", path_change_json(d, c, unix_ms_now()).c_str());
    std::fflush(out_);
    return;
  }
  note(path_change_text(d, c));
}

void StreamSink::on_tick(const std::vector<DestRow>& rows) {
  rows_ = rows;
  if (!live_) return;
  std::string screen = "\x1b[H\x1b[2J" + title_ + "  " + clock_text() + "\n\n" + watch_table_text(rows, mono_ns());
  if (!notes_.empty()) screen += "\n";
  for (const std::string& n : notes_) screen += n + "\n";
  std::fputs(screen.c_str(), out_);
  std::fflush(out_);
}

void StreamSink::on_slip(const DestKey& d, double late_s, double interval_s) {
  if (format_ == Format::Json) {
    char a[INET6_ADDRSTRLEN];
    std::fprintf(out_,
                 R"({"type":"slip","ts_ms":%lld,"dst":"%s","proto":"%s","dport":%u,"late_s":%.3f,"interval_s":%.3f})"
                 "\n",
                 static_cast<long long>(to_unix_ms(mono_ns(), offset_ns_)), d.addr.to_chars(a), proto_name(d.proto),
                 d.port, late_s, interval_s);
    std::fflush(out_);
  } else {
    note(fmt::format("{} {}: trace started {:.1f}s late (interval {:.1f}s: too many destinations for it?)",
                     clock_text(), dest_label(d), late_s, interval_s));
  }
}

void StreamSink::on_trace_error(const DestKey& d, const std::string& what) {
  std::fprintf(stderr, "hopscope: watch: tracing %s failed: %s\n", dest_label(d).c_str(), what.c_str());
}

}  // namespace hopscope::watch
