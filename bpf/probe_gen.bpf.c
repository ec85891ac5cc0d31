// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Kernel probe generator for `hopscope survey --tx xdp-live` (see
 * abi/generator.h). Userspace runs this program with BPF_PROG_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES over a HS_GEN_FRAME_CAP-byte frame; each run
 * takes the next descriptor, writes the whole probe (Ethernet, IP, UDP or ICMP
 * echo, Paris or classic, checksums, validation value, send time in seq) as
 * probe_builder.cpp does, cuts the frame to its length and returns XDP_TX,
 * which the test-run turns into a transmit on the interface.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "hopscope/abi/generator.h"

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile struct hs_gen_config hs_gen_cfg = {};
struct hs_gen_state hs_gen_state = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, HS_GEN_MAX_DESCS);
	__type(key, __u32);
	__type(value, struct hs_gen_desc);
} hs_gen_descs SEC(".maps");

static __always_inline void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Sum of the big-endian 16-bit words of n bytes (n even, a constant). */
static __always_inline __u32 sum_words(const __u8 *p, int n)
{
	__u32 s = 0;

#pragma unroll
	for (int i = 0; i < n; i += 2)
		s += ((__u32)p[i] << 8) | p[i + 1];
	return s;
}

static __always_inline __u16 fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

