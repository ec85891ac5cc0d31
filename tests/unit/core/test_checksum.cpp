#include <gtest/gtest.h>

#include <random>

#include "hopscope/core/checksum.hpp"
#include "support/reference_checksum.hpp"

using namespace hopscope;

TEST(Checksum, MatchesReferenceOnRandomBuffers) {
  std::mt19937 rng(42);
  for (int len = 0; len < 300; len++) {
    std::vector<std::uint8_t> b(static_cast<std::size_t>(len));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    EXPECT_EQ(csum::finish(csum::add(0, b)), test::reference_checksum(b)) << "len " << len;
  }
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to 0xddf2 (folded).
  std::vector<std::uint8_t> b = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(csum::fold(csum::add(0, b)), 0xddf2);
}

TEST(Checksum, OnesComplementArithmetic) {
  EXPECT_EQ(csum::ones_add(0xffff, 0x0001), 0x0001);
  EXPECT_EQ(csum::ones_add(0x8000, 0x8000), 0x0001);
  EXPECT_EQ(csum::ones_sub(0x0001, 0x0001), 0xffff);
  for (std::uint32_t a = 1; a < 0x10000; a += 977)
    for (std::uint32_t b = 0; b < 0x10000; b += 1231) {
      auto s = csum::ones_add(static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b));
      EXPECT_EQ(csum::fold(csum::ones_sub(s, static_cast<std::uint16_t>(b))), csum::fold(a));
    }
}

TEST(Checksum, FixupWordMakesPacketValid) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; i++) {
    std::vector<std::uint8_t> b(20);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    b[10] = b[11] = 0;  // the free slot
    std::uint16_t w = csum::fixup_word(csum::add(0, b));
    b[10] = static_cast<std::uint8_t>(w >> 8);
    b[11] = static_cast<std::uint8_t>(w);
    EXPECT_EQ(test::reference_checksum(b), 0) << "packet must sum to 0xffff";
  }
}
