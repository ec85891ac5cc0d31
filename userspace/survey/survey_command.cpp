#include "hopscope/survey/survey_command.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>

#include "hopscope/core/blocklist.hpp"
#include "hopscope/core/error.hpp"
#include "hopscope/io/pcap_writer.hpp"
#include "hopscope/output/asn.hpp"
#include "hopscope/survey/survey.hpp"
#include "hopscope/sys/interfaces.hpp"
#include "hopscope/sys/netns.hpp"
#include "hopscope/sys/output_file.hpp"
#include "hopscope/sys/privileges.hpp"

namespace hopscope::survey {
namespace {

SurveyOptions survey_options(const SurveyCommand& c) {
  SurveyOptions o;
  if (!parse_method(c.method, o.method) || is_tcp(o.method))
    throw UsageError("--method",
                     "must be udp, udp-paris, icmp or icmp-paris (a survey reads each reply's TTL from the "
                     "quoted probe's length, which a TCP answer does not echo)");
  o.max_ttl = c.max_ttl;
  o.rate = c.rate;
  o.seed = c.seed;
  o.wait = std::chrono::milliseconds(static_cast<long>(c.wait_s * 1000));
  o.ifname = c.iface;
  o.preprobe = !c.no_preprobe;
  o.threads = c.threads;
  o.retries = c.retries;
  o.cohort_size = c.cohort_size;
  o.doubletree = c.doubletree;
  o.tx = c.tx == "xdp-live" ? TxBackend::XdpLive : TxBackend::AfXdp;
  if (!parse_format(c.format, o.format))
    throw UsageError("--format", "'" + c.format + "' is not one of json, csv, atlas, scamper-json, text, dot");
  if (!c.pcap.empty() && o.tx == TxBackend::XdpLive)
    throw UsageError("--pcap", "needs --tx af_xdp: xdp-live probes are built in the kernel");
  o.progress = isatty(STDERR_FILENO) ? stderr : nullptr;
  return o;
}

Blocklist survey_blocklist(const SurveyCommand& c) {
  Blocklist b;
  try {
    b = Blocklist::from_files(c.blocklist, c.allowlist, !c.netns.empty());  // --netns: the lab's, the sim's
  } catch (const std::invalid_argument& e) {
    throw TargetError(e.what());
  }
  b.exclude_local(local_networks());
  return b;
}

TargetList read_targets(const SurveyCommand& c, const Blocklist& blocklist) {
  TargetList targets;
  targets.set_blocklist(&blocklist);
  if (!c.targets_file.empty()) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (c.targets_file != "-") {
      file.open(c.targets_file);
      if (!file) throw TargetError("cannot read the target file '" + c.targets_file + "'");
      in = &file;
    }
    targets.add_file(*in, c.targets_file == "-" ? "stdin" : c.targets_file, c.skip_bad);
  }
  for (const std::string& cidr : c.cidrs) targets.add(cidr, "argument '" + cidr + "'");
  targets.set_blocklist(nullptr);
  // One line per skipped line or address, the first 20 of them.
  const auto& skipped = targets.skipped();
  for (std::size_t i = 0; i < skipped.size() && i < 20; i++)
    std::fprintf(stderr, "hopscope: skipped %s\n", skipped[i].c_str());
  if (skipped.size() > 20) std::fprintf(stderr, "hopscope: skipped %zu more\n", skipped.size() - 20);
  if (targets.size() == 0 && targets.skipped_addresses())
    throw TargetError("no targets left: the blocklist took all " + std::to_string(targets.skipped_addresses()) +
                      " (reasons above; --allowlist FILE permits ranges of the default blocklist)");
  if (targets.size() == 0) throw TargetError("no targets: give CIDRs or --targets FILE");
  targets.freeze();
  return targets;
}

// SIGINT and SIGTERM are blocked in every thread of the survey (they inherit
// the mask) and taken by one that sets `stop`; a second signal ends the
// process at once.
class StopOnSignal {
 public:
  StopOnSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::jthread([this](const std::stop_token& st) {
      drop_thread_capabilities();
      const timespec tick{0, 100'000'000};
      while (!st.stop_requested()) {
        const int sig = sigtimedwait(&set_, nullptr, &tick);
        if (sig <= 0) continue;
        if (stop.exchange(true)) std::_Exit(128 + sig);
        signal_.store(sig);
      }
    });
  }
  ~StopOnSignal() {
    thread_.request_stop();
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  [[nodiscard]] int signal() const { return signal_.load(); }

  std::atomic<bool> stop{false};

 private:
  sigset_t set_{}, old_{};
  std::atomic<int> signal_{0};
  std::jthread thread_;
};

}  // namespace

// Bad targets are usage errors (exit 2): nothing has been probed.
TargetList load_targets(const SurveyCommand& c) {
  try {
    const Blocklist blocklist = survey_blocklist(c);
    return read_targets(c, blocklist);
  } catch (const TargetError& e) {
    throw UsageError("TARGETS", e.what());
  }
}

void run_survey_command(const SurveyCommand& c) {
  // Blocks of 1 MiB and more (reply batches, the store's vectors) come from
  // mmap and go back when freed. glibc raises its threshold after each such
  // free, so later batches fragment the thread arenas instead: on the 1M
  // IPv6 sim, 501 MB max RSS with the default, 428 MB with this.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  SurveyOptions o = survey_options(c);
  // In the namespace first: its own addresses are no targets.
  if (!c.netns.empty()) enter_netns(c.netns);
  const TargetList targets = load_targets(c);
  std::optional<PcapWriter> pcap;
  if (!c.pcap.empty()) {
    pcap.emplace(c.pcap);
    o.pcap = &*pcap;
  }
  std::optional<AsnTable> asn;
  if (!c.asn_file.empty()) asn = AsnTable::load_file(c.asn_file);
  o.asn = asn ? &*asn : nullptr;

  std::optional<OutputFile> file;
  std::ostream* out = &std::cout;
  if (!c.output.empty()) out = &file.emplace(c.output).stream();
  StopOnSignal interrupt;
  o.stop = &interrupt.stop;
  SurveySummary s = run_survey(targets, o, *out);
  s.skipped_targets = targets.skipped_addresses();
  out->flush();
  if (!*out) throw std::runtime_error("error writing the results");
  if (file) file->close();
  // The summary goes to stdout when the results go to a file, else to stderr.
  std::fputs(summary_text(s).c_str(), c.output.empty() ? stderr : stdout);
  if (interrupt.stop.load())
    throw Interrupted(interrupt.signal(), fmt::format("interrupted by {}: every destination was written, {} of them "
                                                      "unfinished (stop reason halted)",
                                                      interrupt.signal() == SIGTERM ? "SIGTERM" : "SIGINT", s.halted));
}

}  // namespace hopscope::survey
