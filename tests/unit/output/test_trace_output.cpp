#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hopscope/output/asn.hpp"
#include "hopscope/output/icmp_names.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/output/trace_output.hpp"

using namespace hopscope;

namespace {

IpAddress A(const char* s) { return *IpAddress::parse(s); }

HopReply reply(const char* addr, double rtt, int attempt, std::uint8_t type = 11, std::uint8_t code = 0,
               std::uint8_t kind = HS_REPLY_TIME_EXCEEDED) {
  HopReply h;
  h.addr = A(addr);
  h.rtt_ms = rtt;
  h.attempt = attempt;
  h.icmp_type = type;
  h.icmp_code = code;
  h.kind = kind;
  h.reply_ttl = 63;
  h.quoted_ttl = 1;
  return h;
}

TraceResult sample() {
  TraceResult r;
  r.dst = A("198.18.8.2");
  r.src = A("198.18.1.1");
  r.method = Method::UdpParis;
  r.max_ttl = 30;
  r.packet_size = 60;
  r.stop_reason = StopReason::Completed;
  r.hops.push_back(
      {1, 3, {reply("198.18.1.2", 0.1234, 0), reply("198.18.1.2", 0.2, 1), reply("198.18.1.2", 0.3, 2)}, {}});
  r.hops.push_back({2, 3, {reply("198.18.3.2", 1.0, 0), reply("198.18.4.2", 2.0, 2)}, {}});
  r.hops.push_back({3, 3, {}, {}});
  r.hops.push_back({4, 3, {reply("198.18.8.2", 4.5, 0, 3, 3, HS_REPLY_DEST_UNREACH)}, {}});
  return r;
}

}  // namespace

TEST(TraceOutput, TextLooksLikeTraceroute) {
  TraceOptions o;
  o.dst = A("198.18.8.2");
  o.src = A("198.18.1.1");
  o.packet_size = 60;
  EXPECT_EQ(trace_text_header(o, "to-r1"),
            "hopscope to 198.18.8.2 (198.18.8.2) from 198.18.1.1 (to-r1), 30 hops max, udp-paris, 60 byte packets\n");
  EXPECT_EQ(trace_text_hops(sample()),
            " 1  198.18.1.2  0.123 ms  0.200 ms  0.300 ms\n"
            " 2  198.18.3.2  1.000 ms * 198.18.4.2  2.000 ms\n"
            " 3  * * *\n"
            " 4  198.18.8.2  4.500 ms * *\n");
}

TEST(TraceOutput, UnreachableAnnotations) {
  const IpAddress dst = A("198.18.8.2");
  EXPECT_EQ(unreach_annotation(reply("198.18.8.2", 1, 0, 3, 3, HS_REPLY_DEST_UNREACH), dst), "");
  EXPECT_EQ(unreach_annotation(reply("198.18.3.2", 1, 0, 3, 1, HS_REPLY_DEST_UNREACH), dst), "!H");
  EXPECT_EQ(unreach_annotation(reply("198.18.3.2", 1, 0, 3, 0, HS_REPLY_DEST_UNREACH), dst), "!N");
  EXPECT_EQ(unreach_annotation(reply("198.18.3.2", 1, 0, 3, 13, HS_REPLY_DEST_UNREACH), dst), "!X");
  HopReply fn = reply("198.18.3.2", 1, 0, 3, 4, HS_REPLY_DEST_UNREACH);
  fn.mtu = 1280;
  EXPECT_EQ(unreach_annotation(fn, dst), "!F-1280");
  EXPECT_EQ(unreach_annotation(reply("198.18.3.2", 1, 0, 3, 7, HS_REPLY_DEST_UNREACH), dst), "!<7>");
  EXPECT_EQ(unreach_annotation(reply("198.18.3.2", 1, 0), dst), "");
  const IpAddress dst6 = A("2001:2:0:8::2");
  EXPECT_EQ(unreach_annotation(reply("2001:2:0:8::2", 1, 0, 1, 4, HS_REPLY_DEST_UNREACH), dst6), "");
  EXPECT_EQ(unreach_annotation(reply("2001:2:0:3::2", 1, 0, 1, 1, HS_REPLY_DEST_UNREACH), dst6), "!X");
}

