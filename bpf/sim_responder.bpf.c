// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hopscope simulated Internet: an XDP responder on the far end of a veth
 * pair. For a probe to a simulated destination it finds the router where
 * the probe's TTL expires (or the destination) in the maps of abi/sim.h and
 * rewrites the frame in place into the reply that router would send, then
 * XDP_TX. Anything else (ARP, NDP, traffic to the sim's own address) passes.
 */
#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "hopscope/abi/probe.h"
#include "hopscope/abi/sim.h"
#include "lib/csum.h"
#include "lib/headers.h"
#include "lib/sim_common.h"
#include "lib/sim_reply4.h"
#include "lib/sim_reply6.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Seed of the ECMP flow hash (the topology's seed). */
const volatile __u64 hs_sim_hash_seed = 0;

struct hs_in6 {
	__u8 b[16];
};

/* Block (address with its last byte zero) -> block index (abi/sim.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* set by the loader */
	__type(key, __u32);
	__type(value, __u32);
} hs_sim_blocks4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct hs_in6);
	__type(value, __u32);
} hs_sim_blocks6 SEC(".maps");

/* Block index * HS_SIM_BLOCK + last byte -> destination. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_sim_dest);
} hs_sim_dests SEC(".maps");

static __always_inline struct hs_sim_dest *dest_in_block(__u32 *block, __u8 last)
{
	if (!block)
		return 0;
	__u32 idx = *block * HS_SIM_BLOCK + last;
	struct hs_sim_dest *d = bpf_map_lookup_elem(&hs_sim_dests, &idx);

	return d && (d->flags & HS_SIM_D_PRESENT) ? d : 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_sim_hop);
} hs_sim_hops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_sim_router);
} hs_sim_routers SEC(".maps");

/* Per-router ICMP token bucket (kernel-side state, same index as hs_sim_routers). */
struct hs_sim_bucket {
	struct bpf_spin_lock lock;
	__u32 _pad;
	__u64 last_ns;
	__u64 nanotokens; /* tokens x 1e9 */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_sim_bucket);
} hs_sim_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HS_SIM_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} hs_sim_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HS_SIM_WIRE_SLOTS);
	__type(key, __u32);
	__type(value, struct hs_sim_wire_slot);
} hs_sim_wire SEC(".maps");

/* One more frame on the wire in this millisecond (abi/sim.h). */
static __always_inline void count_wire(void)
{
	__u64 slot = bpf_ktime_get_ns() / HS_SIM_WIRE_SLOT_NS;
	__u32 idx = (__u32)slot & (HS_SIM_WIRE_SLOTS - 1);
	struct hs_sim_wire_slot *w = bpf_map_lookup_elem(&hs_sim_wire, &idx);

	if (!w)
		return;
	if (w->slot != slot) {
		w->slot = slot;
		w->frames = 0;
	}
	w->frames += 1;
}

static __always_inline int count(__u32 idx, int action)
{
	__u64 *v = bpf_map_lookup_elem(&hs_sim_counters, &idx);

	if (v)
		*v += 1;
	return action;
}

/* Flow hash over what per-flow load balancers look at: addresses, protocol, first 4 L4 bytes. */
static __always_inline __u64 flow_hash(const __u32 *src, const __u32 *dst, int words, __u8 proto,
				       __u32 l4word)
{
	__u64 h = hs_sim_hash_seed;

	for (int i = 0; i < 4; i++) {
		if (i >= words)
			break;
		h = hs_mix64(h, ((__u64)src[i] << 32) | dst[i]);
	}
	return hs_mix64(h, ((__u64)proto << 32) | l4word);
}

