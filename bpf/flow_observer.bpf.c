// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hopscope application flow observer (see include/hopscope/abi/flow.h).
 *
 * cgroup_skb/egress and cgroup_skb/ingress count the bytes and packets of
 * every TCP/UDP flow of the sockets in the cgroup they are attached to;
 * sockops turns on the kernel's RTT, state and retransmission callbacks for
 * each TCP connection and copies srtt, total_retrans and the state into the
 * flow. Flows are keyed from the local side; a dual-stack socket talking to
 * an IPv4-mapped peer is keyed as IPv4, as its packets are. Start and end
 * events (when configured) and snapshots go to the hs_flow_events ring
 * buffer; a full ring only loses the event (counted), never the flow's counts.
 *
 * iter/tcp (hs_flow_tcp_iter), run by userspace, copies srtt, retransmissions
 * and state of every TCP socket of the namespace into its flow, if the flow
 * is counted: connections that predate the observer get them too.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "hopscope/abi/flow.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile struct hs_flow_config hs_flow_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HS_FLOW_MAX_FLOWS);
	__type(key, struct hs_flow_key);
	__type(value, struct hs_flow_stats);
} hs_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} hs_flow_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HS_FLOW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} hs_flow_counters SEC(".maps");

#define ETH_P_IP_BE   0x0008 /* htons(0x0800) */
#define ETH_P_IPV6_BE 0xdd86 /* htons(0x86dd) */
#define TCP_CLOSE     7

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&hs_flow_counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline int ignored_port(__u16 local_port)
{
	return local_port >= hs_flow_cfg.ignore_port_lo &&
	       local_port <= hs_flow_cfg.ignore_port_hi && hs_flow_cfg.ignore_port_hi;
}

static __always_inline void emit(const struct hs_flow_key *key, const struct hs_flow_stats *st,
				 __u8 type, __u64 now)
{
	struct hs_flow_event *ev = bpf_ringbuf_reserve(&hs_flow_events, sizeof(*ev), 0);

	if (!ev) {
		count(HS_FLOW_CNT_EVENTS_LOST);
		return;
	}
	ev->key = *key;
	ev->stats = *st;
	ev->ts_ns = now;
	ev->type = type;
	bpf_ringbuf_submit(ev, 0);
}

/* The flow's stats, created (and announced) if new; NULL if the map refused it. */
static __always_inline struct hs_flow_stats *flow_of(const struct hs_flow_key *key, __u64 cgroup_id,
						     __u64 now)
{
	struct hs_flow_stats *st = bpf_map_lookup_elem(&hs_flows, key);

	if (st)
		return st;
	struct hs_flow_stats init = {
		.first_ns = now, .last_ns = now, .last_report_ns = now, .cgroup_id = cgroup_id};

	if (bpf_map_update_elem(&hs_flows, key, &init, BPF_NOEXIST) == 0 &&
	    hs_flow_cfg.lifecycle_events)
		emit(key, &init, HS_FLOW_EV_START, now);
	st = bpf_map_lookup_elem(&hs_flows, key);
	if (!st)
		count(HS_FLOW_CNT_MAP_FULL);
	return st;
}

/* Reads the 5-tuple of an IP packet (skb data starts at the IP header). Returns 0 if it is TCP/UDP.
 */
