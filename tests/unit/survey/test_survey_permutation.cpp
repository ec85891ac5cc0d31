#include <gtest/gtest.h>

#include <vector>

#include "hopscope/survey/permutation.hpp"

using hopscope::survey::Permutation;

TEST(Permutation, EveryIndexExactlyOnce) {
  for (std::uint64_t n : {1ull, 2ull, 3ull, 5ull, 64ull, 100ull, 1000ull, 12345ull, 131072ull * 3}) {
    Permutation p(n, 7);
    std::vector<bool> seen(n, false);
    for (std::uint64_t i = 0; i < n; i++) {
      const std::uint64_t v = p.at(i);
      ASSERT_LT(v, n);
      ASSERT_FALSE(seen[v]) << "n=" << n << " value " << v << " twice";
      seen[v] = true;
    }
  }
}

TEST(Permutation, SeedReproducibleAndShuffled) {
  Permutation a(10000, 42), b(10000, 42), c(10000, 43);
  std::size_t same_as_c = 0, fixed_points = 0, adjacent = 0;
  for (std::uint64_t i = 0; i < 10000; i++) {
    ASSERT_EQ(a.at(i), b.at(i));
    same_as_c += a.at(i) == c.at(i);
    fixed_points += a.at(i) == i;
    if (i && (a.at(i) == a.at(i - 1) + 1)) adjacent++;
  }
  EXPECT_LT(same_as_c, 20u) << "another seed, another order";
  EXPECT_LT(fixed_points, 20u);
  EXPECT_LT(adjacent, 20u) << "consecutive outputs are not consecutive targets";
}