TEST(TraceOutput, JsonFollowsTheSchema) {
  TraceResult r = sample();
  r.tx_mode = "af_xdp-copy";
  std::string line = trace_json(r);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one object per line";
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["type"], "trace");
  EXPECT_EQ(j["dst"], "198.18.8.2");
  EXPECT_EQ(j["src"], "198.18.1.1");
  EXPECT_EQ(j["method"], "udp-paris");
  EXPECT_EQ(j["stop_reason"], "completed");
  EXPECT_EQ(j["hop_count"], 4);
  ASSERT_EQ(j["hops"].size(), 4u);
  EXPECT_EQ(j["hops"][0]["ttl"], 1);
  EXPECT_EQ(j["hops"][0]["replies"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["hops"][0]["replies"][0]["rtt_ms"].get<double>(), 0.123);
  EXPECT_EQ(j["hops"][0]["replies"][0]["addr"], "198.18.1.2");
  EXPECT_EQ(j["hops"][0]["replies"][0]["icmp_type"], 11);
  EXPECT_EQ(j["hops"][0]["replies"][0]["icmp_code"], 0);
  EXPECT_EQ(j["hops"][0]["replies"][0]["reply_ttl"], 63);
  EXPECT_TRUE(j["hops"][2]["replies"].is_array());
  EXPECT_TRUE(j["hops"][2]["replies"].empty()) << "a silent TTL has an empty replies array";
  EXPECT_EQ(j["hops"][3]["replies"][0]["icmp_type"], 3);
  EXPECT_FALSE(j["hops"][0]["replies"][0].contains("mtu")) << "mtu only when the reply carries one";
  EXPECT_EQ(j["tx_mode"], "af_xdp-copy");
  EXPECT_FALSE(j.contains("dropped_replies")) << "only when replies were lost";
  r.dropped_replies = 7;
  EXPECT_EQ(nlohmann::json::parse(trace_json(r))["dropped_replies"], 7);
}

TEST(TraceOutput, StopReasonNames) {
  EXPECT_STREQ(stop_reason_name(StopReason::Completed), "completed");
  EXPECT_STREQ(stop_reason_name(StopReason::Unreach), "unreach");
  EXPECT_STREQ(stop_reason_name(StopReason::GapLimit), "gaplimit");
  EXPECT_STREQ(stop_reason_name(StopReason::HopLimit), "hoplimit");
}

TEST(IcmpNames, KnownTypesAndCodesAreNamedUnknownOnesNumbered) {
  EXPECT_EQ(icmp_describe(4, 11, 0), "time exceeded: TTL exceeded in transit (11/0)");
  EXPECT_EQ(icmp_describe(4, 3, 13), "destination unreachable: communication administratively prohibited (3/13)");
  EXPECT_EQ(icmp_describe(4, 3, 4), "destination unreachable: fragmentation needed and DF set (3/4)");
  EXPECT_EQ(icmp_describe(4, 0, 0), "echo reply (0/0)");
  EXPECT_EQ(icmp_describe(4, 5, 1), "redirect: redirect for the host (5/1)");
  EXPECT_EQ(icmp_describe(4, 12, 2), "parameter problem: bad length (12/2)");
  EXPECT_EQ(icmp_describe(4, 14, 0), "timestamp reply (14/0)");
  EXPECT_EQ(icmp_describe(6, 1, 4), "destination unreachable: port unreachable (1/4)");
  EXPECT_EQ(icmp_describe(6, 2, 0), "packet too big (2/0)");
  EXPECT_EQ(icmp_describe(6, 3, 0), "time exceeded: hop limit exceeded in transit (3/0)");
  EXPECT_EQ(icmp_describe(6, 129, 0), "echo reply (129/0)");
  EXPECT_EQ(icmp_describe(4, 3, 99), "destination unreachable: code 99 (3/99)") << "unknown code: numeric";
  EXPECT_EQ(icmp_describe(4, 77, 5), "type 77: code 5 (77/5)") << "unknown type: numeric";
  EXPECT_EQ(icmp_describe(6, 200, 0), "type 200 (200/0)");
  EXPECT_EQ(icmp_type_name(6, 3), "time exceeded") << "the family picks the table";
  EXPECT_EQ(icmp_type_name(4, 3), "destination unreachable");
}

