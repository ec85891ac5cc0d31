// PcapWriter: frames come in out of order (probes when sent, replies when
// their copies are read); the file is in time order, read back with libpcap.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hopscope/io/pcap_writer.hpp"

namespace {

std::vector<std::int64_t> stamps_us(const std::string& file) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(file.c_str(), err);
  std::vector<std::int64_t> out;
  if (!p) return out;
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1) out.push_back(std::int64_t{h->ts.tv_sec} * 1'000'000 + h->ts.tv_usec);
  pcap_close(p);
  return out;
}

const std::int64_t kT0 = 1'795'331'296'000'000'000;  // Unix ns

}  // namespace

TEST(PcapWriter, WritesFramesInTimeOrder) {
  const std::string file = "/tmp/hopscope-unit-" + std::to_string(getpid()) + ".pcap";
  std::array<std::uint8_t, 60> frame{};
  {
    hopscope::PcapWriter w(file);
    // A trace: 20 probes 1 ms apart, then the 20 replies (100 us after each) as the capture ring gives them.
    for (int i = 0; i < 20; i++) w.write(kT0 + i * 1'000'000, frame, 60);
    for (int i = 0; i < 20; i++) w.write(kT0 + i * 1'000'000 + 100'000, frame, 88);
    w.flush();
    EXPECT_EQ(w.frames(), 40u);
    EXPECT_EQ(w.out_of_order(), 0u);
  }
  const auto ts = stamps_us(file);
  ASSERT_EQ(ts.size(), 40u);
  for (std::size_t i = 1; i < ts.size(); i++) EXPECT_LE(ts[i - 1], ts[i]) << "frame " << i;
  EXPECT_EQ(ts[1] - ts[0], 100) << "each probe, then its reply";
  std::remove(file.c_str());
}

TEST(PcapWriter, AFrameLaterThanTheWindowIsWrittenAndCounted) {
  const std::string file = "/tmp/hopscope-unit-late-" + std::to_string(getpid()) + ".pcap";
  std::array<std::uint8_t, 60> frame{};
  {
    hopscope::PcapWriter w(file);
    for (std::size_t i = 0; i < 2 * hopscope::PcapWriter::kWindow; i++)
      w.write(kT0 + static_cast<std::int64_t>(i) * 1000, frame, 60);
    w.write(kT0, frame, 60);  // as old as the first, long written
    w.flush();
    EXPECT_EQ(w.frames(), 2 * hopscope::PcapWriter::kWindow + 1);
    EXPECT_EQ(w.out_of_order(), 1u);
  }
  EXPECT_EQ(stamps_us(file).size(), 2 * hopscope::PcapWriter::kWindow + 1) << "nothing lost";
  std::remove(file.c_str());
}

TEST(PcapWriter, WhatStillWaitsIsWrittenOnDestruction) {
  const std::string file = "/tmp/hopscope-unit-dtor-" + std::to_string(getpid()) + ".pcap";
  std::array<std::uint8_t, 60> frame{};
  {
    hopscope::PcapWriter w(file);
    w.write(kT0 + 5, frame, 60);
    w.write(kT0, frame, 60);
  }
  EXPECT_EQ(stamps_us(file).size(), 2u);
  std::remove(file.c_str());
}
