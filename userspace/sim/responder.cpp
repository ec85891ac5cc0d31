#include "hopscope/sim/responder.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <map>
#include <vector>

#include "hopscope/core/error.hpp"
#include "sim_responder.skel.h"

namespace hopscope::sim {
namespace {

// Batched map updates (one syscall per chunk, not per entry).
template <class K, class V>
void update_batch(int fd, const std::vector<K>& keys, const std::vector<V>& values, const char* what) {
  constexpr std::size_t kChunk = 65536;
  for (std::size_t off = 0; off < keys.size(); off += kChunk) {
    __u32 n = static_cast<__u32>(std::min(kChunk, keys.size() - off));
    if (int err = bpf_map_update_batch(fd, &keys[off], &values[off], &n, nullptr))
      throw_errno(std::string("sim: load ") + what, err);
  }
}

// The blocks of HS_SIM_BLOCK addresses the destinations are in (abi/sim.h).
struct DestBlocks {
  std::vector<std::array<std::uint8_t, 16>> keys;  // a block's first address (IPv4: bytes 0..3), in order of index
  std::vector<__u32> of_dest;                      // the block index of each destination
};

DestBlocks dest_blocks(const Topology& t) {
  DestBlocks b;
  std::map<std::array<std::uint8_t, 16>, __u32> index;
  b.of_dest.reserve(t.dests.size());
  std::array<std::uint8_t, 16> last{};
  __u32 last_idx = 0;
  for (const Destination& d : t.dests) {
    std::array<std::uint8_t, 16> k{};
    std::memcpy(k.data(), d.addr.data(), d.addr.size());
    k[d.addr.size() - 1] = 0;
    if (b.keys.empty() || k != last) {  // a block's destinations are mostly consecutive
      auto [it, fresh] = index.emplace(k, static_cast<__u32>(b.keys.size()));
      if (fresh) b.keys.push_back(k);
      last = k;
      last_idx = it->second;
    }
    b.of_dest.push_back(last_idx);
  }
  return b;
}

SimCounters read_counters(int map_fd) {
  SimCounters out{};
  int ncpu = libbpf_num_possible_cpus();
  std::vector<std::uint64_t> v(static_cast<std::size_t>(ncpu));
  for (std::uint32_t i = 0; i < HS_SIM_CNT_MAX; i++)
    if (bpf_map_lookup_elem(map_fd, &i, v.data()) == 0)
      for (auto x : v) out[i] += x;
  return out;
}

}  // namespace

const char* sim_counter_name(int idx) {
  static const char* names[] = {"seen", "time_exceeded", "dest_reply", "frag_needed", "silent",
                                "lost", "rate_limited",  "not_sim",    "error"};
  static_assert(sizeof names / sizeof *names == HS_SIM_CNT_MAX);
  return idx >= 0 && idx < HS_SIM_CNT_MAX ? names[idx] : "?";
}

Responder::Responder(const Topology& t) {
  skel_ = hs_sim_responder__open();
  if (!skel_) throw_errno("sim: open BPF skeleton");
  try {
    const DestBlocks blocks = dest_blocks(t);
    const auto nblocks = static_cast<__u32>(std::max<std::size_t>(1, blocks.keys.size()));
    // Cannot be 0: the unused family's block map stays at one entry.
    bpf_map__set_max_entries(t.family == 4 ? skel_->maps.hs_sim_blocks4 : skel_->maps.hs_sim_blocks6, nblocks);
    bpf_map__set_max_entries(skel_->maps.hs_sim_dests, nblocks * HS_SIM_BLOCK);
    bpf_map__set_max_entries(skel_->maps.hs_sim_hops,
                             static_cast<__u32>(std::max<std::size_t>(1, t.paths.size()) * HS_SIM_MAX_HOPS));
    bpf_map__set_max_entries(skel_->maps.hs_sim_routers,
                             static_cast<__u32>(std::max<std::size_t>(1, t.routers.size())));
    bpf_map__set_max_entries(skel_->maps.hs_sim_buckets,
                             static_cast<__u32>(std::max<std::size_t>(1, t.routers.size())));
    *const_cast<__u64*>(&skel_->rodata->hs_sim_hash_seed) = t.seed;
    if (int err = hs_sim_responder__load(skel_)) throw_errno("sim: load BPF program (needs root)", err);

    std::vector<__u32> rkeys(t.routers.size());
    std::vector<hs_sim_router> rvals(t.routers.size());
    for (std::size_t i = 0; i < t.routers.size(); i++) {
      rkeys[i] = static_cast<__u32>(i);
      hs_sim_router& r = rvals[i];
      r = {};
      const Router& src = t.routers[i];
      if (src.addr.is_v4())
        std::memcpy(&r.addr4, src.addr.data(), 4);
      else
        std::memcpy(r.addr6, src.addr.data(), 16);
      r.loss = src.loss;
      r.flags = src.flags;
      r.icmp_rate = src.icmp_rate;
      r.icmp_burst = src.icmp_burst;
      r.mpls_label = src.mpls_label;
      r.mpls_depth = src.mpls_depth;
    }
    update_batch(bpf_map__fd(skel_->maps.hs_sim_routers), rkeys, rvals, "routers");

    std::vector<__u32> hkeys;
    std::vector<hs_sim_hop> hvals;
    for (std::size_t p = 0; p < t.paths.size(); p++)
      for (std::size_t h = 0; h < t.paths[p].hops.size(); h++) {
        hkeys.push_back(static_cast<__u32>(p * HS_SIM_MAX_HOPS + h));
        hvals.push_back({t.paths[p].hops[h].router, t.paths[p].hops[h].width, 0});
      }
    update_batch(bpf_map__fd(skel_->maps.hs_sim_hops), hkeys, hvals, "paths");

    std::vector<__u32> dkeys(t.dests.size());
    std::vector<hs_sim_dest> dvals(t.dests.size());
    for (std::size_t i = 0; i < t.dests.size(); i++) {
      const Destination& d = t.dests[i];
      const Path& p = t.paths[d.path];
      dkeys[i] = blocks.of_dest[i] * HS_SIM_BLOCK + d.addr.data()[d.addr.size() - 1];
      dvals[i] = {};
      dvals[i].path_id = d.path;
      dvals[i].path_len = static_cast<__u8>(p.hops.size());
      dvals[i].reply = d.reply;
      dvals[i].mtu_hop = p.mtu_hop;
      dvals[i].mtu = p.mtu;
      dvals[i].flags = static_cast<__u8>(HS_SIM_D_PRESENT | (d.tcp_open ? HS_SIM_D_TCP_OPEN : 0));
    }
    update_batch(bpf_map__fd(skel_->maps.hs_sim_dests), dkeys, dvals, "destinations");
    std::vector<__u32> bidx(blocks.keys.size());
    for (std::size_t i = 0; i < bidx.size(); i++) bidx[i] = static_cast<__u32>(i);
    if (t.family == 4) {
      std::vector<__u32> keys(blocks.keys.size());
      for (std::size_t i = 0; i < keys.size(); i++) std::memcpy(&keys[i], blocks.keys[i].data(), 4);
      update_batch(bpf_map__fd(skel_->maps.hs_sim_blocks4), keys, bidx, "destination blocks");
    } else {
      update_batch(bpf_map__fd(skel_->maps.hs_sim_blocks6), blocks.keys, bidx, "destination blocks");
    }
  } catch (...) {
    hs_sim_responder__destroy(skel_);
    throw;
  }
}

Responder::~Responder() {
  if (pass_link_) bpf_link__destroy(pass_link_);
  if (link_) bpf_link__destroy(link_);
  if (skel_) hs_sim_responder__destroy(skel_);
}

int Responder::prog_fd() const { return bpf_program__fd(skel_->progs.hs_sim_responder); }

void Responder::attach(int ifindex) {
  link_ = bpf_program__attach_xdp(skel_->progs.hs_sim_responder, ifindex);
  if (!link_) throw_errno("sim: attach XDP to ifindex " + std::to_string(ifindex));
}

void Responder::attach_napi_pass(int ifindex) {
  pass_link_ = bpf_program__attach_xdp(skel_->progs.hs_sim_napi_pass, ifindex);
  if (!pass_link_) throw_errno("sim: attach the pass program to ifindex " + std::to_string(ifindex));
}

void Responder::pin(const std::string& path) {
  if (int err = bpf_link__pin(link_, path.c_str())) throw_errno("sim: pin link at " + path, err);
}

SimCounters Responder::counters() const { return read_counters(bpf_map__fd(skel_->maps.hs_sim_counters)); }

namespace {

// A map of the pinned responder's program by name (found through its pinned link).
int pinned_map_fd(const std::string& link_path, const char* name) {
  int link_fd = bpf_obj_get(link_path.c_str());
  if (link_fd < 0) throw_errno("sim: no pinned responder at " + link_path);
  bpf_link_info li{};
  __u32 len = sizeof li;
  int err = bpf_obj_get_info_by_fd(link_fd, &li, &len);
  close(link_fd);
  if (err) throw_errno("sim: link info", err);
  int prog_fd = bpf_prog_get_fd_by_id(li.prog_id);
  if (prog_fd < 0) throw_errno("sim: responder program");
  __u32 map_ids[16] = {};
  bpf_prog_info pi{};
  pi.nr_map_ids = 16;
  pi.map_ids = reinterpret_cast<__u64>(map_ids);
  len = sizeof pi;
  err = bpf_obj_get_info_by_fd(prog_fd, &pi, &len);
  close(prog_fd);
  if (err) throw_errno("sim: program info", err);
  for (__u32 i = 0; i < pi.nr_map_ids && i < 16; i++) {
    int fd = bpf_map_get_fd_by_id(map_ids[i]);
    if (fd < 0) continue;
    bpf_map_info mi{};
    __u32 ml = sizeof mi;
    if (bpf_obj_get_info_by_fd(fd, &mi, &ml) == 0 && std::strcmp(mi.name, name) == 0) return fd;
    close(fd);
  }
  throw SystemError(ENOENT, std::string("sim: map ") + name + " not found");
}

struct Fd {
  int fd;
  ~Fd() { close(fd); }
};

}  // namespace

SimCounters pinned_counters(const std::string& link_path) {
  Fd m{pinned_map_fd(link_path, "hs_sim_counters")};
  return read_counters(m.fd);
}

std::vector<WireEntry> pinned_wire(const std::string& link_path) {
  Fd m{pinned_map_fd(link_path, "hs_sim_wire")};
  const auto ncpu = static_cast<std::size_t>(libbpf_num_possible_cpus());
  std::vector<__u32> keys(HS_SIM_WIRE_SLOTS);
  std::vector<hs_sim_wire_slot> values(HS_SIM_WIRE_SLOTS * ncpu);
  __u32 n = HS_SIM_WIRE_SLOTS, out_batch = 0;
  int err = bpf_map_lookup_batch(m.fd, nullptr, &out_batch, keys.data(), values.data(), &n, nullptr);
  if (err && errno != ENOENT) throw_errno("sim: read the wire counters");
  std::vector<WireEntry> out;
  for (std::size_t i = 0; i < std::size_t{n} * ncpu; i++)
    if (values[i].frames) out.push_back({values[i].slot, values[i].frames});
  return out;
}

void clear_pinned_wire(const std::string& link_path) {
  Fd m{pinned_map_fd(link_path, "hs_sim_wire")};
  const auto ncpu = static_cast<std::size_t>(libbpf_num_possible_cpus());
  std::vector<__u32> keys(HS_SIM_WIRE_SLOTS);
  for (__u32 i = 0; i < HS_SIM_WIRE_SLOTS; i++) keys[i] = i;
  std::vector<hs_sim_wire_slot> zeros(HS_SIM_WIRE_SLOTS * ncpu, hs_sim_wire_slot{});
  __u32 n = HS_SIM_WIRE_SLOTS;
  if (bpf_map_update_batch(m.fd, keys.data(), zeros.data(), &n, nullptr)) throw_errno("sim: clear the wire counters");
}

}  // namespace hopscope::sim
