#include <fmt/format.h>

#include "hopscope/kernel/reply_matcher.hpp"
#include "hopscope/output/counters_text.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/output/trace_output.hpp"

namespace hopscope {

bool parse_format(const std::string& name, Format& out) {
  static const std::pair<const char*, Format> kNames[] = {{"text", Format::Text},
                                                          {"json", Format::Json},
                                                          {"csv", Format::Csv},
                                                          {"atlas", Format::Atlas},
                                                          {"scamper-json", Format::ScamperJson},
                                                          {"dot", Format::Dot}};
  for (const auto& [n, f] : kNames)
    if (name == n) {
      out = f;
      return true;
    }
  return false;
}

void append_trace(std::string& out, const TraceResult& r, Format f) {
  switch (f) {
    case Format::Csv: append_trace_csv(out, r); return;
    case Format::Atlas: append_trace_atlas(out, r); break;
    case Format::ScamperJson: append_trace_scamper(out, r); break;
    case Format::Json: append_trace_json(out, r); break;
    case Format::Text:
    case Format::Dot: return;
  }
  out += '\n';
}

std::string matcher_counters_text(const MatcherCounters& c) {
  std::string out;
  for (int i = 0; i < HS_CNT_MAX; i++) out += fmt::format(" {}={}", counter_name(i), c[static_cast<std::size_t>(i)]);
  return out;
}

}  // namespace hopscope
