#include "hopscope/pcap_writer.hpp"

#include <pcap/pcap.h>

#include <stdexcept>

namespace hopscope {

PcapWriter::PcapWriter(const std::string& path) : path_(path) {
  pcap_ = pcap_open_dead(DLT_EN10MB, 65535);
  if (!pcap_) throw std::runtime_error("pcap: cannot open a capture handle");
  dumper_ = pcap_dump_open(pcap_, path.c_str());
  if (!dumper_) {
    const std::string why = pcap_geterr(pcap_);
    pcap_close(pcap_);
    throw std::runtime_error("pcap: cannot write '" + path + "': " + why);
  }
}

PcapWriter::~PcapWriter() {
  if (dumper_) pcap_dump_close(dumper_);
  if (pcap_) pcap_close(pcap_);
}

void PcapWriter::write(std::int64_t unix_ns, std::span<const std::uint8_t> frame, std::uint32_t len) {
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(unix_ns / 1'000'000'000);
  h.ts.tv_usec = static_cast<suseconds_t>(unix_ns % 1'000'000'000 / 1000);
  h.caplen = static_cast<bpf_u_int32>(frame.size());
  h.len = std::max<bpf_u_int32>(len, h.caplen);
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, frame.data());
  frames_++;
}

void PcapWriter::flush() {
  if (pcap_dump_flush(dumper_) != 0) throw std::runtime_error("pcap: error writing '" + path_ + "'");
}

}  // namespace hopscope
