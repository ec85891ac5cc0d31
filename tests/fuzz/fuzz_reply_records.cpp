// libFuzzer target: reply records as the XDP matcher hands them over (any
// bytes: the matcher is the first line of defence, this is the second)
// through the survey's collector, result store and every output format, and
// through the tracer's reply decoding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "hopscope/abi/matcher.h"
#include "hopscope/survey/collector.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/target_state.hpp"
#include "hopscope/survey/trace_writer.hpp"
#include "hopscope/trace/tracer.hpp"

using namespace hopscope;
using namespace hopscope::survey;

namespace {

struct Setup {
  TargetList targets;
  SurveyMeta meta;
  Setup(const char* block, const char* src, int family) {
    targets.add(block, "fuzz");
    targets.freeze();
    meta.src = *IpAddress::parse(src);
    meta.codec = ProbeCodec{family, Method::UdpParis};
  }
};

void run(Setup& s, const std::uint8_t* data, std::size_t size, Format format) {
  TargetState state{s.targets.size()};
  Collector c{s.targets, s.meta.codec, state, 1'000'000'000};
  for (std::size_t at = 0; at + sizeof(hs_reply_record) <= size; at += sizeof(hs_reply_record)) {
    hs_reply_record r;
    std::memcpy(&r, data + at, sizeof r);
    c.on_reply(r);
    (void)hop_reply_from(r, r.rx_ns / 2, 0, 0);
  }
  ResultStore store;
  store.add(c.swap_out());
  std::vector<FinishedTarget> finished;
  for (std::uint32_t t = 0; t < s.targets.size(); t++)
    finished.push_back({t, 1, static_cast<std::uint8_t>(1 + t % 40), static_cast<std::uint8_t>(t % 3), t % 5 == 0});
  SurveyMeta meta = s.meta;
  meta.format = format;
  TraceResult trace;
  std::string out;
  store.extract(finished, [&](const FinishedTarget& f, std::span<const StoredReply> replies) {
    survey_trace(trace, f, replies, c.addresses(), s.targets, state, meta);
    append_survey_trace(out, trace, meta);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static Setup v4{"198.18.0.0/28", "198.18.1.1", 4};
  static Setup v6{"2001:2::/124", "2001:2:1::1", 6};
  static constexpr Format kFormats[] = {Format::Json, Format::Csv, Format::Atlas, Format::ScamperJson, Format::Text};
  const Format f = kFormats[(data[0] >> 1) % std::size(kFormats)];
  run(data[0] & 1 ? v6 : v4, data + 1, size - 1, f);
  return 0;
}