TEST(TraceText, ReplyLegendGroupsHops) {
  TraceResult r;
  r.dst = *IpAddress::parse("198.18.8.2");
  auto hop = [](int ttl, std::initializer_list<std::pair<int, int>> tc) {
    Hop h;
    h.ttl = ttl;
    for (auto [t, c] : tc) {
      HopReply x;
      x.icmp_type = static_cast<std::uint8_t>(t);
      x.icmp_code = static_cast<std::uint8_t>(c);
      h.replies.push_back(x);
    }
    return h;
  };
  r.hops = {hop(1, {{11, 0}, {11, 0}}), hop(2, {{11, 0}}), hop(3, {}),
            hop(4, {{11, 0}}),          hop(5, {{11, 0}}), hop(6, {{3, 10}, {42, 7}})};
  EXPECT_EQ(reply_legend(r),
            "replies: destination unreachable: host administratively prohibited (3/10) at hop 6; "
            "time exceeded: TTL exceeded in transit (11/0) at hops 1-2,4-5; extended echo request: code 7 (42/7) at "
            "hop 6\n");
  r.hops = {hop(1, {})};
  EXPECT_EQ(reply_legend(r), "");
}

namespace {
// The lab path with two probes per hop: TTL 4 silent, the second probe of TTL 2 lost.
TraceResult formats_fixture() {
  TraceResult r;
  r.dst = *IpAddress::parse("198.18.8.2");
  r.src = *IpAddress::parse("198.18.1.1");
  r.method = Method::UdpParis;
  r.probes_per_hop = 2;
  r.packet_size = 60;
  r.start_unix_ms = 1795331296123;
  r.end_unix_ms = 1795331297456;
  r.stop_reason = StopReason::Completed;
  const char* addrs[] = {"198.18.1.2", "198.18.2.2", "198.18.3.2", nullptr, "198.18.7.2", "198.18.8.2"};
  for (int ttl = 1; ttl <= 6; ttl++) {
    Hop h;
    h.ttl = ttl;
    h.probes_sent = 2;
    for (int a = 0; a < 2 && addrs[ttl - 1]; a++) {
      if (ttl == 2 && a == 1) continue;
      HopReply x;
      x.addr = *IpAddress::parse(addrs[ttl - 1]);
      x.rtt_ms = 0.1 * ttl + 0.01 * a;
      x.icmp_type = ttl == 6 ? 3 : 11;
      x.icmp_code = ttl == 6 ? 3 : 0;
      x.kind = ttl == 6 ? HS_REPLY_DEST_UNREACH : HS_REPLY_TIME_EXCEEDED;
      x.reply_ttl = static_cast<std::uint8_t>(65 - ttl);
      x.quoted_ttl = 1;
      x.reply_len = 88;
      x.attempt = a;
      h.replies.push_back(x);
    }
    r.hops.push_back(h);
  }
  return r;
}
}  // namespace

TEST(TraceFormats, CsvHasOneRowPerReplyAndOnePerSilentHop) {
  std::string out;
  append_csv_header(out);
  append_trace_csv(out, formats_fixture());
  std::istringstream in(out);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 1u + 2 + 1 + 2 + 1 + 2 + 2);
  EXPECT_EQ(lines[0],
            "dst,src,method,start_ms,stop_reason,ttl,probes_sent,attempt,addr,rtt_ms,icmp_type,icmp_code,reply_ttl,"
            "quoted_ttl,reply_len,mtu,flow,asn,tcp_flags");
  EXPECT_EQ(lines[1],
            "198.18.8.2,198.18.1.1,udp-paris,1795331296123,completed,1,2,0,198.18.1.2,0.100,11,0,64,1,88,,0,,");
  EXPECT_EQ(lines[6], "198.18.8.2,198.18.1.1,udp-paris,1795331296123,completed,4,2,,,,,,,,,,,,") << "the silent hop";
  for (const auto& l : lines) EXPECT_EQ(std::count(l.begin(), l.end(), ','), 18) << l;
}