/* Router that answers at hop `ttl` (1-based) of `d`, or NULL; its id in *id. */
static __always_inline struct hs_sim_router *router_at(const struct hs_sim_dest *d, __u32 ttl,
						       __u64 hash, __u32 *id)
{
	__u32 key = d->path_id * HS_SIM_MAX_HOPS + (ttl - 1);
	struct hs_sim_hop *hop = bpf_map_lookup_elem(&hs_sim_hops, &key);

	if (!hop)
		return 0;
	*id = hop->router;
	if (hop->width > 1)
		*id += (__u32)(hash % hop->width);
	return bpf_map_lookup_elem(&hs_sim_routers, id);
}

/* Token bucket: may router `id` send one more ICMP message now? */
static __always_inline int rate_allows(const struct hs_sim_router *r, __u32 id)
{
	if (!r->icmp_rate)
		return 1;
	struct hs_sim_bucket *b = bpf_map_lookup_elem(&hs_sim_buckets, &id);

	if (!b)
		return 1;
	const __u64 one = 1000000000ULL;
	__u64 now = bpf_ktime_get_ns();
	__u64 cap = (__u64)r->icmp_burst * one;
	int ok = 0;

	bpf_spin_lock(&b->lock);
	__u64 elapsed = now - b->last_ns;

	if (b->last_ns == 0 || elapsed > 10 * one) /* first use, or idle long enough to be full */
		b->nanotokens = cap;
	else
		b->nanotokens += elapsed * r->icmp_rate;
	if (b->nanotokens > cap)
		b->nanotokens = cap;
	b->last_ns = now;
	if (b->nanotokens >= one) {
		b->nanotokens -= one;
		ok = 1;
	}
	bpf_spin_unlock(&b->lock);
	return ok;
}

/* Why router `id` stays quiet (a counter index), or -1 if it answers. */
static __always_inline int router_drops(const struct hs_sim_router *r, __u32 id)
{
	if (r->flags & HS_SIM_R_SILENT)
		return HS_SIM_CNT_SILENT;
	if (r->loss && (bpf_get_prandom_u32() & 0xffff) < r->loss)
		return HS_SIM_CNT_LOST;
	if (!rate_allows(r, id))
		return HS_SIM_CNT_RATE_LIMITED;
	return -1;
}

/*
 * The router at hop `ttl` of `d` if it answers this probe, else NULL after
 * counting why not (silent, lost, rate-limited, or a map error).
 */
static __always_inline struct hs_sim_router *answering_router(const struct hs_sim_dest *d,
							      __u32 ttl, __u64 hash)
{
	__u32 rid = 0;
	struct hs_sim_router *r = router_at(d, ttl, hash, &rid);

	if (!r) {
		count(HS_SIM_CNT_ERROR, 0);
		return 0;
	}
	int why = router_drops(r, rid);

	if (why >= 0) {
		count(why, 0);
		return 0;
	}
	return r;
}