SEC("xdp")
int hs_probe_gen(struct xdp_md *ctx)
{
	__u32 idx = hs_gen_state.next++;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *f = data;

	if (idx >= hs_gen_state.count)
		goto bad;
	struct hs_gen_desc *d = bpf_map_lookup_elem(&hs_gen_descs, &idx);

	if (!d || f + HS_GEN_FRAME_CAP > (__u8 *)end)
		goto bad;
	const int v4 = hs_gen_cfg.family == 4;
	const int udp =
		hs_gen_cfg.method == HS_METHOD_UDP_PARIS || hs_gen_cfg.method == HS_METHOD_UDP;
	const __u32 ip_hdr = v4 ? 20 : 40;
	const __u32 ip_len = d->ip_len;
	/* The encoding needs the 8-byte L4 header, 2 payload bytes (4 for IPv6
	 * UDP) and the 4-byte tag. */
	const __u32 tag_off = udp && !v4 ? 4 : 2;

	if (ip_len < ip_hdr + 8 + tag_off + 4 || 14 + ip_len > HS_GEN_FRAME_CAP)
		goto bad;

	/* Earlier frames (or the replies made of them) are still in the page:
	 * zero the probe's length, in 64-byte steps. */
	__u64 *w = (__u64 *)f;
#pragma unroll
	for (int i = 0; i < 8; i++)
		w[i] = 0;
	if (14 + ip_len > 64) {
#pragma unroll
		for (int i = 8; i < 16; i++)
			w[i] = 0;
	}
	if (14 + ip_len > 128) {
#pragma unroll
		for (int i = 16; i < 24; i++)
			w[i] = 0;
	}
	if (14 + ip_len > 192) {
#pragma unroll
		for (int i = 24; i < 32; i++)
			w[i] = 0;
	}

#pragma unroll
	for (int i = 0; i < 6; i++) {
		f[i] = hs_gen_cfg.dst_mac[i];
		f[6 + i] = hs_gen_cfg.src_mac[i];
	}
	put16(f + 12, v4 ? 0x0800 : 0x86dd);

	/* The clock is read every HS_GEN_CLOCK_EVERY frames (~33 ns a read): at
	 * 3+ Mpps that is 5 us old at most, well inside seq's 32 us unit. */
	if ((idx & (HS_GEN_CLOCK_EVERY - 1)) == 0 || !hs_gen_state.now_ns)
		hs_gen_state.now_ns = bpf_ktime_get_ns();
	const __u64 now = hs_gen_state.now_ns;
	const __u16 seq = 1 + (__u16)((now / HS_SEQ_UNIT_NS) % HS_SEQ_SPAN);
	/* Classic icmp has nowhere to carry a flow: always flow 0. */
	const __u16 flow = hs_gen_cfg.method == HS_METHOD_ICMP ? 0 : d->flow;
	__u32 dst[4];

	__builtin_memcpy(dst, d->dst, 16);
	if (v4)
		dst[1] = dst[2] = dst[3] = 0;
	/* Field by field: a whole-struct copy of the read-only config was folded
	 * to its zero initialiser by clang (volatile lost on the aggregate). */
	const struct hs_sip st = {
		.v0 = hs_gen_cfg.mac_src.v0,
		.v1 = hs_gen_cfg.mac_src.v1,
		.v2 = hs_gen_cfg.mac_src.v2,
		.v3 = hs_gen_cfg.mac_src.v3,
	};
	const __u64 mac = hs_mac_from(st, dst, hs_gen_cfg.method, flow, seq, ip_len);
	const __u16 val = hs_mac_val(mac);
	const __u32 tag = hs_mac_tag(mac);

	__u8 *ip = f + 14;
	__u8 *l4 = ip + (v4 ? 20 : 40);
	const __u16 l4_len = ip_len - ip_hdr;
	const __u8 proto = udp ? IPPROTO_UDP : (v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	__u32 acc = 0;

	/* Pseudo-header (UDP, ICMPv6): addresses, protocol, length. */
	const __u32 addr_sum =
		hs_gen_cfg.src_sum + (v4 ? sum_words(d->dst, 4) : sum_words(d->dst, 16));
	if (udp || !v4)
		acc = addr_sum + proto + l4_len;

	__u8 *fix = l4 + 8;

	put16(l4 + 8 + tag_off, tag >> 16);
	put16(l4 + 8 + tag_off + 2, tag & 0xffff);
	acc += (tag >> 16) + (tag & 0xffff);
	if (udp) {
		const __u16 sport = hs_gen_cfg.udp_sport_base + flow;
		__u16 dport = hs_gen_cfg.udp_dport;

		if (hs_gen_cfg.method == HS_METHOD_UDP) /* classic: the port follows seq */
			dport += seq % HS_UDP_CLASSIC_PORTS;
		put16(l4, sport);
		put16(l4 + 2, dport);
		put16(l4 + 4, l4_len);
		acc += sport + dport + l4_len;
		if (v4) {
			put16(l4 + 6, val);
			acc += val;
		} else {
			put16(l4 + 6, seq);
			put16(l4 + 8, val);
			acc += seq + val;
			fix = l4 + 10;
		}
	} else {
		const __u16 type = v4 ? 8 : 128; /* echo request */

		l4[0] = type;
		put16(l4 + 4, seq);
		put16(l4 + 6, val);
		acc += ((__u32)type << 8) + seq + val;
		if (hs_gen_cfg.method == HS_METHOD_ICMP) {
			/* classic: the checksum falls as it may, no fix-up word */
			put16(l4 + 2, (__u16)~fold(acc));
			fix = 0;
		} else {
			const __u16 csum = hs_gen_cfg.icmp_csum_base - flow;

			put16(l4 + 2, csum);
			acc += csum;
		}
	}
	if (fix)
		put16(fix, (__u16)~fold(acc));

	const __u8 ttl = d->ttl;
	if (v4) {
		ip[0] = 0x45;
		ip[1] = hs_gen_cfg.tos;
		put16(ip + 2, ip_len);
		put16(ip + 4, seq); /* IP ID carries seq */
		ip[8] = ttl;
		ip[9] = proto;
		*(__u32 *)(ip + 12) = hs_gen_cfg.src[0];
		__builtin_memcpy(ip + 16, d->dst, 4);
		const __u32 s = (0x4500 | hs_gen_cfg.tos) + ip_len + seq + ((__u32)ttl << 8) +
				proto + addr_sum;
		put16(ip + 10, (__u16)~fold(s));
	} else {
		const __u32 label = hs_flow_label(0, flow);

		ip[0] = 0x60 | (hs_gen_cfg.tos >> 4);
		ip[1] = ((hs_gen_cfg.tos << 4) | (label >> 16)) & 0xff;
		ip[2] = (label >> 8) & 0xff;
		ip[3] = label & 0xff;
		put16(ip + 4, l4_len);
		ip[6] = proto;
		ip[7] = ttl;
#pragma unroll
		for (int i = 0; i < 4; i++)
			*(__u32 *)(ip + 8 + 4 * i) = hs_gen_cfg.src[i];
		__builtin_memcpy(ip + 24, d->dst, 16);
	}
	if (bpf_xdp_adjust_tail(ctx, (int)(14 + ip_len) - HS_GEN_FRAME_CAP))
		goto bad;
	hs_gen_state.built++;
	return XDP_TX;
bad:
	hs_gen_state.bad++;
	return XDP_DROP;
}