static __always_inline int parse(struct __sk_buff *skb, int egress, struct hs_flow_key *key,
				 __u32 *label)
{
	__u32 l4_off;
	__u8 proto;

	if (skb->protocol == ETH_P_IP_BE) {
		__u8 ip[20];

		if (bpf_skb_load_bytes(skb, 0, ip, sizeof(ip)))
			return -1;
		if ((ip[0] >> 4) != 4 || (ip[6] & 0x1f) || ip[7]) /* a later fragment: no ports */
			return -1;
		proto = ip[9];
		l4_off = (ip[0] & 0xf) * 4;
		key->family = 4;
		__builtin_memcpy(egress ? key->local : key->remote, ip + 12, 4);
		__builtin_memcpy(egress ? key->remote : key->local, ip + 16, 4);
	} else if (skb->protocol == ETH_P_IPV6_BE) {
		__u8 ip6[40];

		if (bpf_skb_load_bytes(skb, 0, ip6, sizeof(ip6)))
			return -1;
		proto = ip6[6]; /* TCP/UDP right after the fixed header: the usual case */
		*label = (__u32)(ip6[1] & 0x0f) << 16 | (__u32)ip6[2] << 8 | ip6[3];
		l4_off = 40;
		key->family = 6;
		__builtin_memcpy(egress ? key->local : key->remote, ip6 + 8, 16);
		__builtin_memcpy(egress ? key->remote : key->local, ip6 + 24, 16);
	} else {
		return -1;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -1;
	__u8 ports[4];

	if (bpf_skb_load_bytes(skb, l4_off, ports, sizeof(ports)))
		return -1;
	const __u16 src = (__u16)(ports[0] << 8 | ports[1]),
		    dst = (__u16)(ports[2] << 8 | ports[3]);

	key->proto = proto;
	key->netns = bpf_get_netns_cookie(skb);
	key->local_port = egress ? src : dst;
	key->remote_port = egress ? dst : src;
	return 0;
}

static __always_inline int account(struct __sk_buff *skb, int egress)
{
	struct hs_flow_key key = {};
	const __u64 now = bpf_ktime_get_ns();
	__u32 label = 0;

	count(HS_FLOW_CNT_PACKETS);
	if (parse(skb, egress, &key, &label)) {
		count(HS_FLOW_CNT_OTHER);
		return 1;
	}
	if (ignored_port(key.local_port)) {
		count(HS_FLOW_CNT_IGNORED);
		return 1;
	}
	struct hs_flow_stats *st = flow_of(&key, bpf_skb_cgroup_id(skb), now);

	if (!st)
		return 1;
	if (egress) {
		__sync_fetch_and_add(&st->bytes_out, skb->len);
		__sync_fetch_and_add(&st->pkts_out, 1);
		st->flow_label = label; /* what the routers hash: the app's latest */
	} else {
		__sync_fetch_and_add(&st->bytes_in, skb->len);
		__sync_fetch_and_add(&st->pkts_in, 1);
	}
	st->last_ns = now;
	count(HS_FLOW_CNT_COUNTED);
	const __u64 every = hs_flow_cfg.report_ns;

	if (every && now - st->last_report_ns >= every) {
		st->last_report_ns = now;
		emit(&key, st, HS_FLOW_EV_SNAPSHOT, now);
	}
	return 1; /* observe, never drop */
}

SEC("cgroup_skb/egress")
int hs_flow_egress(struct __sk_buff *skb)
{
	return account(skb, 1);
}

SEC("cgroup_skb/ingress")
int hs_flow_ingress(struct __sk_buff *skb)
{
	return account(skb, 0);
}

/* The addresses of an AF_INET6 socket (network order, 4 words each): IPv4
 * when the peer is IPv4-mapped (::ffff:a.b.c.d), as its packets are. */
static __always_inline void key_addrs6(struct hs_flow_key *key, const __u32 l[4], const __u32 r[4])
{
	if (r[0] == 0 && r[1] == 0 && r[2] == bpf_htonl(0xffff)) {
		key->family = 4;
		__builtin_memcpy(key->local, &l[3], 4);
		__builtin_memcpy(key->remote, &r[3], 4);
		return;
	}
	key->family = 6;
	__builtin_memcpy(key->local, l, 16);
	__builtin_memcpy(key->remote, r, 16);
}

/* The flow key of a TCP socket, from the local side. */
static __always_inline int sockops_key(struct bpf_sock_ops *skops, struct hs_flow_key *key)
{
	if (skops->family == 2 /* AF_INET */) {
		key->family = 4;
		__builtin_memcpy(key->local, &skops->local_ip4, 4);
		__builtin_memcpy(key->remote, &skops->remote_ip4, 4);
	} else if (skops->family == 10 /* AF_INET6 */) {
		__u32 l[4], r[4];

		/* One 32-bit context read each: the verifier refuses the 64-bit
		 * loads the compiler would merge them into. */
#pragma unroll
		for (int i = 0; i < 4; i++) {
			l[i] = ((volatile __u32 *)skops->local_ip6)[i];
			r[i] = ((volatile __u32 *)skops->remote_ip6)[i];
		}
		key_addrs6(key, l, r);
	} else {
		return -1;
	}
	key->proto = IPPROTO_TCP;
	key->netns = bpf_get_netns_cookie(skops);
	key->local_port = (__u16)skops->local_port;
	key->remote_port = (__u16)bpf_ntohl(skops->remote_port);
	return 0;
}

SEC("sockops")
int hs_flow_sockops(struct bpf_sock_ops *skops)
{
	struct hs_flow_key key = {};
	const __u32 op = skops->op;

	if (op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB &&
	    op != BPF_SOCK_OPS_RTT_CB && op != BPF_SOCK_OPS_RETRANS_CB &&
	    op != BPF_SOCK_OPS_STATE_CB)
		return 1;
	if (sockops_key(skops, &key) || ignored_port(key.local_port))
		return 1;
	const __u64 now = bpf_ktime_get_ns();

	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RTT_CB_FLAG |
							 BPF_SOCK_OPS_STATE_CB_FLAG |
							 BPF_SOCK_OPS_RETRANS_CB_FLAG);
	/* The flow normally exists (its SYN was counted); if not, its cgroup is unknown here. */
	struct hs_flow_stats *st = flow_of(&key, 0, now);

	if (!st)
		return 1;
	const __u32 srtt = skops->srtt_us >> 3; /* the kernel keeps 8 x srtt */

	if (srtt) {
		st->srtt_us = srtt;
		st->flags |= HS_FLOW_F_TCP_RTT;
	}
	st->retrans = skops->total_retrans;
	st->last_ns = now;
	if (op == BPF_SOCK_OPS_STATE_CB) {
		st->state = (__u8)skops->args[1];
		if (skops->args[1] == TCP_CLOSE) {
			st->flags |= HS_FLOW_F_CLOSED;
			if (hs_flow_cfg.lifecycle_events)
				emit(&key, st, HS_FLOW_EV_END, now);
		}
	} else if (op != BPF_SOCK_OPS_RTT_CB && op != BPF_SOCK_OPS_RETRANS_CB) {
		st->state = 1; /* TCP_ESTABLISHED */
	}
	return 1;
}