TEST(TraceFormats, CsvQuotesAnAsSetAndGivesTcpFlagsTheirOwnColumn) {
  TraceResult r = formats_fixture();
  r.hops[5].replies[0].asn = "64504,64505";  // an AS set, as prefix2as writes it
  r.hops[5].replies[1].asn = "x\"y";
  HopReply& tcp = r.hops[4].replies[0];
  tcp.kind = HS_REPLY_TCP_SYNACK;
  tcp.icmp_type = 0;
  tcp.icmp_code = 0x12;
  std::string out;
  append_trace_csv(out, r);
  EXPECT_NE(out.find(",0,\"64504,64505\",\n"), std::string::npos) << "RFC 4180: a field with a comma is quoted\n"
                                                                  << out;
  EXPECT_NE(out.find(",0,\"x\"\"y\",\n"), std::string::npos) << "and its quotes doubled\n" << out;
  EXPECT_NE(out.find(",5,2,0,198.18.7.2,0.500,,,60,1,88,,0,,18\n"), std::string::npos)
      << "a SYN-ACK: no ICMP type or code, its flags (0x12) in tcp_flags\n"
      << out;
}

TEST(TraceFormats, AtlasFieldsAsSpecified) {
  std::string out;
  append_trace_atlas(out, formats_fixture());
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["af"], 4);
  EXPECT_EQ(j["dst_addr"], "198.18.8.2");
  EXPECT_EQ(j["dst_name"], "198.18.8.2");
  EXPECT_EQ(j["src_addr"], "198.18.1.1");
  EXPECT_EQ(j["from"], "198.18.1.1");
  EXPECT_EQ(j["proto"], "UDP");
  EXPECT_EQ(j["paris_id"], 1);
  EXPECT_EQ(j["size"], 32) << "60-byte probes: 32 bytes of payload";
  EXPECT_EQ(j["timestamp"], 1795331296);
  EXPECT_EQ(j["endtime"], 1795331297);
  EXPECT_EQ(j["fw"], 5000);
  EXPECT_EQ(j["lts"], -1);
  EXPECT_EQ(j["msm_name"], "Traceroute");
  EXPECT_EQ(j["type"], "traceroute");
  ASSERT_EQ(j["result"].size(), 6u);
  EXPECT_EQ(j["result"][0]["hop"], 1);
  EXPECT_EQ(j["result"][0]["result"][0], nlohmann::json::parse(R"({"from":"198.18.1.2","rtt":0.1,"size":60,"ttl":64})"))
      << "size: the ICMP payload after its 8-byte header (the 60-byte probe quoted), not the 88-byte packet";
  EXPECT_EQ(j["result"][1]["result"][1], nlohmann::json::parse(R"({"x":"*"})")) << "the lost probe";
  EXPECT_EQ(j["result"][3]["result"], nlohmann::json::parse(R"([{"x":"*"},{"x":"*"}])"));
  EXPECT_FALSE(j["result"][5]["result"][0].contains("err")) << "the destination's port unreachable is no error";
}

TEST(TraceFormats, AtlasErrorsAndQuotedTtl) {
  TraceResult r = formats_fixture();
  HopReply& x = r.hops[4].replies[0];
  x.kind = HS_REPLY_DEST_UNREACH;
  x.icmp_type = 3;
  x.icmp_code = 13;
  x.quoted_ttl = 2;
  r.hops[4].replies[1].kind = HS_REPLY_DEST_UNREACH;
  r.hops[4].replies[1].icmp_code = 7;
  r.hops[2].replies[0].mtu = 1280;
  std::string out;
  append_trace_atlas(out, r);
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["result"][4]["result"][0]["err"], "A");
  EXPECT_EQ(j["result"][4]["result"][0]["ittl"], 2);
  EXPECT_EQ(j["result"][4]["result"][1]["err"], "7") << "other codes: numeric";
  EXPECT_EQ(j["result"][2]["result"][0]["mtu"], 1280);
}

