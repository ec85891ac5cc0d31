// `hopscope survey [CIDR...] [--targets FILE]`: targets from the command
// line and/or a file (or stdin), the survey through the real transport,
// traces to stdout or -O FILE, the summary to stderr (stdout with -O). The
// CLI fills a SurveyCommand; run_survey_command() does the rest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hopscope/survey/cohorts.hpp"
#include "hopscope/survey/targets.hpp"

namespace hopscope::survey {

struct SurveyCommand {
  std::vector<std::string> cidrs;
  std::string targets_file;  // "-": stdin
  bool skip_bad = false;
  double rate = 100000;
  int max_ttl = 32;
  std::string method = "udp-paris";
  std::uint64_t seed = 1;
  std::string output;
  double wait_s = 1.0;
  std::string iface;
  std::string netns;
  bool no_preprobe = false;
  unsigned threads = 1;
  int retries = 1;
  std::size_t cohort_size = Cohorts::kDefaultSize;
  bool doubletree = false;
  std::string tx = "af_xdp";
  std::string format = "json";
  std::string asn_file;
  std::string pcap;
  std::string blocklist;  // file: prefixes never probed, on top of the default list
  std::string allowlist;  // file: only these prefixes (and they override the default list)
};

// The targets of `c` (file first, then the CIDR arguments), frozen; bad
// lines skipped with --skip-bad are reported on stderr. Throws TargetError
// on a bad target, std::runtime_error when there is none or the file is unreadable.
TargetList load_targets(const SurveyCommand& c);

// Throws UsageError for bad options, std::runtime_error / SystemError for failures.
void run_survey_command(const SurveyCommand& c);

}  // namespace hopscope::survey
