/* SPDX-License-Identifier: MIT */
/*
 * Simulated Internet: the maps the XDP responder reads (filled by
 * `hopscope sim up` from the topology generator).
 *
 *   dest map (per family):  destination address -> hs_sim_dest
 *   hs_sim_hops:            path_id * HS_SIM_MAX_HOPS + (ttl - 1) -> hs_sim_hop
 *   hs_sim_routers:         router id -> hs_sim_router
 *
 * A probe with TTL t to a destination whose path has n routers expires at
 * router t (t <= n) or reaches the destination (t > n). At an ECMP hop of
 * width w the router is hop.router + flow_hash % w, with the same hash at
 * every hop of a path, so parallel branches stay parallel.
 */
#ifndef HOPSCOPE_ABI_SIM_H
#define HOPSCOPE_ABI_SIM_H

#include "types.h"

#define HS_SIM_MAX_HOPS 32

/* How the destination answers (hs_sim_dest.reply). */
enum hs_sim_dest_reply {
	HS_SIM_DEST_ANSWERS =
		0, /* Echo Reply to ICMP, Port Unreachable to UDP, RST or SYN-ACK to TCP */
	HS_SIM_DEST_SILENT = 1, /* never answers */
};

/* Destination flags (hs_sim_dest.flags). */
#define HS_SIM_D_TCP_OPEN 0x01 /* answers a TCP SYN on any port with SYN-ACK (else RST) */
#define HS_SIM_D_PRESENT  0x80 /* a destination (unset: a hole in its block) */

/* Destinations are found in two steps: the block of 256 addresses they are
 * in (the address with its last byte zero: a /24 or a /120) gives, through a
 * small hash map (cache-resident), the block's index; the last byte then
 * indexes hs_sim_dests, an array of HS_SIM_BLOCK entries per block (one
 * large hash map cost ~400 ns of cache and TLB misses per probe in a VM). */
#define HS_SIM_BLOCK 256

struct hs_sim_dest {
	__u32 path_id;
	__u8 path_len; /* routers before the destination: it is at TTL path_len + 1 */
	__u8 reply;    /* enum hs_sim_dest_reply */
	__u8 mtu_hop;  /* 0: no small link; else the router (1-based) before the small link */
	__u8 flags;    /* HS_SIM_D_* */
	__u16 mtu;     /* MTU of that link */
	__u16 _pad2;
};
HS_STATIC_ASSERT(sizeof(struct hs_sim_dest) == 12, "hs_sim_dest layout");

struct hs_sim_hop {
	__u32 router; /* first router id of this hop */
	__u16 width;  /* 1, or the ECMP width (routers router .. router + width - 1) */
	__u16 _pad;
};
HS_STATIC_ASSERT(sizeof(struct hs_sim_hop) == 8, "hs_sim_hop layout");

/* Router flags. */
#define HS_SIM_R_SILENT 0x01 /* never sends ICMP */
#define HS_SIM_R_FULL_QUOTE                                                                        \
	0x02 /* quotes the whole probe (up to 512 bytes) instead of IP header + 8 */

struct hs_sim_router {
	__u8 addr6[16]; /* IPv6 interface address */
	__u32 addr4;	/* IPv4 interface address (network order) */
	__u16 loss;	/* probability of ignoring a probe, in 1/65536 */
	__u8 flags;	/* HS_SIM_R_* */
	__u8 _pad;
	__u32 icmp_rate;  /* ICMP messages per second this router sends at most; 0 = no limit */
	__u32 icmp_burst; /* token-bucket depth (messages) */
	__u32 mpls_label; /* top label of the stack its Time Exceeded reports (RFC 4950) */
	__u8 mpls_depth;  /* 0: no MPLS extension; 1 or 2 labels (the second is mpls_label + 1) */
	__u8 _pad2[3];
};
HS_STATIC_ASSERT(sizeof(struct hs_sim_router) == 40, "hs_sim_router layout");

/* RFC 4884: an ICMP message with extensions pads the quote to this many bytes. */
#define HS_SIM_EXT_QUOTE 128

/* Responder counters (per CPU). */
enum hs_sim_counter {
	HS_SIM_CNT_SEEN = 0,
	HS_SIM_CNT_TIME_EXCEEDED,
	HS_SIM_CNT_DEST_REPLY,	/* echo reply / port unreachable / TCP reply from the destination */
	HS_SIM_CNT_FRAG_NEEDED, /* Frag Needed / Packet Too Big */
	HS_SIM_CNT_SILENT,	/* a silent router or destination swallowed it */
	HS_SIM_CNT_LOST,	/* dropped by the loss model */
	HS_SIM_CNT_RATE_LIMITED, /* the router's ICMP rate limit swallowed the reply */
	HS_SIM_CNT_NOT_SIM,	 /* not for a simulated destination: passed to the stack */
	HS_SIM_CNT_ERROR,	 /* could not build the reply */
	HS_SIM_CNT_MAX,
};

/*
 * Frames arriving at the responder (the far side of the wire), counted per
 * CPU in time slots of HS_SIM_WIRE_SLOT_NS (bpf_ktime_get_ns, CLOCK_MONOTONIC):
 * slot i of the map holds absolute slot number `slot` (ns / HS_SIM_WIRE_SLOT_NS)
 * with slot % HS_SIM_WIRE_SLOTS == i; a slot is reset when time comes back
 * to it. HS_SIM_WIRE_SLOTS slots cover the last 65.5 s.
 */
#define HS_SIM_WIRE_SLOT_NS 1000000ULL
#define HS_SIM_WIRE_SLOTS   65536

struct hs_sim_wire_slot {
	__u64 slot;
	__u64 frames;
};
HS_STATIC_ASSERT(sizeof(struct hs_sim_wire_slot) == 16, "hs_sim_wire_slot layout");

#endif
