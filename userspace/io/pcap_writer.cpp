#include "hopscope/io/pcap_writer.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "hopscope/sys/output_file.hpp"

namespace hopscope {

PcapWriter::PcapWriter(const std::string& path) : path_(path) {
  pcap_ = pcap_open_dead(DLT_EN10MB, 65535);
  if (!pcap_) throw std::runtime_error("pcap: cannot open a capture handle");
  FILE* f = nullptr;
  try {
    f = open_output_file(path);
  } catch (...) {
    pcap_close(pcap_);
    throw;
  }
  dumper_ = pcap_dump_fopen(pcap_, f);
  if (!dumper_) {
    std::fclose(f);
    const std::string why = pcap_geterr(pcap_);
    pcap_close(pcap_);
    throw std::runtime_error("pcap: cannot write '" + path + "': " + why);
  }
}

PcapWriter::~PcapWriter() {
  if (dumper_) {
    std::lock_guard lk(mu_);
    release(0);  // whatever still waits (flush() would have thrown on an error)
    pcap_dump_close(dumper_);
  }
  if (pcap_) pcap_close(pcap_);
}

void PcapWriter::dump(const PcapFrame& f) {
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(f.unix_ns / 1'000'000'000);
  h.ts.tv_usec = static_cast<suseconds_t>(f.unix_ns % 1'000'000'000 / 1000);
  h.caplen = f.caplen;
  h.len = std::max<std::uint32_t>(f.len, f.caplen);
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, f.data.data());
  if (f.unix_ns < last_written_ns_) out_of_order_++;
  last_written_ns_ = std::max(last_written_ns_, f.unix_ns);
  frames_++;
}

void PcapWriter::add(std::int64_t unix_ns, const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len) {
  if (slots_.empty()) {  // the first frame: the window's memory, once
    slots_.resize(kWindow);
    free_.reserve(kWindow);
    for (std::uint32_t i = kWindow; i > 0; i--) free_.push_back(i - 1);
    waiting_.reserve(kWindow);
  }
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  waiting_.emplace_back(unix_ns, slot);
  PcapFrame& f = slots_[slot];
  f.unix_ns = unix_ns;
  f.len = len;
  f.caplen = static_cast<std::uint16_t>(std::min<std::size_t>(caplen, PcapFrame::kMaxBytes));
  std::memcpy(f.data.data(), data, f.caplen);
  if (waiting_.size() >= kWindow) release(kWindow / 2);
}

void PcapWriter::release(std::size_t keep) {
  // Stable on time: frames of one instant keep their arrival order.
  std::stable_sort(waiting_.begin(), waiting_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::size_t n = waiting_.size() > keep ? waiting_.size() - keep : 0;
  for (std::size_t i = 0; i < n; i++) {
    dump(slots_[waiting_[i].second]);
    free_.push_back(waiting_[i].second);
  }
  waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<std::ptrdiff_t>(n));
}

void PcapWriter::write(std::int64_t unix_ns, std::span<const std::uint8_t> frame, std::uint32_t len) {
  std::lock_guard lk(mu_);
  add(unix_ns, frame.data(), static_cast<std::uint32_t>(frame.size()), len);
}

void PcapWriter::write(std::span<const PcapFrame> frames) {
  std::lock_guard lk(mu_);
  for (const PcapFrame& f : frames) add(f.unix_ns, f.data.data(), f.caplen, f.len);
}

void PcapWriter::flush() {
  std::lock_guard lk(mu_);
  release(0);
  if (pcap_dump_flush(dumper_) != 0) throw std::runtime_error("pcap: error writing '" + path_ + "'");
}

std::uint64_t PcapWriter::out_of_order() const {
  std::lock_guard lk(mu_);
  return out_of_order_;
}

std::uint64_t PcapWriter::frames() const {
  std::lock_guard lk(mu_);
  return frames_;
}

void PcapBatch::add(std::int64_t unix_ns, std::span<const std::uint8_t> frame, std::uint32_t len) {
  PcapFrame& f = frames_[n_++];
  f.unix_ns = unix_ns;
  f.len = len;
  f.caplen = static_cast<std::uint16_t>(std::min(frame.size(), PcapFrame::kMaxBytes));
  std::memcpy(f.data.data(), frame.data(), f.caplen);
  if (n_ == frames_.size()) flush();
}

void PcapBatch::flush() {
  if (!n_) return;
  w_.write(std::span(frames_.data(), n_));
  n_ = 0;
}

}  // namespace hopscope
