/* SPDX-License-Identifier: MIT */
/* Simulated Internet: IPv6 replies built in place (ICMPv6 errors, Echo Reply, TCP). */
#ifndef HOPSCOPE_BPF_SIM_REPLY6_H
#define HOPSCOPE_BPF_SIM_REPLY6_H

#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/ipv6.h>

#include "lib/csum.h"
#include "lib/sim_common.h"

/*
 * ICMPv6 error from `from` quoting the probe (IPv6 routers quote as much as
 * fits; here up to QUOTE_MAX). 48 new bytes of headroom: Ethernet + IPv6 +
 * ICMPv6 headers take the old Ethernet header's place plus 48 bytes.
 */
static __always_inline int icmp6_error(struct xdp_md *ctx, const __u8 *from, __u8 type, __u8 code,
				       __u32 mtu, __u8 hlim, __u32 mpls_label, __u8 mpls_depth)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HS_PTR(data, 0, ETH_LEN, end);
	struct ipv6hdr *ip = HS_PTR(data, ETH_LEN, sizeof(*ip), end);

	if (!eth || !ip)
		return -1;
	__u32 ip_len = sizeof(*ip) + bpf_ntohs(ip->payload_len);

	if ((long)ETH_LEN + ip_len > (long)(end - data))
		return -1;
	__u32 q = ip_len > QUOTE_MAX ? QUOTE_MAX : ip_len;

	if (mpls_depth && q > HS_SIM_EXT_QUOTE)
		q = HS_SIM_EXT_QUOTE;
	q &= ~3U;
	__u32 body = mpls_depth ? HS_SIM_EXT_QUOTE + 8 + 4 * (mpls_depth == 2 ? 2 : 1) : q;
	struct pseudo6 ph = {};
	__u8 macs[12];

	__builtin_memcpy(ph.dst, &ip->saddr, 16);
	__builtin_memcpy(ph.src, from, 16);
	__builtin_memcpy(macs, eth, 12);
	if (bpf_xdp_adjust_head(ctx, -48))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (resize_for_reply(ctx, 62, q, 62 + body))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = HS_PTR(data, 0, 62, end);
	if (!eth)
		return -1;
	__builtin_memcpy(eth->h_dest, macs + 6, 6);
	__builtin_memcpy(eth->h_source, macs, 6);
	eth->h_proto = bpf_htons(ETH_P_IPV6);

	ip = data + ETH_LEN;
	__builtin_memset(ip, 0, sizeof(*ip));
	ip->version = 6;
	ip->payload_len = bpf_htons(8 + body);
	ip->nexthdr = IPPROTO_ICMPV6;
	ip->hop_limit = hlim;
	__builtin_memcpy(&ip->saddr, ph.src, 16);
	__builtin_memcpy(&ip->daddr, ph.dst, 16);

	struct icmp6hdr *ic = data + ETH_LEN + sizeof(*ip);

	ic->icmp6_type = type;
	ic->icmp6_code = code;
	ic->icmp6_cksum = 0;
	ic->icmp6_mtu = bpf_htonl(mtu);
	if (mpls_depth) {
		((__u8 *)ic)[4] = HS_SIM_EXT_QUOTE / 8; /* RFC 4884 length, 64-bit words */
		zero_fill(data + 62, q, HS_SIM_EXT_QUOTE, end);
		if (write_mpls_ext(data + 62 + HS_SIM_EXT_QUOTE, end, mpls_label, mpls_depth) < 0)
			return -1;
	}
	ph.len = bpf_htonl(8 + body);
	ph.nh = bpf_htonl(IPPROTO_ICMPV6);
	__s64 s = bpf_csum_diff(0, 0, (void *)&ph, sizeof(ph), 0);

	s = bpf_csum_diff(0, 0, (void *)ic, sizeof(*ic), s);
	s = sum_region(data + 62, body, end, s);
	ic->icmp6_cksum = fold(s);
	return 0;
}

static __always_inline int echo_reply6(struct xdp_md *ctx, __u8 hlim)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HS_PTR(data, 0, ETH_LEN, end);
	struct ipv6hdr *ip = HS_PTR(data, ETH_LEN, sizeof(*ip), end);
	struct icmp6hdr *ic = HS_PTR(data, ETH_LEN + sizeof(*ip), sizeof(*ic), end);

	if (!eth || !ip || !ic)
		return -1;
	swap_macs(eth);
	struct in6_addr a = ip->saddr;

	ip->saddr = ip->daddr;
	ip->daddr = a;
	ip->hop_limit = hlim;
	ic->icmp6_type = 129;
	/* type 128 -> 129 raises the sum by 0x0100: the checksum drops by as much */
	ic->icmp6_cksum = bpf_htons(hs_ones_sub(bpf_ntohs(ic->icmp6_cksum), 0x0100));
	return 0;
}

static __always_inline int tcp_reply6(struct xdp_md *ctx, int open, __u8 hlim, __u64 seed)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HS_PTR(data, 0, ETH_LEN, end);
	struct ipv6hdr *ip = HS_PTR(data, ETH_LEN, sizeof(*ip), end);
	__u8 *t = HS_PTR(data, ETH_LEN + sizeof(*ip), 20, end);

	if (!eth || !ip || !t)
		return -1;
	__u32 hl = (t[12] >> 4) * 4, plen = bpf_ntohs(ip->payload_len);
	__u32 seg = plen > hl ? plen - hl : 0;

	if (tcp_answer(t, open, seg, seed))
		return -1;
	swap_macs(eth);
	struct in6_addr a = ip->saddr;

	ip->saddr = ip->daddr;
	ip->daddr = a;
	ip->hop_limit = hlim;
	ip->payload_len = bpf_htons(20);
	struct pseudo6 ph = {};

	__builtin_memcpy(ph.src, &ip->saddr, 16);
	__builtin_memcpy(ph.dst, &ip->daddr, 16);
	ph.len = bpf_htonl(20);
	ph.nh = bpf_htonl(IPPROTO_TCP);
	__s64 sum = bpf_csum_diff(0, 0, (void *)&ph, sizeof(ph), 0);

	sum = bpf_csum_diff(0, 0, (void *)t, 20, sum);
	*(__u16 *)(t + 16) = fold(sum);
	long cur = end - data;

	if (cur > 74 && bpf_xdp_adjust_tail(ctx, -(int)(cur - 74)))
		return -1;
	return 0;
}

#endif
