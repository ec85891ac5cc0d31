/* SPDX-License-Identifier: MIT */
/*
 * The application flow observer (`hopscope watch`): cgroup_skb programs count
 * every packet the applications of a cgroup send and receive, per flow; a
 * sockops program adds the kernel's TCP view (smoothed RTT, retransmissions,
 * state). Flows live in an LRU hash map; start, end and snapshot events go
 * to userspace through a ring buffer. A TCP socket iterator (iter/tcp), run
 * by userspace before each read of the table, refreshes srtt, retransmissions
 * and state of every connection, those opened before the observer included
 * (sockops only sees the callbacks of connections established after it).
 *
 * A dual-stack socket (AF_INET6 talking to an IPv4-mapped peer) is keyed as
 * IPv4 everywhere, as its packets are: one flow.
 *
 * Our own probes never reach these hooks (AF_XDP frames bypass the stack;
 * matched replies are dropped in XDP); what the stack sends on their behalf
 * (the RST that ends a tcp-syn probe's handshake) comes from the probe source
 * ports, which the configuration excludes.
 */
#ifndef HOPSCOPE_ABI_FLOW_H
#define HOPSCOPE_ABI_FLOW_H

#include "types.h"

/* One flow, seen from the local host: addresses in network order (IPv4 in
 * the first 4 bytes, the rest 0), ports in host order. The same 5-tuple in
 * two network namespaces is two flows: the namespace's cookie is part of
 * the key (watch traces only the flows of the namespace it runs in). */
struct hs_flow_key {
	__u8 local[16];
	__u8 remote[16];
	__u64 netns; /* bpf_get_netns_cookie() of the socket's namespace */
	__u16 local_port;
	__u16 remote_port;
	__u8 family; /* 4 or 6 */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 _pad;
};
HS_STATIC_ASSERT(sizeof(struct hs_flow_key) == 48, "hs_flow_key layout");

/* Flow flags. */
#define HS_FLOW_F_TCP_RTT 0x01 /* sockops enabled the RTT callback: srtt_us is the kernel's */
#define HS_FLOW_F_CLOSED  0x02 /* the TCP connection reached CLOSE */

struct hs_flow_stats {
	__u64 first_ns;	 /* bpf_ktime_get_ns() of the first packet */
	__u64 last_ns;	 /* of the last packet or TCP event */
	__u64 bytes_out; /* IP bytes (header included) sent */
	__u64 bytes_in;
	__u64 pkts_out;
	__u64 pkts_in;
	__u64 cgroup_id;      /* the socket's cgroup (v2 id) */
	__u64 last_report_ns; /* when the last snapshot event was sent */
	__u32 srtt_us;	      /* TCP smoothed RTT (the kernel's), 0 = unknown */
	__u32 retrans;	      /* TCP segments retransmitted (total_retrans) */
	__u8 state;	      /* last TCP state (TCP_ESTABLISHED = 1, ... as in the kernel) */
	__u8 flags;	      /* HS_FLOW_F_* */
	__u8 _pad[2];
	__u32 flow_label; /* IPv6: the flow label of its latest packet out (0 for IPv4) */
};
HS_STATIC_ASSERT(sizeof(struct hs_flow_stats) == 80, "hs_flow_stats layout");

enum hs_flow_event_type {
	HS_FLOW_EV_START = 1,	 /* first packet of a flow */
	HS_FLOW_EV_SNAPSHOT = 2, /* a flow with traffic since its last report, every report_ns */
	HS_FLOW_EV_END = 3,	 /* a TCP connection closed */
};

struct hs_flow_event {
	struct hs_flow_key key;
	struct hs_flow_stats stats;
	__u64 ts_ns; /* when the event was made */
	__u8 type;   /* enum hs_flow_event_type */
	__u8 _pad[7];
};
HS_STATIC_ASSERT(sizeof(struct hs_flow_event) == 144, "hs_flow_event layout");

/* Load-time configuration (read-only data). */
struct hs_flow_config {
	__u64 report_ns;      /* snapshot interval per flow (0: no snapshots) */
	__u16 ignore_port_lo; /* local ports [lo, hi] are hopscope's probes: never counted */
	__u16 ignore_port_hi;
	__u8 lifecycle_events; /* 1: START and END events (0: the table is read instead) */
	__u8 _pad[3];
	__u64 netns; /* the TCP socket iterator's namespace cookie (it walks the sockets of the
		      * namespace the iterator was created in) */
};
HS_STATIC_ASSERT(sizeof(struct hs_flow_config) == 24, "hs_flow_config layout");

/* Observer counters (per-CPU array indices). */
enum hs_flow_counter {
	HS_FLOW_CNT_PACKETS = 0, /* packets seen by the cgroup_skb programs */
	HS_FLOW_CNT_COUNTED,	 /* of which counted in a TCP/UDP flow */
	HS_FLOW_CNT_OTHER,	 /* not TCP/UDP, or not parsable */
	HS_FLOW_CNT_IGNORED,	 /* hopscope's own (probe source ports) */
	HS_FLOW_CNT_EVENTS_LOST, /* ring buffer full: an event was dropped */
	HS_FLOW_CNT_MAP_FULL,	 /* a new flow could not be inserted */
	HS_FLOW_CNT_MAX,
};

#define HS_FLOW_MAX_FLOWS 65536

#endif
