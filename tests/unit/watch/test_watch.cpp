// hopscope watch without the kernel: the ranking window over scripted flow
// table reads, destination selection and filters, path changes, the engine
// with a fake flow source and tracer, and the NDJSON objects.
#include <gtest/gtest.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "hopscope/core/clock.hpp"
#include "hopscope/output/trace_output.hpp"
#include "hopscope/watch/destinations.hpp"
#include "hopscope/watch/flow_series.hpp"
#include "hopscope/watch/path_change.hpp"
#include "hopscope/watch/watch_engine.hpp"
#include "hopscope/watch/watch_output.hpp"
#include "hopscope/watch/watch_tracer.hpp"

using namespace hopscope;
using namespace hopscope::watch;
using nlohmann::json;

namespace {

IpAddress A(const char* s) { return *IpAddress::parse(s); }
constexpr std::uint64_t kSec = 1'000'000'000ull;

Flow flow(const char* remote, std::uint16_t lport, std::uint16_t rport, std::uint8_t proto, std::uint64_t out,
          std::uint64_t in, std::uint64_t netns = 7) {
  Flow f;
  const IpAddress r = A(remote);
  const IpAddress l = r.is_v4() ? A("198.18.1.1") : A("2001:2:0:1::1");
  std::memcpy(f.key.remote, r.data(), r.size());
  std::memcpy(f.key.local, l.data(), l.size());
  f.key.family = static_cast<std::uint8_t>(r.family());
  f.key.proto = proto;
  f.key.local_port = lport;
  f.key.remote_port = rport;
  f.key.netns = netns;
  f.stats.first_ns = 1;
  f.stats.bytes_out = out;
  f.stats.bytes_in = in;
  f.stats.pkts_out = out / 100;
  f.stats.pkts_in = in / 100;
  return f;
}

const DestTotals* find(const std::vector<DestTotals>& v, const char* addr, std::uint16_t port) {
  for (const DestTotals& d : v)
    if (d.key.addr == A(addr) && d.key.port == port) return &d;
  return nullptr;
}

}  // namespace

TEST(DestWindow, SumsGrowthPerDestinationAndForgetsWhatLeavesTheWindow) {
  DestWindow w(std::chrono::seconds(3), 7);
  // Two connections to one destination, one to another, one in another namespace.
  w.update(1 * kSec, {flow("198.18.8.2", 40000, 80, 6, 1000, 500), flow("198.18.8.2", 40001, 80, 6, 200, 100),
                      flow("198.18.9.2", 40002, 53, 17, 300, 0), flow("198.18.8.2", 40003, 80, 6, 9999, 0, 8)});
  auto t = w.totals();
  ASSERT_EQ(t.size(), 2u) << "the other namespace's flow is not ours";
  const DestTotals* web = find(t, "198.18.8.2", 80);
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->bytes_out, 1200u);
  EXPECT_EQ(web->bytes_in, 600u);
  EXPECT_EQ(web->pkts_out, 12u);
  EXPECT_EQ(web->connections, 2);
  // Growth only: the first connection sent 4000 more, the second nothing.
  w.update(2 * kSec, {flow("198.18.8.2", 40000, 80, 6, 5000, 500), flow("198.18.8.2", 40001, 80, 6, 200, 100)});
  t = w.totals();
  web = find(t, "198.18.8.2", 80);
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->bytes_out, 5200u);
  EXPECT_DOUBLE_EQ(web->span_s, 1.0);
  EXPECT_DOUBLE_EQ(web->bytes_per_s(true), 5200.0);
  // 3 s later the first two reads are out of the window; nothing moved since.
  w.update(5 * kSec, {flow("198.18.8.2", 40000, 80, 6, 5000, 500)});
  EXPECT_TRUE(w.totals().empty());
  w.update(6 * kSec, {flow("198.18.8.2", 40000, 80, 6, 5100, 500)});
  t = w.totals();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].bytes_out, 100u);
  EXPECT_EQ(t[0].connections, 1);
  EXPECT_DOUBLE_EQ(t[0].span_s, 3.0) << "the window is full";
}

