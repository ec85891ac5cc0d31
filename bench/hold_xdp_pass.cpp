// Attaches a pass-everything XDP program to an interface of a network
// namespace and holds it (bpf_link) until stdin closes or a signal arrives.
// A veth delivers the XDP_TX frames of its peer (the sim's responder) only
// while it runs an XDP program: this lets kernel-socket tools (scamper) in the
// sim's prober namespace receive the replies. With "sink", it drops every
// frame instead (a traffic sink for ad-hoc send-rate experiments).
#include <bpf/libbpf.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "bench_sink.skel.h"
#include "hopscope/sys/netlink.hpp"
#include "hopscope/sys/netns.hpp"

int main(int argc, char** argv) {
  const bool sink = argc == 4 && std::string(argv[3]) == "sink";
  if (argc != 3 && !sink) {
    std::fprintf(stderr, "usage: %s NETNS IFNAME [sink]   (holds until stdin closes; sink: drop instead of pass)\n",
                 argv[0]);
    return 2;
  }
  hopscope::enter_netns(argv[1]);
  hs_bench_sink* skel = hs_bench_sink__open_and_load();
  if (!skel) {
    std::perror("load");
    return 1;
  }
  const int ifindex = hopscope::ifindex_by_name(argv[2]);
  bpf_link* link = ifindex
                       ? bpf_program__attach_xdp(sink ? skel->progs.hs_bench_sink : skel->progs.hs_bench_pass, ifindex)
                       : nullptr;
  if (!link) {
    std::fprintf(stderr, "cannot attach to %s in %s\n", argv[2], argv[1]);
    hs_bench_sink__destroy(skel);
    return 1;
  }
  std::printf("attached\n");
  std::fflush(stdout);
  char c;
  while (read(STDIN_FILENO, &c, 1) > 0) {
  }
  bpf_link__destroy(link);
  hs_bench_sink__destroy(skel);
  return 0;
}