TEST(TraceFormats, AtlasTcpRepliesDuplicatesAndDoubletreeHops) {
  TraceResult r = formats_fixture();
  r.method = Method::TcpSyn;
  r.packet_size = 40;
  HopReply& dst = r.hops[5].replies[0];
  dst.kind = HS_REPLY_TCP_SYNACK;
  dst.icmp_type = 0;
  dst.icmp_code = 0x12;  // SYN-ACK: the matcher keeps the TCP flags here
  dst.reply_len = 44;    // with an MSS option
  r.hops[5].replies[1].kind = HS_REPLY_TCP_RST;
  r.hops[5].replies[1].icmp_code = 0x14;
  r.hops[0].replies.push_back(r.hops[0].replies[0]);  // a second reply to probe 0 of hop 1
  r.hops[1].probes_sent = 0;                          // hop 2 below a Doubletree stop: not probed
  r.hops[1].replies.clear();
  std::string out;
  append_trace_atlas(out, r);
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["proto"], "TCP");
  EXPECT_EQ(j["size"], 0) << "a SYN carries no payload";
  ASSERT_EQ(j["result"].size(), 5u) << "the unprobed hop is left out, as Atlas leaves out hops below first_hop";
  EXPECT_EQ(j["result"][1]["hop"], 3);
  for (const auto& hop : j["result"]) EXPECT_FALSE(hop.contains("error")) << hop.dump();
  const auto& h1 = j["result"][0]["result"];
  ASSERT_EQ(h1.size(), 3u);
  EXPECT_FALSE(h1[0].contains("dup"));
  EXPECT_EQ(h1[1]["dup"], true) << "the second reply to one probe";
  EXPECT_FALSE(h1[2].contains("dup"));
  const auto& last = j["result"][4]["result"];
  EXPECT_EQ(last[0]["flags"], "SA");
  EXPECT_EQ(last[0]["size"], 0) << "a TCP reply has no payload";
  EXPECT_FALSE(last[0].contains("err"));
  EXPECT_EQ(last[1]["flags"], "RA");
}

// Our Atlas output against real RIPE Atlas results (tests/fixtures: public
// measurements 1000157, firmware 4460-4720): every key we write at each
// level is one Atlas writes there (or one the format notes list for newer
// firmware), with the same JSON type.
TEST(TraceFormats, AtlasKeysAndTypesAsInRealResults) {
  std::ifstream in(HOPSCOPE_FIXTURES "/atlas-traceroute-examples.ndjson");
  ASSERT_TRUE(in) << "fixture missing";
  std::map<std::string, nlohmann::json::value_t> top, hop, reply;
  auto num = [](nlohmann::json::value_t t) {
    return t == nlohmann::json::value_t::number_unsigned ? nlohmann::json::value_t::number_integer : t;
  };
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    for (const auto& [k, v] : j.items()) top[k] = num(v.type());
    for (const auto& h : j["result"]) {
      for (const auto& [k, v] : h.items()) hop[k] = num(v.type());
      for (const auto& x : h.value("result", nlohmann::json::array()))
        for (const auto& [k, v] : x.items()) reply[k] = num(v.type());
    }
  }
  ASSERT_GE(reply.size(), 8u) << "the fixture has replies with err, mtu, late, icmpext";
  // Firmware >= 5000 keys the notes list (../shared/formats/atlas-traceroute.md).
  reply["flags"] = nlohmann::json::value_t::string;
  reply["dup"] = nlohmann::json::value_t::boolean;
  reply["edst"] = nlohmann::json::value_t::string;
  TraceResult r = formats_fixture();
  r.hops[4].replies[0].mtu = 1280;
  r.hops[4].replies[1].kind = HS_REPLY_DEST_UNREACH;
  r.hops[4].replies[1].icmp_code = 1;
  r.hops[2].replies[0].mpls = {16 << 12 | 1 << 8 | 1};
  r.hops[2].replies[0].mpls_count = 1;
  std::string out;
  append_trace_atlas(out, r);
  const auto ours = nlohmann::json::parse(out);
  for (const auto& [k, v] : ours.items()) {
    ASSERT_TRUE(top.count(k)) << "top-level key Atlas never writes: " << k;
    EXPECT_EQ(num(v.type()), top[k]) << k;
  }
  for (const auto& h : ours["result"]) {
    for (const auto& [k, v] : h.items()) {
      ASSERT_TRUE(hop.count(k)) << "hop key: " << k;
      EXPECT_EQ(num(v.type()), hop[k]) << k;
    }
    for (const auto& x : h["result"])
      for (const auto& [k, v] : x.items()) {
        ASSERT_TRUE(reply.count(k)) << "reply key Atlas never writes: " << k;
        EXPECT_EQ(num(v.type()), reply[k]) << k << " in " << x.dump();
      }
  }
}