static __always_inline int handle_v4(struct xdp_md *ctx, void *data, void *end)
{
	struct iphdr *ip = HS_PTR(data, ETH_LEN, sizeof(*ip), end);

	if (!ip || ip->version != 4 || ip->ihl != 5)
		return count(HS_SIM_CNT_NOT_SIM, XDP_PASS);
	__u32 daddr = ip->daddr;
	__u32 block = daddr & bpf_htonl(0xffffff00);
	struct hs_sim_dest *d = dest_in_block(bpf_map_lookup_elem(&hs_sim_blocks4, &block),
					      bpf_ntohl(daddr) & 0xff);

	if (!d)
		return count(HS_SIM_CNT_NOT_SIM, XDP_PASS);
	__u8 ttl = ip->ttl;
	__u8 proto = ip->protocol;
	__u32 *l4 = HS_PTR(data, ETH_LEN + sizeof(*ip), 8, end);

	if (!l4 || ttl == 0)
		return count(HS_SIM_CNT_ERROR, XDP_DROP);
	__u32 s[1] = {ip->saddr}, t[1] = {daddr};
	__u64 h = flow_hash(s, t, 1, proto, l4[0]);
	struct hs_sim_router *r;

	/* A DF probe larger than a small link's MTU is refused before that link. */
	if (d->mtu_hop && ttl > d->mtu_hop && bpf_ntohs(ip->tot_len) > d->mtu &&
	    (ip->frag_off & bpf_htons(0x4000))) {
		r = answering_router(d, d->mtu_hop, h);
		if (!r)
			return XDP_DROP;
		arrival_ttl4(ip, ttl - (d->mtu_hop - 1));
		if (icmp4_error(ctx, r->addr4, HS_ICMP_DEST_UNREACH, HS_ICMP_FRAG_NEEDED, d->mtu,
				r->flags & HS_SIM_R_FULL_QUOTE, 64 - (d->mtu_hop - 1), 0, 0))
			return count(HS_SIM_CNT_ERROR, XDP_DROP);
		return count(HS_SIM_CNT_FRAG_NEEDED, XDP_TX);
	}

	if (ttl <= d->path_len) {
		r = answering_router(d, ttl, h);
		if (!r)
			return XDP_DROP;
		arrival_ttl4(ip, 1);
		if (icmp4_error(ctx, r->addr4, HS_ICMP_TIME_EXCEEDED, 0, 0,
				r->flags & HS_SIM_R_FULL_QUOTE, 64 - (ttl - 1), r->mpls_label,
				r->mpls_depth))
			return count(HS_SIM_CNT_ERROR, XDP_DROP);
		return count(HS_SIM_CNT_TIME_EXCEEDED, XDP_TX);
	}

	/* The destination. */
	if (d->reply == HS_SIM_DEST_SILENT)
		return count(HS_SIM_CNT_SILENT, XDP_DROP);
	__u8 back = 64 - d->path_len;

	if (proto == IPPROTO_ICMP) {
		struct hs_icmphdr *ic = (void *)l4;

		if (ic->type != HS_ICMP_ECHO)
			return count(HS_SIM_CNT_SILENT, XDP_DROP);
		if (echo_reply4(ctx, back))
			return count(HS_SIM_CNT_ERROR, XDP_DROP);
		return count(HS_SIM_CNT_DEST_REPLY, XDP_TX);
	}
	if (proto == IPPROTO_TCP) {
		if (tcp_reply4(ctx, d->flags & HS_SIM_D_TCP_OPEN, back, hs_sim_hash_seed))
			return count(HS_SIM_CNT_SILENT, XDP_DROP);
		return count(HS_SIM_CNT_DEST_REPLY, XDP_TX);
	}
	if (proto == IPPROTO_UDP) {
		/* Hosts quote the whole datagram (up to 576 bytes of ICMP). */
		arrival_ttl4(ip, ttl - d->path_len);
		if (icmp4_error(ctx, daddr, HS_ICMP_DEST_UNREACH, 3, 0, 1, back, 0, 0))
			return count(HS_SIM_CNT_ERROR, XDP_DROP);
		return count(HS_SIM_CNT_DEST_REPLY, XDP_TX);
	}
	return count(HS_SIM_CNT_SILENT, XDP_DROP);
}

