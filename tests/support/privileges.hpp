// Skips a test (with the reason) when it needs root or a kernel feature.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#define HS_REQUIRE_ROOT()                                                       \
  do {                                                                          \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_BPF / CAP_NET_ADMIN)"; \
  } while (0)