/* The kernel structures the iterator reads, as CO-RE relocatable subsets
 * (libbpf finds each field in the running kernel's BTF by name). */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct tcp_sock {
	__u32 srtt_us; /* 8 x the smoothed RTT */
	__u32 total_retrans;
} __attribute__((preserve_access_index));

struct bpf_iter_meta;
struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	__u32 uid;
} __attribute__((preserve_access_index));

SEC("iter/tcp")
int hs_flow_tcp_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct hs_flow_key key = {};

	if (!skc)
		return 0;
	/* Full sockets only: time-wait and request sockets have no tcp_sock. */
	struct tcp_sock *tp = (struct tcp_sock *)bpf_skc_to_tcp_sock(skc);

	if (!tp)
		return 0;
	const unsigned short family = skc->skc_family;

	if (family == 2 /* AF_INET */) {
		key.family = 4;
		__be32 l = skc->skc_rcv_saddr, r = skc->skc_daddr;

		__builtin_memcpy(key.local, &l, 4);
		__builtin_memcpy(key.remote, &r, 4);
	} else if (family == 10 /* AF_INET6 */) {
		__u32 l[4], r[4];

		bpf_probe_read_kernel(l, sizeof(l), &skc->skc_v6_rcv_saddr);
		bpf_probe_read_kernel(r, sizeof(r), &skc->skc_v6_daddr);
		key_addrs6(&key, l, r);
	} else {
		return 0;
	}
	key.proto = IPPROTO_TCP;
	key.netns = hs_flow_cfg.netns;
	key.local_port = skc->skc_num;
	key.remote_port = bpf_ntohs(skc->skc_dport);
	struct hs_flow_stats *st = bpf_map_lookup_elem(&hs_flows, &key);

	if (!st) /* not a counted flow (another cgroup, a listener, no traffic yet) */
		return 0;
	const __u32 srtt = tp->srtt_us >> 3;

	if (srtt) {
		st->srtt_us = srtt;
		st->flags |= HS_FLOW_F_TCP_RTT;
	}
	st->retrans = tp->total_retrans;
	st->state = skc->skc_state;
	return 0;
}