TEST(TraceFormats, ScamperStopDataAndProbeCount) {
  // stop_data was always 0 and probe_count counted only the hops kept.
  TraceResult r = formats_fixture();
  r.probes_total = 48;  // the first window went past the destination
  std::string out;
  append_trace_scamper(out, r);
  nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["stop_reason"], "COMPLETED");
  EXPECT_EQ(j["stop_data"], 0);
  EXPECT_EQ(j["probe_count"], 48) << "every probe that went out";
  r.probes_total = 0;
  r.stop_reason = StopReason::Unreach;
  r.hops[5].replies[0].addr = *IpAddress::parse("198.18.7.2");
  r.hops[5].replies[0].icmp_code = 13;  // administratively prohibited
  out.clear();
  append_trace_scamper(out, r);
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["stop_reason"], "UNREACH");
  EXPECT_EQ(j["stop_data"], 13) << "scamper's stop_data: the unreachable's code";
  EXPECT_EQ(j["probe_count"], 12) << "without a total: the probes of the hops kept";
  r.dst = *IpAddress::parse("2001:2:0:8::2");
  for (HopReply& x : r.hops[5].replies) {
    x.kind = HS_REPLY_PACKET_TOO_BIG;
    x.icmp_type = 2;
    x.icmp_code = 0;
  }
  out.clear();
  append_trace_scamper(out, r);
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["stop_reason"], "ICMP") << "a Packet Too Big is an ICMP message, no unreachable";
  EXPECT_EQ(j["stop_data"], 2);
}

// A survey trace whose Doubletree backward probing stopped above hop 3:
// scamper's firsthop is where probing began (it was 1, with hops 1-2 never probed).
TEST(TraceFormats, ScamperFirsthopOfADoubletreeTrace) {
  TraceResult r = formats_fixture();
  std::string out;
  append_trace_scamper(out, r);
  EXPECT_EQ(nlohmann::json::parse(out)["firsthop"], 1);
  for (int i : {0, 1}) {
    r.hops[static_cast<std::size_t>(i)].probes_sent = 0;
    r.hops[static_cast<std::size_t>(i)].replies.clear();
  }
  out.clear();
  append_trace_scamper(out, r);
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["firsthop"], 3);
  ASSERT_FALSE(j["hops"].empty());
  EXPECT_GE(j["hops"][0]["probe_ttl"].get<int>(), 3);
  r.hops[0].probes_sent = 3;  // silent, but probed: probing began at 1
  out.clear();
  append_trace_scamper(out, r);
  EXPECT_EQ(nlohmann::json::parse(out)["firsthop"], 1);
}

TEST(TraceFormats, DotGraphOfTwoTracesShowsTheDiamond) {
  TraceResult a = formats_fixture(), b = formats_fixture();
  for (HopReply& x : b.hops[2].replies) x.addr = *IpAddress::parse("198.18.4.2");  // the other branch
  const std::string dot = traces_dot({a, b});
  EXPECT_NE(dot.find("digraph paths {"), std::string::npos);
  EXPECT_NE(dot.find("\"198.18.2.2\" -> \"198.18.3.2\";"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"198.18.2.2\" -> \"198.18.4.2\";"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"198.18.3.2\" -> \"198.18.7.2\" [style=dashed, label=\"1 silent\"];"), std::string::npos);
  EXPECT_NE(dot.find("\"198.18.2.2\" [label=\"198.18.2.2\\nhop 2\\nloss 50.0% rtt 0.200 ms\"]"), std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"198.18.8.2\" [label=\"198.18.8.2\\nhop 6\\nloss 0.0% rtt 0.605 ms\", shape=doubleoctagon]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"198.18.1.1\" [label=\"198.18.1.1\\nsource\", shape=ellipse]"), std::string::npos);
  EXPECT_NE(dot.find("label=\"hopscope: udp-paris from 198.18.1.1 to 198.18.8.2\";"), std::string::npos)
      << "a title" << dot;
}