TEST(DestWindow, ANewFlowOnAReusedTupleCountsFromZeroAndSrttIsTheLatest) {
  DestWindow w(std::chrono::seconds(60), 0);
  Flow a = flow("198.18.8.2", 40000, 80, 6, 5000, 0);
  a.stats.flags = HS_FLOW_F_TCP_RTT;
  a.stats.srtt_us = 300;
  a.stats.last_ns = 10;
  Flow b = flow("198.18.8.2", 40001, 80, 6, 100, 0);
  b.stats.flags = HS_FLOW_F_TCP_RTT;
  b.stats.srtt_us = 900;
  b.stats.last_ns = 20;  // more recent
  b.stats.retrans = 2;
  w.update(kSec, {a, b});
  auto t = w.totals();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].srtt_us, 900u) << "the most recently active flow's srtt";
  EXPECT_EQ(t[0].retrans, 2u);
  EXPECT_DOUBLE_EQ(t[0].retrans_rate(), 2.0 / 51);
  // The LRU evicted `a` and the same 5-tuple came back as a new connection.
  Flow a2 = flow("198.18.8.2", 40000, 80, 6, 300, 0);
  a2.stats.first_ns = 99;
  w.update(2 * kSec, {a2, b});
  t = w.totals();
  EXPECT_EQ(t[0].bytes_out, 5000u + 100 + 300) << "the new incarnation counts from zero, not 300 - 5000";
}

TEST(DestSelection, FiltersRankAndTop) {
  auto d = [](const char* a, std::uint8_t proto, std::uint16_t port, std::uint64_t bytes, std::uint64_t pkts,
              int conns) {
    DestTotals t;
    t.key = {A(a), proto, port};
    t.bytes_out = bytes;
    t.pkts_out = pkts;
    t.connections = conns;
    return t;
  };
  const std::vector<DestTotals> all = {d("198.18.8.2", 6, 443, 5000, 10, 1),   d("198.18.9.2", 17, 53, 200, 90, 3),
                                       d("198.18.10.2", 6, 80, 900, 20, 9),    d("127.0.0.1", 6, 80, 1 << 30, 1, 1),
                                       d("198.18.1.1", 6, 22, 1 << 30, 1, 1),  // our own address
                                       d("2001:2:0:8::2", 6, 443, 4000, 5, 1), d("fe80::1", 17, 546, 1 << 30, 1, 1)};
  DestFilter f;
  f.local = {A("198.18.1.1")};
  auto keys = [](const std::vector<DestTotals>& v) {
    std::vector<std::string> out;
    for (const auto& x : v) out.push_back(dest_label(x.key));
    return out;
  };
  EXPECT_EQ(keys(select_destinations(all, f)), (std::vector<std::string>{"198.18.8.2 tcp/443", "2001:2:0:8::2 tcp/443",
                                                                         "198.18.10.2 tcp/80", "198.18.9.2 udp/53"}))
      << "loopback, link-local and our own address are never traced";
  f.rank = Rank::Packets;
  EXPECT_EQ(keys(select_destinations(all, f))[0], "198.18.9.2 udp/53");
  f.rank = Rank::Connections;
  EXPECT_EQ(keys(select_destinations(all, f))[0], "198.18.10.2 tcp/80");
  f.rank = Rank::Bytes;
  f.top = 2;
  EXPECT_EQ(select_destinations(all, f).size(), 2u);
  f.top = 10;
  f.proto = 17;
  EXPECT_EQ(keys(select_destinations(all, f)), std::vector<std::string>{"198.18.9.2 udp/53"});
  f.proto = 0;
  f.ports = {80, 53};
  EXPECT_EQ(select_destinations(all, f).size(), 2u);
  f.ports.clear();
  f.min_bytes = 1000;
  EXPECT_EQ(keys(select_destinations(all, f)),
            (std::vector<std::string>{"198.18.8.2 tcp/443", "2001:2:0:8::2 tcp/443"}))
      << "900 and 200 bytes are below --min-bytes";
  f.min_bytes = 0;
  f.allow = parse_prefix_list("198.18.8.0/24, 2001:2::/48");
  EXPECT_EQ(keys(select_destinations(all, f)),
            (std::vector<std::string>{"198.18.8.2 tcp/443", "2001:2:0:8::2 tcp/443"}));
  f.deny = parse_prefix_list("198.18.8.2");
  EXPECT_EQ(keys(select_destinations(all, f)), std::vector<std::string>{"2001:2:0:8::2 tcp/443"}) << "deny wins";
  // The default blocklist (--this-netns): the lab's benchmarking ranges are blocked, an
  // allowlist permits them again.
  f.allow.clear();
  f.deny.clear();
  auto b = std::make_shared<Blocklist>();
  f.blocklist = b;
  EXPECT_TRUE(select_destinations(all, f).empty()) << "198.18.0.0/15 and 2001:2::/48 are benchmarking ranges";
  b->allow({parse_prefix("198.18.8.0/24")});
  EXPECT_EQ(keys(select_destinations(all, f)), std::vector<std::string>{"198.18.8.2 tcp/443"});
}

