// Writes frames (probes sent, replies received) to a pcap file (libpcap,
// Ethernet link type) for Wireshark/tcpdump.
#pragma once

#include <cstdint>
#include <span>
#include <string>

typedef struct pcap pcap_t;
typedef struct pcap_dumper pcap_dumper_t;

namespace hopscope {

class PcapWriter {
 public:
  // Throws std::runtime_error if the file cannot be created.
  explicit PcapWriter(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // A frame seen at Unix time unix_ns; `frame` may be cut short of `len`.
  void write(std::int64_t unix_ns, std::span<const std::uint8_t> frame, std::uint32_t len);
  // Flushes to disk; throws on a write error.
  void flush();
  [[nodiscard]] std::uint64_t frames() const { return frames_; }

 private:
  pcap_t* pcap_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  std::string path_;
  std::uint64_t frames_ = 0;
};

}  // namespace hopscope