TEST(TraceFormats, DotEcmpBranchesLoseNothingTheOtherBranchAnswered) {
  // Classic udp: hop 3's two probes answered by r3a and r3b, one each. Each
  // was drawn with "loss 50.0%" although nothing was lost.
  TraceResult r = formats_fixture();
  r.hops[2].replies[1].addr = *IpAddress::parse("198.18.4.2");
  const std::string dot = traces_dot({r});
  EXPECT_NE(dot.find("\"198.18.3.2\" [label=\"198.18.3.2\\nhop 3\\nloss 0.0%"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"198.18.4.2\" [label=\"198.18.4.2\\nhop 3\\nloss 0.0%"), std::string::npos) << dot;
}

TEST(TraceFormats, DotDrawsAnUnreachedDestinationAndNoLoopEdge) {
  TraceResult r = formats_fixture();
  r.hops.resize(5);  // hop 6, the destination, never answered
  r.stop_reason = StopReason::GapLimit;
  r.hops[4].replies = r.hops[2].replies;  // r3 again at hop 5: a loop
  std::string dot = traces_dot({r});
  EXPECT_NE(dot.find("\"198.18.8.2\" [label=\"198.18.8.2\\nnot reached\", shape=doubleoctagon, style=dashed];"),
            std::string::npos)
      << "the destination is drawn though it never answered\n"
      << dot;
  EXPECT_NE(dot.find("\"198.18.3.2\" -> \"198.18.8.2\" [style=dotted, label=\"not reached\"];"), std::string::npos)
      << dot;
  EXPECT_EQ(dot.find("\"198.18.3.2\" -> \"198.18.3.2\""), std::string::npos) << "no self-loop\n" << dot;
  EXPECT_NE(dot.find("198.18.3.2\\nhops 3, 5 (loop?)"), std::string::npos) << dot;
}

TEST(Asn, LongestPrefixMatchFromAPrefix2asFile) {
  std::istringstream in(
      "# CAIDA prefix2as\n198.18.0.0\t15\t64500\n198.18.1.0\t24\t64501\n198.18.1.128\t25\t64509_64510\n"
      "2001:2::\t48\t64500\n2001:2:0:7::\t64\t64503,64504\n0.0.0.0\t0\t1\n");
  const AsnTable t = AsnTable::load(in, "fixture");
  EXPECT_EQ(t.size(), 6u);
  EXPECT_EQ(t.lookup(*IpAddress::parse("198.18.1.2")), "64501");
  EXPECT_EQ(t.lookup(*IpAddress::parse("198.18.1.200")), "64509_64510") << "the longest prefix wins";
  EXPECT_EQ(t.lookup(*IpAddress::parse("198.19.255.1")), "64500");
  EXPECT_EQ(t.lookup(*IpAddress::parse("203.0.113.1")), "1") << "the default route";
  EXPECT_EQ(t.lookup(*IpAddress::parse("2001:2:0:7::2")), "64503,64504");
  EXPECT_EQ(t.lookup(*IpAddress::parse("2001:2:0:8::2")), "64500");
  EXPECT_FALSE(t.lookup(*IpAddress::parse("2001:db8::1"))) << "no IPv6 default";
}

TEST(Asn, BadLinesNameTheFileAndLine) {
  for (const char* bad : {"198.18.0.0\t33\t1\n", "198.18.0.300\t24\t1\n", "198.18.0.0\t24\tAS1\n", "garbage\n"}) {
    std::istringstream in(std::string("198.18.0.0\t24\t1\n") + bad);
    try {
      AsnTable::load(in, "p2a.txt");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("p2a.txt line 2: "), std::string::npos) << e.what();
    }
  }
}