TEST(DestSelection, PrefixListsFromTextAndFiles) {
  const auto v = parse_prefix_list("198.18.0.0/15,2001:2::/48");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(v[0].contains(A("198.19.255.1")));
  EXPECT_FALSE(v[0].contains(A("198.20.0.1")));
  EXPECT_FALSE(v[0].contains(A("2001:2::1"))) << "another family";
  EXPECT_TRUE(v[1].contains(A("2001:2:0:ffff::1")));
  EXPECT_THROW(parse_prefix_list("198.18.0.1/15"), std::invalid_argument) << "host bits set";
  EXPECT_THROW(parse_prefix_list("example.org"), std::invalid_argument);
  const std::string path = ::testing::TempDir() + "hopscope-deny.txt";
  std::ofstream(path) << "# the lab's far side\n198.18.8.0/24\n\n2001:2:0:8::/64  # v6 too\n";
  const auto f = parse_prefix_list("@" + path);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].len, 64);
  std::ofstream(path) << "198.18.8.0/24\nbogus\n";
  try {
    parse_prefix_list("@" + path);
    ADD_FAILURE() << "a bad line is refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(" line 2: "), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_prefix_list("@/nonexistent/list"), std::invalid_argument);
  // Bounded: an endless line is refused at once (was read whole, without end).
  EXPECT_THROW(parse_prefix_list("@/dev/zero"), std::invalid_argument);
}

namespace {

TraceResult path(std::vector<std::vector<const char*>> hops, const char* dst = "198.18.8.2") {
  TraceResult r;
  r.dst = A(dst);
  int ttl = 1;
  for (const auto& addrs : hops) {
    Hop h;
    h.ttl = ttl++;
    h.probes_sent = 6;
    for (const char* a : addrs) {
      HopReply x;
      x.addr = A(a);
      x.rtt_ms = 0.5 * h.ttl;
      h.replies.push_back(x);
    }
    r.hops.push_back(h);
  }
  return r;
}

}  // namespace

TEST(PathChange, AHopsAddressSetNotLoss) {
  const TraceResult a = path({{"198.18.1.2"}, {"198.18.3.2"}, {}, {"198.18.8.2"}});
  EXPECT_FALSE(path_change(a, a));
  EXPECT_FALSE(path_change(a, path({{"198.18.1.2"}, {}, {}, {"198.18.8.2"}}))) << "a hop silent this time: loss";
  const auto c = path_change(a, path({{"198.18.1.2"}, {"198.18.4.2"}, {}, {"198.18.8.2"}}));
  ASSERT_TRUE(c);
  ASSERT_EQ(c->hops.size(), 1u);
  EXPECT_EQ(c->hops[0].ttl, 2);
  EXPECT_EQ(c->hops[0].before, std::vector<IpAddress>{A("198.18.3.2")});
  EXPECT_EQ(c->hops[0].after, std::vector<IpAddress>{A("198.18.4.2")});
  EXPECT_EQ(c->length_before, 4);
  // A second branch appearing is a change too; the destination moving closer as well.
  EXPECT_TRUE(path_change(a, path({{"198.18.1.2"}, {"198.18.3.2", "198.18.4.2"}, {}, {"198.18.8.2"}})));
  const auto shorter = path_change(a, path({{"198.18.1.2"}, {"198.18.8.2"}}));
  ASSERT_TRUE(shorter);
  EXPECT_EQ(shorter->length_after, 2);
  EXPECT_EQ(path_change_text({A("198.18.8.2"), 6, 80}, *c),
            "path change to 198.18.8.2 tcp/80: hop 2 198.18.3.2 -> 198.18.4.2");
  const json j = json::parse(path_change_json({A("198.18.8.2"), 6, 80}, *c, 1234));
  EXPECT_EQ(j["type"], "path_change");
  EXPECT_EQ(j["dst"], "198.18.8.2");
  EXPECT_EQ(j["dport"], 80);
  EXPECT_EQ(j["proto"], "tcp");
  EXPECT_EQ(j["hops"][0]["before"][0], "198.18.3.2");
  EXPECT_EQ(j["hops"][0]["after"][0], "198.18.4.2");
}

