// `hopscope watch` output: NDJSON objects (`flow`, `path`, `path_change`)
// and the live terminal table. Schema: README "hopscope watch".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "hopscope/watch/watch_engine.hpp"

namespace hopscope::watch {

// TCP state name as the kernel numbers them ("established", "syn_sent", ... "close"); "" for 0.
const char* tcp_state_name(std::uint8_t state);

// {"type":"flow",...}: one flow's totals since it started (cumulative).
// unix_minus_mono_ns turns the kernel's stamps into Unix time.
std::string flow_json(const Flow& f, std::int64_t unix_minus_mono_ns);
// {"type":"path","dport":..,"proto":..,"kernel":{..}, then every field of `hopscope trace -o json`}.
std::string path_json(const DestKey& d, const TraceResult& r, const DestTotals& kernel);
// {"type":"path_change","ts_ms":..,"dst":..,"dport":..,"proto":..,"length_before":..,"length_after":..,"hops":[..]}.
std::string path_change_json(const DestKey& d, const PathChange& c, std::int64_t ts_ms);

// "path change to 198.18.8.2 tcp/80: hop 3 198.18.3.2 -> 198.18.4.2"
std::string path_change_text(const DestKey& d, const PathChange& c);
// The hop that looks worst: the highest loss among hops that answered, then the highest average RTT; -1 if none.
int worst_hop_index(const TraceResult& r);
// The live table: one line per selected destination, ranked.
std::string watch_table_text(const std::vector<DestRow>& rows, std::uint64_t now_ns);

// Writes watch events to a stream: NDJSON (`json`), or text — on a terminal
// a live table redrawn every tick with the latest events under it; otherwise
// each path as a `trace --report` table, path changes as lines, and the
// destination table every interval.
class StreamSink final : public WatchSink {
 public:
  enum class Format { Text, Json };
  StreamSink(std::FILE* out, Format format, bool live, std::string title);

  void on_flows(const std::vector<Flow>& flows) override;
  void on_path(const DestKey& d, const TraceResult& r, const DestTotals& kernel) override;
  void on_path_change(const DestKey& d, const PathChange& c, const TraceResult& after) override;
  void on_tick(const std::vector<DestRow>& rows) override;
  void on_trace_error(const DestKey& d, const std::string& what) override;
  void on_slip(const DestKey& d, double late_s, double interval_s) override;

 private:
  void note(std::string line);  // an event line (live: kept under the table)

  std::FILE* out_;
  Format format_;
  bool live_;
  std::string title_;
  std::int64_t offset_ns_;
  std::vector<DestRow> rows_;
  std::vector<std::string> notes_;
};

}  // namespace hopscope::watch