TEST(Asn, AnnotatedOutputs) {
  std::istringstream in("198.18.1.0\t24\t64501\n198.18.2.0\t24\t64501\n198.18.3.0\t24\t64502\n198.18.7.0\t24\t64503\n");
  TraceResult r = formats_fixture();
  annotate_asn(r, AsnTable::load(in, "fixture"));
  EXPECT_EQ(r.hops[0].replies[0].asn, "64501");
  EXPECT_EQ(r.hops[5].replies[0].asn, "") << "198.18.8.0/24 is in no prefix";
  EXPECT_EQ(as_path_line(r), "AS path: AS64501 -> AS64502 (hop 3) -> AS64503 (hop 5)\n");
  EXPECT_NE(trace_text_hops(r).find(" 1  198.18.1.2 [AS64501]  0.100 ms"), std::string::npos) << trace_text_hops(r);
  EXPECT_EQ(nlohmann::json::parse(trace_json(r))["hops"][2]["replies"][0]["asn"], "64502");
  std::string csv;
  append_trace_csv(csv, r);
  EXPECT_NE(csv.find(",0,64501,\n"), std::string::npos) << csv;
  const std::string dot = traces_dot({r});
  EXPECT_NE(dot.find("subgraph \"cluster_AS64501\" {\n    label=\"AS64501\";"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"198.18.2.2\" -> \"198.18.3.2\" [color=red];"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"198.18.1.2\" -> \"198.18.2.2\";"), std::string::npos) << "same AS: plain";
}

TEST(TraceOutput, QuoteAnomalies) {
  TraceResult r = formats_fixture();
  r.fixed_probe_size = true;
  HopReply& x = r.hops[2].replies[0];
  x.quoted_len = 60;
  EXPECT_TRUE(quote_anomalies(x, r).empty()) << "quoted as sent";
  x.quoted_ttl = 3;
  x.quoted_tos = 0x20;
  x.quoted_len = 72;
  EXPECT_EQ(quote_anomalies(x, r),
            (std::vector<std::string>{"quoted TTL 3", "TOS 0x20 (sent 0x00)", "quoted length 72 (sent 60)"}));
  HopReply nat = x;
  nat.src_rewritten = true;
  EXPECT_EQ(quote_anomalies(nat, r)[0], "source rewritten (NAT)");
  EXPECT_NE(trace_text_hops(r).find("{quoted TTL 3} {TOS 0x20 (sent 0x00)} {quoted length 72 (sent 60)}"),
            std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(trace_json(r))["hops"][2]["replies"][0]["quote_anomalies"][0], "quoted TTL 3");
  r.fixed_probe_size = false;  // survey probes carry their TTL in their length: not checked
  EXPECT_EQ(quote_anomalies(x, r).size(), 2u);
  HopReply echo = x;
  echo.kind = HS_REPLY_ECHO_REPLY;
  EXPECT_TRUE(quote_anomalies(echo, r).empty()) << "an echo reply quotes nothing";
}

// A reply the 16-bit value alone authenticated says so; the others (48 bits) say nothing.
TEST(TraceOutput, RepliesAuthenticatedOn16BitsSaySo) {
  TraceResult r = formats_fixture();
  r.hops[2].replies[0].mac_short = true;
  r.duplicate_replies = 2;
  const auto j = nlohmann::json::parse(trace_json(r));
  EXPECT_EQ(j["hops"][2]["replies"][0]["mac_bits"], 16);
  EXPECT_FALSE(j["hops"][1]["replies"][0].contains("mac_bits"));
  EXPECT_EQ(j["duplicate_replies"], 2);
}

TEST(TraceOutput, CombinedMethods) {
  TraceResult udp = formats_fixture(), icmp = formats_fixture();
  icmp.method = Method::IcmpParis;
  for (HopReply& x : icmp.hops[2].replies) x.addr = *IpAddress::parse("198.18.4.2");  // the other branch
  icmp.hops.pop_back();
  icmp.stop_reason = StopReason::GapLimit;
  const std::string t = combined_methods_text({udp, icmp});
  EXPECT_NE(t.find(" 1  198.18.1.2 (udp-paris, icmp-paris)\n"), std::string::npos) << t;
  EXPECT_NE(t.find(" 3  198.18.3.2 (udp-paris), 198.18.4.2 (icmp-paris)\n"), std::string::npos) << t;
  EXPECT_NE(t.find(" 4  *\n"), std::string::npos) << t;
  EXPECT_NE(t.find(" 6  198.18.8.2 (udp-paris)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("icmp-paris: gaplimit after 5 hops\n"), std::string::npos) << t;
}
