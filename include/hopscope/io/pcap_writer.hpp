// Writes frames (probes sent, replies received) to a pcap file (libpcap,
// Ethernet link type) for Wireshark/tcpdump, in time order. Several threads
// may write: a survey's senders and its receiving thread each collect frames
// in a PcapBatch and write them under one lock per batch. Probes are written
// when they are sent, replies when their copies are read from the capture
// ring, so frames come in out of order: they wait in a window of kWindow
// frames, sorted by time, and the oldest half goes to the file when it is
// full (the rest at flush()). A frame older than one already in the file
// (more than ~kWindow/2 frames late) is written anyway and counted.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

typedef struct pcap pcap_t;
typedef struct pcap_dumper pcap_dumper_t;

namespace hopscope {

// One frame waiting in a batch: its first kMaxBytes bytes.
struct PcapFrame {
  static constexpr std::size_t kMaxBytes = 256;
  std::int64_t unix_ns = 0;
  std::uint32_t len = 0;  // the frame's real length
  std::uint16_t caplen = 0;
  std::array<std::uint8_t, kMaxBytes> data;
};

class PcapWriter {
 public:
  // Throws std::runtime_error if the file cannot be created.
  explicit PcapWriter(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // A frame seen at Unix time unix_ns; `frame` may be cut short of `len`.
  void write(std::int64_t unix_ns, std::span<const std::uint8_t> frame, std::uint32_t len);
  void write(std::span<const PcapFrame> frames);  // one lock for all
  // Writes every frame still waiting, flushes to disk; throws on a write error.
  void flush();
  [[nodiscard]] std::uint64_t frames() const;
  // Frames written after a later one (came more than the window late).
  [[nodiscard]] std::uint64_t out_of_order() const;

  static constexpr std::size_t kWindow = 16384;  // 4.5 MB of frames

 private:
  void add(std::int64_t unix_ns, const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len);
  void release(std::size_t keep);  // writes all but the newest `keep` waiting frames
  void dump(const PcapFrame& f);

  mutable std::mutex mu_;
  // The window: frames stay in their slots; only (time, slot) pairs are sorted.
  std::vector<PcapFrame> slots_;
  std::vector<std::uint32_t> free_;
  std::vector<std::pair<std::int64_t, std::uint32_t>> waiting_;
  std::int64_t last_written_ns_ = 0;
  std::uint64_t out_of_order_ = 0;
  pcap_t* pcap_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  std::string path_;
  std::uint64_t frames_ = 0;
};

// Frames of one thread on their way to a PcapWriter: written when 64 are
// collected, on flush() and on destruction. No allocation.
class PcapBatch {
 public:
  explicit PcapBatch(PcapWriter& w) : w_(w) {}
  ~PcapBatch() { flush(); }
  PcapBatch(const PcapBatch&) = delete;
  PcapBatch& operator=(const PcapBatch&) = delete;

  void add(std::int64_t unix_ns, std::span<const std::uint8_t> frame, std::uint32_t len);
  void flush();

 private:
  PcapWriter& w_;
  std::array<PcapFrame, 64> frames_;
  std::size_t n_ = 0;
};

}  // namespace hopscope