static __always_inline int handle_v6(struct xdp_md *ctx, void *data, void *end)
{
	struct ipv6hdr *ip = HS_PTR(data, ETH_LEN, sizeof(*ip), end);

	if (!ip || ip->version != 6)
		return count(HS_SIM_CNT_NOT_SIM, XDP_PASS);
	struct hs_in6 daddr, block;

	__builtin_memcpy(&daddr, &ip->daddr, 16);
	block = daddr;
	block.b[15] = 0;
	struct hs_sim_dest *d =
		dest_in_block(bpf_map_lookup_elem(&hs_sim_blocks6, &block), daddr.b[15]);

	if (!d)
		return count(HS_SIM_CNT_NOT_SIM, XDP_PASS);
	__u8 ttl = ip->hop_limit;
	__u8 proto = ip->nexthdr;
	__u32 *l4 = HS_PTR(data, ETH_LEN + sizeof(*ip), 8, end);

	if (!l4 || ttl == 0)
		return count(HS_SIM_CNT_ERROR, XDP_DROP);
	__u32 s[4], t[4];

	__builtin_memcpy(s, &ip->saddr, 16);
	__builtin_memcpy(t, &ip->daddr, 16);
	__u64 h = flow_hash(s, t, 4, proto, l4[0]);
	struct hs_sim_router *r;
	__u32 plen = sizeof(*ip) + bpf_ntohs(ip->payload_len);

	/* IPv6 routers never fragment: a larger probe gets Packet Too Big. */
	if (d->mtu_hop && ttl > d->mtu_hop && plen > d->mtu) {
		r = answering_router(d, d->mtu_hop, h);
		if (!r)
			return XDP_DROP;
		ip->hop_limit = ttl - (d->mtu_hop - 1);
		if (icmp6_error(ctx, r->addr6, ICMPV6_PKT_TOOBIG, 0, d->mtu, 64 - (d->mtu_hop - 1),
				0, 0))
			return count(HS_SIM_CNT_ERROR, XDP_DROP);
		return count(HS_SIM_CNT_FRAG_NEEDED, XDP_TX);
	}

	if (ttl <= d->path_len) {
		r = answering_router(d, ttl, h);
		if (!r)
			return XDP_DROP;
		ip->hop_limit = 1;
		if (icmp6_error(ctx, r->addr6, ICMPV6_TIME_EXCEED, 0, 0, 64 - (ttl - 1),
				r->mpls_label, r->mpls_depth))
			return count(HS_SIM_CNT_ERROR, XDP_DROP);
		return count(HS_SIM_CNT_TIME_EXCEEDED, XDP_TX);
	}

	if (d->reply == HS_SIM_DEST_SILENT)
		return count(HS_SIM_CNT_SILENT, XDP_DROP);
	__u8 back = 64 - d->path_len;

	if (proto == IPPROTO_ICMPV6) {
		struct icmp6hdr *ic = (void *)l4;

		if (ic->icmp6_type != 128)
			return count(HS_SIM_CNT_SILENT, XDP_DROP);
		if (echo_reply6(ctx, back))
			return count(HS_SIM_CNT_ERROR, XDP_DROP);
		return count(HS_SIM_CNT_DEST_REPLY, XDP_TX);
	}
	if (proto == IPPROTO_TCP) {
		if (tcp_reply6(ctx, d->flags & HS_SIM_D_TCP_OPEN, back, hs_sim_hash_seed))
			return count(HS_SIM_CNT_SILENT, XDP_DROP);
		return count(HS_SIM_CNT_DEST_REPLY, XDP_TX);
	}
	if (proto == IPPROTO_UDP) {
		ip->hop_limit = ttl - d->path_len;
		if (icmp6_error(ctx, daddr.b, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0, back, 0,
				0))
			return count(HS_SIM_CNT_ERROR, XDP_DROP);
		return count(HS_SIM_CNT_DEST_REPLY, XDP_TX);
	}
	return count(HS_SIM_CNT_SILENT, XDP_DROP);
}

SEC("xdp")
int hs_sim_responder(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HS_PTR(data, 0, ETH_LEN, end);

	count(HS_SIM_CNT_SEEN, 0);
	count_wire();
	if (!eth)
		return count(HS_SIM_CNT_NOT_SIM, XDP_PASS);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return handle_v4(ctx, data, end);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return handle_v6(ctx, data, end);
	return count(HS_SIM_CNT_NOT_SIM, XDP_PASS);
}

/*
 * Passes everything: attached on the prober's side of the veth only while
 * `sim up` checks that the responder answers. A veth delivers frames sent
 * with XDP_TX by its peer only when it runs an XDP program (NAPI); hopscope's
 * reply matcher plays that role during traces.
 */
SEC("xdp")
int hs_sim_napi_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
