// Survey targets: addresses and CIDR blocks from a file (one per line, '#'
// comments) and/or the command line, kept as blocks — never expanded into an
// array: target i is computed from the blocks.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hopscope/core/blocklist.hpp"
#include "hopscope/core/prefix.hpp"

namespace hopscope::survey {

// A bad line: the message names the source and the line number.
class TargetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TargetList {
 public:
  // Largest number of targets one survey accepts (2^28 = 268M: the survey
  // keeps 5 bytes of state per target, ~1.3 GB at this size).
  static constexpr std::uint64_t kMaxTargets = 1ull << 28;

  // Longest line of a target file.
  static constexpr std::size_t kMaxLine = 1024;

  // Adds "ADDR" or "ADDR/LEN"; throws TargetError with `where` in the message.
  // What the blocklist (if set) does not permit is left out of the block, each
  // reason recorded in skipped() with its number of addresses.
  void add(std::string_view text, const std::string& where);
  // Applied by add() from now on; must outlive the list's construction.
  void set_blocklist(const Blocklist* b) { blocklist_ = b; }
  // Reads a target file. With skip_bad, bad lines are recorded in skipped()
  // instead of throwing. Lines are at most kMaxLine bytes; binary data (a NUL
  // byte) ends the file with a TargetError even with skip_bad.
  void add_file(std::istream& in, const std::string& name, bool skip_bad);

  [[nodiscard]] std::uint64_t size() const { return count_; }
  [[nodiscard]] int family() const { return family_; }  // 0 while empty
  [[nodiscard]] const std::vector<Prefix>& blocks() const { return blocks_; }
  [[nodiscard]] const std::vector<std::string>& skipped() const { return skipped_; }
  [[nodiscard]] std::uint64_t skipped_addresses() const { return skipped_addresses_; }  // by the blocklist
  // The i-th target (0 <= i < size()): arithmetic for one block, an array
  // read for a list of single addresses, else a search of the block starts.
  [[nodiscard]] IpAddress at(std::uint64_t i) const;
  // Sorts the lookup index and refuses overlapping blocks (TargetError): after
  // it, every target has exactly one index. Call once all targets are added.
  void freeze();
  // Index of `addr` among the targets (after freeze()): arithmetic for one
  // block, a flat hash table for a list of single addresses, else a binary
  // search over the blocks' bounds as 128-bit integers.
  [[nodiscard]] std::optional<std::uint64_t> index_of(const IpAddress& addr) const;
  // The most slots index_of() looks at to find a target of a list of blocks
  // of one size (its hash table's longest probe), 0 for other lists.
  [[nodiscard]] std::uint64_t longest_probe() const { return longest_probe_; }

 private:
  __extension__ typedef unsigned __int128 U128;
  static U128 value_of(const IpAddress& a);  // the address as a number (IPv4: its 32 bits)
  [[nodiscard]] IpAddress address_of(U128 v) const;

  std::vector<Prefix> blocks_;
  std::vector<std::uint64_t> starts_;  // index of each block's first target
  // After freeze(): the blocks' bounds sorted by base, and each one's first index.
  std::vector<U128> lo_, hi_;
  std::vector<std::uint64_t> lo_start_;
  std::vector<U128> base_value_;  // per block (insertion order): its base as a number
  // Blocks all of one size 2^uniform_bits_ (single addresses, a hitlist of
  // /24s or /120s): target i is in block i >> bits, so at() is arithmetic, and
  // index_of() finds a block by base >> bits in an open-addressing table of
  // block numbers (empty slot: ~0) instead of a binary search.
  bool uniform_ = false;
  unsigned uniform_bits_ = 0;
  std::vector<std::uint64_t> slots_;
  std::uint64_t longest_probe_ = 0;
  std::uint64_t slot_mask_ = 0;
  std::vector<std::string> skipped_;
  const Blocklist* blocklist_ = nullptr;
  std::uint64_t skipped_addresses_ = 0;
  std::uint64_t count_ = 0;
  int family_ = 0;
};

}  // namespace hopscope::survey
