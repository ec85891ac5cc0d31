// BPF_PROG_RUN test of the lab's rehash tc program: it passes every packet
// (TC_ACT_OK) and leaves it unchanged; dropping the skb hash it arrived with
// is what the e2e diamond test (WatchLab.ProbesFollowTheAppsOwnBranch...) sees.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include <memory>

#include "lab_rehash.skel.h"
#include "support/privileges.hpp"
#include "support/reply_builder.hpp"

using namespace hopscope;

TEST(LabRehash, PassesEveryPacketUnchanged) {
  HS_REQUIRE_ROOT();
  std::unique_ptr<hs_lab_rehash, decltype(&hs_lab_rehash__destroy)> skel(hs_lab_rehash__open_and_load(),
                                                                         &hs_lab_rehash__destroy);
  ASSERT_TRUE(skel);
  for (test::Bytes frame :
       {test::plain_udp(*IpAddress::parse("198.18.1.1"), *IpAddress::parse("198.18.8.2"), 41000, 53),
        test::tcp_segment(*IpAddress::parse("2001:2:0:1::1"), *IpAddress::parse("2001:2:0:8::2"), 41000, 443, 0x10, 1,
                          1, 64)}) {
    test::Bytes out(frame.size() + 64);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
                .data_size_in = static_cast<__u32>(frame.size()), .data_size_out = static_cast<__u32>(out.size()),
                .repeat = 1);
    ASSERT_EQ(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.hs_lab_rehash), &opts), 0);
    EXPECT_EQ(opts.retval, static_cast<__u32>(TC_ACT_OK));
    out.resize(opts.data_size_out);
    EXPECT_EQ(out, frame);
  }
}
