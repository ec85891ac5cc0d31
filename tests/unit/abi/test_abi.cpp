#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <random>

#include "hopscope/abi/counters.h"
#include "hopscope/abi/matcher.h"
#include "hopscope/abi/probe.h"

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

// The MAC is SipHash-2-4 over the documented 40-byte message: libsodium's
// reference implementation gives the same 64 bits, for random keys and inputs.
TEST(Abi, MacIsSipHash24OfTheDocumentedMessage) {
  ASSERT_GE(sodium_init(), 0);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; i++) {
    hs_key k{rng(), rng()};
    __u32 s[4], d[4];
    for (auto& w : s) w = static_cast<__u32>(rng());
    for (auto& w : d) w = static_cast<__u32>(rng());
    const auto method = static_cast<__u8>(rng());
    const auto flow = static_cast<__u16>(rng());
    const auto seq = static_cast<__u16>(rng()), len = static_cast<__u16>(rng());
    std::array<unsigned char, 40> msg{};
    std::memcpy(msg.data(), s, 16);  // the words as they sit in the packet
    std::memcpy(msg.data() + 16, d, 16);
    const std::uint64_t meta = std::uint64_t{method} << 48 | std::uint64_t{flow} << 32 | std::uint64_t{seq} << 16 | len;
    for (int b = 0; b < 8; b++) msg[32 + b] = static_cast<unsigned char>(meta >> (8 * b));  // little-endian
    std::array<unsigned char, 16> key{};
    for (int b = 0; b < 8; b++) {
      key[b] = static_cast<unsigned char>(k.k0 >> (8 * b));
      key[8 + b] = static_cast<unsigned char>(k.k1 >> (8 * b));
    }
    std::array<unsigned char, 8> out{};
    crypto_shorthash_siphash24(out.data(), msg.data(), msg.size(), key.data());
    std::uint64_t want = 0;
    for (int b = 0; b < 8; b++) want |= std::uint64_t{out[b]} << (8 * b);
    ASSERT_EQ(hs_mac(&k, s, d, method, flow, seq, len), want) << "case " << i;
  }
}

TEST(Abi, MacDependsOnEveryInput) {
  hs_key k{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  __u32 s[4] = {0x010212c6, 0, 0, 0}, d[4] = {0x020812c6, 0, 0, 0};
  const __u64 base = hs_mac(&k, s, d, 1, 0, 100, 60);
  EXPECT_NE(hs_mac_val(base), 0);
  EXPECT_NE(hs_mac_tag(base), 0u);
  EXPECT_NE(hs_mac(&k, s, d, 2, 0, 100, 60), base);
  EXPECT_NE(hs_mac(&k, s, d, 1, 1, 100, 60), base);
  EXPECT_NE(hs_mac(&k, s, d, 1, 0, 101, 60), base);
  EXPECT_NE(hs_mac(&k, s, d, 1, 0, 100, 62), base) << "a survey's TTL rides in the length";
  __u32 d2[4] = {0x030812c6, 0, 0, 0};
  EXPECT_NE(hs_mac(&k, s, d2, 1, 0, 100, 60), base);
  __u32 s2[4] = {0x010212c6, 0, 0, 1};
  EXPECT_NE(hs_mac(&k, s2, d, 1, 0, 100, 60), base);
  hs_key k2 = k;
  k2.k1 ^= 1;
  EXPECT_NE(hs_mac(&k2, s, d, 1, 0, 100, 60), base);
  EXPECT_EQ(hs_mac_from(hs_mac_src(&k, s), d, 1, 0, 100, 60), base) << "the generator's precomputed state";
}