TEST(WatchOutput, FlowAndPathObjects) {
  Flow f = flow("198.18.8.2", 40000, 80, 6, 1500, 700);
  f.stats.flags = HS_FLOW_F_TCP_RTT | HS_FLOW_F_CLOSED;
  f.stats.srtt_us = 412;
  f.stats.retrans = 3;
  f.stats.state = 7;
  f.stats.first_ns = 2 * kSec;
  f.stats.last_ns = 5 * kSec;
  const json j = json::parse(flow_json(f, 1'000'000'000'000'000ll));
  EXPECT_EQ(j["type"], "flow");
  EXPECT_EQ(j["src"], "198.18.1.1");
  EXPECT_EQ(j["sport"], 40000);
  EXPECT_EQ(j["dst"], "198.18.8.2");
  EXPECT_EQ(j["dport"], 80);
  EXPECT_EQ(j["proto"], "tcp");
  EXPECT_EQ(j["bytes_out"], 1500);
  EXPECT_EQ(j["bytes_in"], 700);
  EXPECT_EQ(j["srtt_us"], 412);
  EXPECT_EQ(j["retrans"], 3);
  EXPECT_EQ(j["state"], "close");
  EXPECT_EQ(j["closed"], true);
  EXPECT_EQ(j["first_ms"], 1'000'000'000ll + 2000) << "(1e15 ns + 2 s) in ms";
  const json u = json::parse(flow_json(flow("198.18.9.2", 40001, 53, 17, 300, 0), 0));
  EXPECT_TRUE(u["srtt_us"].is_null()) << "no kernel RTT for UDP";
  EXPECT_FALSE(u.contains("retrans"));

  TraceResult r = path({{"198.18.1.2"}, {"198.18.8.2"}});
  r.with_stats = true;
  DestTotals k;
  k.srtt_us = 250;
  k.pkts_out = 100;
  k.retrans = 1;
  const json p = json::parse(path_json({A("198.18.8.2"), 6, 80}, r, k));
  EXPECT_EQ(p["type"], "path");
  EXPECT_EQ(p["dst"], "198.18.8.2");
  EXPECT_EQ(p["dport"], 80);
  EXPECT_EQ(p["kernel"]["srtt_us"], 250);
  EXPECT_DOUBLE_EQ(p["kernel"]["retrans_rate"].get<double>(), 0.01);
  ASSERT_EQ(p["hops"].size(), 2u) << "hops in the trace schema";
  EXPECT_EQ(p["hops"][1]["replies"][0]["addr"], "198.18.8.2");
  EXPECT_TRUE(p["hops"][0].contains("stats"));
  EXPECT_EQ(p["path"]["length"], 2);
}

TEST(WatchOutput, WorstHopIsTheLossiestThenTheSlowest) {
  TraceResult r = path({{"198.18.1.2"}, {"198.18.2.2"}, {}, {"198.18.8.2"}});
  EXPECT_EQ(worst_hop_index(r), 3) << "no loss anywhere it answered: the slowest";
  r.hops[1].probes_sent = 12;  // half its probes unanswered
  EXPECT_EQ(worst_hop_index(r), 1);
  const std::string table = watch_table_text({}, 0);
  EXPECT_NE(table.find("no application traffic"), std::string::npos);
}

namespace {

// Records what the engine reports.
struct Recorder final : WatchSink {
  std::mutex mu;
  std::vector<std::vector<Flow>> flow_reports;
  std::vector<std::pair<DestKey, TraceResult>> paths;
  std::vector<PathChange> changes;
  std::vector<std::string> errors;
  int ticks = 0;
  std::vector<DestRow> last_rows;
  void on_flows(const std::vector<Flow>& f) override { flow_reports.push_back(f); }
  void on_path(const DestKey& d, const TraceResult& r, const DestTotals&) override { paths.emplace_back(d, r); }
  void on_path_change(const DestKey&, const PathChange& c, const TraceResult&) override { changes.push_back(c); }
  void on_tick(const std::vector<DestRow>& rows) override {
    ticks++;
    last_rows = rows;
  }
  void on_trace_error(const DestKey& d, const std::string& w) override { errors.push_back(dest_label(d) + ": " + w); }
  std::vector<std::pair<double, double>> slips;  // (late_s, interval_s)
  void on_slip(const DestKey&, double late_s, double interval_s) override { slips.emplace_back(late_s, interval_s); }
};

}  // namespace

TEST(WatchEngine, TracesTheBusiestDestinationsEachIntervalAndReportsChanges) {
  WatchConfig cfg;
  cfg.tick = std::chrono::milliseconds(10);
  cfg.interval = std::chrono::milliseconds(150);
  cfg.window = std::chrono::seconds(5);
  cfg.duration = std::chrono::milliseconds(700);
  cfg.netns = 7;
  cfg.filter.top = 2;
  std::atomic<std::uint64_t> sent{0};
  auto flows = [&] {
    sent += 1000;
    return std::vector<Flow>{flow("198.18.8.2", 40000, 80, 6, sent, 100), flow("198.18.9.2", 40001, 53, 17, 300, 0),
                             flow("198.18.10.2", 40002, 443, 6, sent / 2, 0),
                             flow("198.18.11.2", 40003, 80, 6, sent * 9, 0, 8)};  // another namespace
  };
  std::mutex tmu;
  std::map<std::string, int> traced;
  auto tracer = [&](const DestKey& d, const std::optional<AppFlow>&) {
    int n;
    {
      std::lock_guard lk(tmu);
      n = ++traced[dest_label(d)];
    }
    if (d.port == 443) throw std::runtime_error("no route");
    // The route switches between the first and the second trace of 198.18.8.2.
    return path({{"198.18.1.2"}, {n == 1 ? "198.18.3.2" : "198.18.4.2"}, {"198.18.8.2"}});
  };
  Recorder rec;
  WatchEngine e(cfg, flows, tracer, rec);
  const auto t0 = std::chrono::steady_clock::now();
  e.run();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(took, 0.7);
  EXPECT_LT(took, 2.0);
  EXPECT_EQ(traced.count("198.18.9.2 udp/53"), 0u) << "only the top 2 by bytes";
  EXPECT_EQ(traced.count("198.18.11.2 tcp/80"), 0u) << "another namespace";
  // 700 ms at a 150 ms interval: 5 (start to start) per destination, give or take one.
  EXPECT_GE(traced["198.18.8.2 tcp/80"], 3);
  EXPECT_LE(traced["198.18.8.2 tcp/80"], 6);
  EXPECT_GE(traced["198.18.10.2 tcp/443"], 3);
  EXPECT_EQ(rec.errors.size(), static_cast<std::size_t>(traced["198.18.10.2 tcp/443"]));
  EXPECT_EQ(rec.paths.size(), static_cast<std::size_t>(traced["198.18.8.2 tcp/80"])) << "every trace is reported";
  ASSERT_EQ(rec.changes.size(), 1u) << "one switch, reported once";
  EXPECT_EQ(rec.changes[0].hops[0].ttl, 2);
  EXPECT_GE(rec.ticks, 20);
  ASSERT_EQ(rec.last_rows.size(), 2u);
  EXPECT_EQ(rec.last_rows[0].traffic.key.port, 80);
  EXPECT_EQ(rec.last_rows[0].changes, 1);
  ASSERT_TRUE(rec.last_rows[0].last);
  // Flow reports: each interval the flows that moved, the idle UDP flow once; filtered like the destinations.
  ASSERT_GE(rec.flow_reports.size(), 4u);
  int udp_reported = 0;
  for (const auto& report : rec.flow_reports)
    for (const Flow& f : report) {
      EXPECT_EQ(f.key.netns, 7u);
      udp_reported += f.key.remote_port == 53;
    }
  EXPECT_EQ(udp_reported, 1) << "reported when it first moved, not again while idle";
}

TEST(WatchEngine, StopEndsTheRunAndTheTraceUnderWayIsReported) {
  WatchConfig cfg;
  cfg.tick = std::chrono::milliseconds(10);
  cfg.interval = std::chrono::seconds(60);
  auto flows = [] { return std::vector<Flow>{flow("198.18.8.2", 40000, 80, 6, 1000, 100, 0)}; };
  std::atomic<bool> tracing{false};
  auto tracer = [&](const DestKey&, const std::optional<AppFlow>&) {
    tracing = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return path({{"198.18.8.2"}});
  };
  Recorder rec;
  WatchEngine e(cfg, flows, tracer, rec);
  std::thread stopper([&] {
    while (!tracing) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    e.stop();
  });
  e.run();
  stopper.join();
  EXPECT_EQ(rec.paths.size(), 1u) << "the trace under way finished and was reported";
  ASSERT_FALSE(rec.flow_reports.empty()) << "a final flow report";
  EXPECT_EQ(rec.flow_reports.back().size(), 1u);
}

TEST(WatchEngine, BadSettingsAreRefused) {
  Recorder rec;
  WatchConfig cfg;
  cfg.interval = std::chrono::milliseconds(0);
  EXPECT_THROW(WatchEngine(cfg, {}, {}, rec), std::invalid_argument);
  cfg = {};
  cfg.window = std::chrono::milliseconds(0);
  EXPECT_THROW(WatchEngine(cfg, {}, {}, rec), std::invalid_argument);
}

// Closed flows leave the kernel's table after their last report, idle ones
// after a window without traffic; a busy one stays.
TEST(WatchEngine, ClosedAndIdleFlowsAreForgottenAfterTheyAreReported) {
  WatchConfig cfg;
  cfg.tick = std::chrono::milliseconds(10);
  cfg.interval = std::chrono::milliseconds(50);
  cfg.window = std::chrono::milliseconds(200);
  cfg.duration = std::chrono::milliseconds(600);
  std::mutex mu;
  std::set<std::uint16_t> table{40000, 40001, 40002};  // local ports still in the kernel's table
  std::atomic<std::uint64_t> busy{0};
  auto flows = [&] {
    std::lock_guard lk(mu);
    std::vector<Flow> out;
    busy += 1000;
    if (table.count(40000)) out.push_back(flow("198.18.8.2", 40000, 80, 6, busy, 100));  // busy
    if (table.count(40001)) {
      Flow closed = flow("198.18.8.2", 40001, 80, 6, 5000, 100);
      closed.stats.flags |= HS_FLOW_F_CLOSED;
      out.push_back(closed);
    }
    if (table.count(40002)) out.push_back(flow("198.18.9.2", 40002, 53, 17, 300, 0));  // idle after its first read
    return out;
  };
  std::vector<std::uint16_t> forgotten;
  auto forget = [&](const std::vector<hs_flow_key>& keys) {
    std::lock_guard lk(mu);
    for (const hs_flow_key& k : keys) {
      forgotten.push_back(k.local_port);
      table.erase(k.local_port);
    }
  };
  Recorder rec;
  WatchEngine e(
      cfg, flows, [](const DestKey&, const std::optional<AppFlow>&) { return path({{"198.18.8.2"}}); }, rec, {},
      forget);
  e.run();
  EXPECT_EQ(std::count(forgotten.begin(), forgotten.end(), 40001), 1) << "closed: forgotten once";
  EXPECT_EQ(std::count(forgotten.begin(), forgotten.end(), 40002), 1) << "idle for a window: forgotten";
  EXPECT_EQ(std::count(forgotten.begin(), forgotten.end(), 40000), 0) << "busy: kept";
  int closed_reports = 0;
  for (const auto& r : rec.flow_reports)
    for (const Flow& f : r) closed_reports += f.key.local_port == 40001;
  EXPECT_EQ(closed_reports, 1) << "the closed flow was reported (once) before it was forgotten";
}

namespace {

std::string exposition(const FlowSeries& s) { return prometheus::TextSerializer().Serialize(s.Collect()); }

}  // namespace

TEST(FlowSeries, CountersGrowByWhatTheFlowMovedAndStaleSeriesGo) {
  FlowSeries s;
  Flow f = flow("198.18.8.2", 40000, 80, 6, 1000, 200);
  f.stats.flags = HS_FLOW_F_TCP_RTT;
  f.stats.srtt_us = 1500;
  f.stats.retrans = 2;
  s.update({f}, 100);
  f.stats.bytes_out = 3000;
  f.stats.retrans = 3;
  s.update({f}, 200);
  const std::string text = exposition(s);
  EXPECT_NE(text.find("hopscope_watch_flow_bytes_total{direction=\"out\",dport=\"80\",dst=\"198.18.8.2\",proto=\"tcp\","
                      "sport=\"40000\",src=\"198.18.1.1\"} 3000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("hopscope_watch_flow_retransmits_total{dport=\"80\",dst=\"198.18.8.2\",proto=\"tcp\",sport=\""
                      "40000\",src=\"198.18.1.1\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("hopscope_watch_flow_srtt_seconds{"), std::string::npos);
  Flow again = f;  // a new connection on the same 5-tuple
  again.stats.first_ns = 99;
  again.stats.bytes_out = 10;
  s.update({again}, 300);
  EXPECT_NE(exposition(s).find("direction=\"out\",dport=\"80\",dst=\"198.18.8.2\",proto=\"tcp\",sport=\"40000\",src=\""
                               "198.18.1.1\"} 10"),
            std::string::npos);
  s.expire(1000, 800);  // seen at 300: 700 ago, kept
  EXPECT_EQ(s.size(), 1u);
  s.expire(1200, 800);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(exposition(s).find("hopscope_watch_flow_bytes_total{"), std::string::npos);
}

TEST(FlowSeries, AtMostMaxFlowsAreExportedAndTheRestCounted) {
  FlowSeries s(100);
  std::vector<Flow> many;
  for (int i = 0; i < 150; i++)
    many.push_back(flow("198.18.8.2", static_cast<std::uint16_t>(40000 + i), 80, 17, 100, 0));
  s.update(many, 1);
  EXPECT_EQ(s.size(), 100u);
  EXPECT_EQ(s.refused(), 50u);
  EXPECT_NE(exposition(s).find("hopscope_watch_flow_series_refused_total 50"), std::string::npos);
}

// Tens of thousands of flows coming and going leave the live ones only (the
// watch e2e churn test measures the time and memory this keeps flat).
TEST(FlowSeries, ChurnLeavesTheLiveFlowsOnly) {
  FlowSeries s(1 << 20);
  constexpr int kRounds = 50, kPerRound = 2000;
  for (int r = 0; r < kRounds; r++) {
    std::vector<Flow> batch;
    for (int i = 0; i < kPerRound; i++) {
      Flow f = flow("198.18.8.2", static_cast<std::uint16_t>(i), static_cast<std::uint16_t>(1000 + r), 6, 100, 100);
      batch.push_back(f);
    }
    s.update(batch, static_cast<std::uint64_t>(r) * 10);
    s.expire(static_cast<std::uint64_t>(r) * 10, 5);  // only this round's flows survive
    EXPECT_EQ(s.size(), static_cast<std::size_t>(kPerRound));
  }
}

// The busiest flow of a destination over the window: what watch's probes copy.
TEST(DestWindow, TheBusiestFlowOverTheWindowWithItsLabel) {
  DestWindow w(std::chrono::seconds(10), 7);
  Flow a = flow("2001:2:0:8::2", 40000, 443, 6, 1000, 0), b = flow("2001:2:0:8::2", 40001, 443, 6, 3000, 0);
  a.stats.flow_label = 0x11111;
  b.stats.flow_label = 0x22222;
  w.update(1 * kSec, {a, b});
  auto t = w.totals();
  ASSERT_EQ(t.size(), 1u);
  ASSERT_TRUE(t[0].busiest);
  EXPECT_EQ(t[0].busiest->sport, 40001);
  EXPECT_EQ(t[0].busiest->flow_label, 0x22222u);
  EXPECT_EQ(t[0].busiest->local.str(), "2001:2:0:1::1");
  EXPECT_EQ(t[0].busiest->bytes, 3000u);
  a.stats.bytes_out += 5000;  // a overtakes b over the window (6000 vs 3000)
  a.stats.pkts_out += 50;
  w.update(2 * kSec, {a, b});
  t = w.totals();
  EXPECT_EQ(t[0].busiest->sport, 40000);
  EXPECT_EQ(t[0].busiest->flow_label, 0x11111u);
}

TEST(WatchTracer, MergedTraceTakesTheAppFlowsHopsBeforeTheDestination) {
  TraceResult ports = path({{"198.18.1.2"}, {"198.18.2.2"}, {"198.18.3.2"}, {"198.18.8.2"}});
  ports.probes_total = 24;
  TraceResult via = path({{"198.18.1.2"}, {"198.18.2.2"}, {"198.18.4.2"}});
  via.probes_total = 18;
  const TraceResult m = merge_followed(ports, via, {A("198.18.1.1"), 41000, 80, 0, 3});
  ASSERT_EQ(m.hops.size(), 4u);
  EXPECT_EQ(m.hops[2].replies[0].addr.str(), "198.18.4.2") << "the app's branch";
  EXPECT_EQ(m.hops[3].replies[0].addr.str(), "198.18.8.2") << "the destination from the port probes";
  EXPECT_EQ(m.probes_total, 42u);
  ASSERT_TRUE(m.followed_flow);
  EXPECT_EQ(m.followed_flow->sport, 41000);
  const json j = json::parse(trace_json(m));
  EXPECT_EQ(j["app_flow"]["sport"], 41000);
  EXPECT_EQ(j["app_flow"]["hops"], 3);
}

// More destinations than fit in an interval: all of them are traced in
// turn (the longest overdue first), and the slips are reported.
TEST(WatchEngine, SlowTracesSlipEveryDestinationAlikeAndAreReported) {
  WatchConfig cfg;
  cfg.tick = std::chrono::milliseconds(10);
  cfg.interval = std::chrono::milliseconds(100);
  cfg.duration = std::chrono::milliseconds(1500);
  cfg.filter.top = 3;
  auto flows = [] {
    return std::vector<Flow>{flow("198.18.8.2", 40000, 80, 6, 900000, 0), flow("198.18.9.2", 40001, 80, 6, 5000, 0),
                             flow("198.18.10.2", 40002, 80, 6, 1000, 0)};
  };
  std::mutex tmu;
  std::map<std::string, int> traced;
  auto tracer = [&](const DestKey& d, const std::optional<AppFlow>& app) {
    EXPECT_TRUE(app) << "the busiest flow goes with the destination";
    {
      std::lock_guard lk(tmu);
      traced[d.addr.str()]++;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(120));  // longer than the interval by itself
    return path({{"198.18.8.2"}});
  };
  Recorder sink;
  WatchEngine e(cfg, flows, tracer, sink);
  e.run();
  for (const auto& [late_s, interval_s] : sink.slips) {
    EXPECT_GT(late_s, 0.25);
    EXPECT_DOUBLE_EQ(interval_s, 0.1);
  }
  ASSERT_EQ(traced.size(), 3u) << "no destination starves";
  for (const auto& [dst, n] : traced) {
    EXPECT_GE(n, 3) << dst;
    EXPECT_LE(n, 5) << dst;
  }
  EXPECT_FALSE(sink.slips.empty());
  EXPECT_EQ(static_cast<std::size_t>(e.late_traces()), sink.slips.size());
  EXPECT_GT(e.worst_slip_s(), 0.25);
}

// --parallel: several destinations traced at once, each by one thread at a
// time, so the interval holds where one-at-a-time tracing slips.
TEST(WatchEngine, ParallelTracersKeepTheIntervalAndNeverTraceADestinationTwiceAtOnce) {
  auto run = [](int parallel, std::map<std::string, int>& traced, int& max_same) {
    WatchConfig cfg;
    cfg.tick = std::chrono::milliseconds(10);
    cfg.interval = std::chrono::milliseconds(300);
    cfg.duration = std::chrono::milliseconds(1500);
    cfg.parallel = parallel;
    auto flows = [] {
      return std::vector<Flow>{flow("198.18.8.2", 40000, 80, 6, 900000, 0), flow("198.18.9.2", 40001, 80, 6, 5000, 0),
                               flow("198.18.10.2", 40002, 80, 6, 1000, 0)};
    };
    std::mutex tmu;
    std::map<std::string, int> now_tracing;
    auto tracer = [&](const DestKey& d, const std::optional<AppFlow>&) {
      {
        std::lock_guard lk(tmu);
        traced[d.addr.str()]++;
        max_same = std::max(max_same, ++now_tracing[d.addr.str()]);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // 3 x 200 ms > the 300 ms interval
      std::lock_guard lk(tmu);
      now_tracing[d.addr.str()]--;
      return path({{"198.18.8.2"}});
    };
    Recorder rec;
    WatchEngine e(cfg, flows, tracer, rec);
    e.run();
    return e.late_traces();
  };
  std::map<std::string, int> one, three;
  int same1 = 0, same3 = 0;
  const int late1 = run(1, one, same1), late3 = run(3, three, same3);
  EXPECT_GT(late1, 0) << "one at a time: 600 ms of traces per 300 ms interval slip";
  EXPECT_EQ(late3, 0) << "three at a time: the interval holds";
  for (const auto& [dst, n] : three) {
    EXPECT_GE(n, 4) << dst;  // 1.5 s at a 300 ms interval: 5 (start to start), give or take one
    EXPECT_LE(n, 6) << dst;
  }
  EXPECT_EQ(same1, 1);
  EXPECT_EQ(same3, 1) << "a destination is never traced by two threads at once";
}
