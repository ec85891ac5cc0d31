#include <gtest/gtest.h>

#include <string>

#include "hopscope/survey/address_table.hpp"

using namespace hopscope;
using namespace hopscope::survey;

TEST(AddressTable, InternsEachAddressOnceAcrossGrowth) {
  AddressTable t;
  auto v4 = [](int i) {
    return *IpAddress::parse("198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  };
  auto v6 = [](int i) {
    return *IpAddress::parse("2001:2::" + std::to_string(i % 10000) + ":" + std::to_string(i / 10000));
  };
  constexpr int kN = 50000;  // many doublings of the 4,096-slot start
  for (int i = 0; i < kN; i++) {
    bool fresh = false;
    ASSERT_EQ(t.intern(v4(i), fresh), static_cast<std::uint32_t>(2 * i));
    ASSERT_TRUE(fresh);
    ASSERT_EQ(t.intern(v6(i), fresh), static_cast<std::uint32_t>(2 * i + 1));
    ASSERT_TRUE(fresh);
  }
  EXPECT_EQ(t.size(), 2u * kN);
  for (int i = 0; i < kN; i += 97) {
    bool fresh = true;
    EXPECT_EQ(t.intern(v4(i), fresh), static_cast<std::uint32_t>(2 * i));
    EXPECT_FALSE(fresh) << "seen before";
    EXPECT_EQ(t.intern(v6(i), fresh), static_cast<std::uint32_t>(2 * i + 1));
    EXPECT_FALSE(fresh);
    EXPECT_EQ(t.at(static_cast<std::uint32_t>(2 * i)), v4(i));
    EXPECT_EQ(t.at(static_cast<std::uint32_t>(2 * i + 1)), v6(i));
  }
  EXPECT_EQ(t.size(), 2u * kN) << "no address added twice";
  // Every id reads back, across the chunk boundaries (256 << k addresses in chunk k).
  for (int i = 0; i < kN; i++) {
    ASSERT_EQ(t.at(static_cast<std::uint32_t>(2 * i)), v4(i)) << i;
    ASSERT_EQ(t.at(static_cast<std::uint32_t>(2 * i + 1)), v6(i)) << i;
  }
  // The same bytes in another family are another address.
  bool fresh = false;
  const IpAddress mapped = *IpAddress::parse("c612:0::");  // starts with 198.18.0.0's bytes
  t.intern(mapped, fresh);
  EXPECT_TRUE(fresh);
}
