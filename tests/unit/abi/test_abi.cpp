#include <gtest/gtest.h>

#include <cstddef>

#include "hopscope/abi/counters.h"
#include "hopscope/abi/matcher.h"

// The record crosses the kernel/user boundary: its layout is the contract.
TEST(Abi, ReplyRecordLayout) {
  EXPECT_EQ(sizeof(hs_reply_record), 80u);
  EXPECT_EQ(offsetof(hs_reply_record, rx_ns), 0u);
  EXPECT_EQ(offsetof(hs_reply_record, responder), 8u);
  EXPECT_EQ(offsetof(hs_reply_record, probe_dst), 24u);
  EXPECT_EQ(offsetof(hs_reply_record, seq), 40u);
  EXPECT_EQ(offsetof(hs_reply_record, flow), 42u);
  EXPECT_EQ(offsetof(hs_reply_record, mtu), 44u);
  EXPECT_EQ(offsetof(hs_reply_record, family), 48u);
  EXPECT_EQ(offsetof(hs_reply_record, quote_bytes), 56u);
  EXPECT_EQ(offsetof(hs_reply_record, flags), 58u);
  EXPECT_EQ(offsetof(hs_reply_record, reply_tos), 59u);
  EXPECT_EQ(offsetof(hs_reply_record, reply_len), 60u);
  EXPECT_EQ(offsetof(hs_reply_record, reply_ipid), 62u);
  EXPECT_EQ(offsetof(hs_reply_record, mpls), 64u);
  EXPECT_EQ(offsetof(hs_reply_record, mpls_count), 76u);
  EXPECT_EQ(sizeof(hs_reply_record), 80u);
}

TEST(Abi, MatcherConfigLayout) {
  EXPECT_EQ(sizeof(hs_matcher_config), 40u);
  EXPECT_EQ(offsetof(hs_matcher_config, src4), 32u);
  EXPECT_EQ(offsetof(hs_matcher_config, udp_sport_base), 16u);
  EXPECT_EQ(offsetof(hs_matcher_config, wakeup_bytes), 24u);
  EXPECT_EQ(offsetof(hs_matcher_config, capture_bytes), 28u);
  EXPECT_EQ(HS_CNT_MAX, 8);  // bad_checksum last: the others keep their index
  EXPECT_EQ(sizeof(hs_capture), 16u + HS_CAPTURE_MAX);
}

TEST(Abi, ValidationDependsOnEveryInput) {
  hs_key k{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  __u32 s[4] = {0x010212c6, 0, 0, 0}, d[4] = {0x020812c6, 0, 0, 0};
  const __u16 base = hs_validation(&k, s, d, 1, 0, 100);
  EXPECT_NE(base, 0);
  EXPECT_NE(hs_validation(&k, s, d, 2, 0, 100), base);
  EXPECT_NE(hs_validation(&k, s, d, 1, 1, 100), base);
  EXPECT_NE(hs_validation(&k, s, d, 1, 0, 101), base);
  __u32 d2[4] = {0x030812c6, 0, 0, 0};
  EXPECT_NE(hs_validation(&k, s, d2, 1, 0, 100), base);
  hs_key k2 = k;
  k2.k1 ^= 1;
  EXPECT_NE(hs_validation(&k2, s, d, 1, 0, 100), base);
}
