/* SPDX-License-Identifier: MIT */
/* Simulated Internet: IPv4 replies built in place (ICMP errors, Echo Reply, TCP). */
#ifndef HOPSCOPE_BPF_SIM_REPLY4_H
#define HOPSCOPE_BPF_SIM_REPLY4_H

#include <linux/in.h>
#include <linux/ip.h>

#include "lib/csum.h"
#include "lib/sim_common.h"

/*
 * Turns the IPv4 probe in the frame into an ICMP error from `from`, quoting
 * 28 bytes or (full) the whole probe up to QUOTE_MAX. The probe's IP packet
 * stays where it is: the new Ethernet + IP + ICMP headers (42 bytes) take
 * the old Ethernet header's place plus 28 bytes of new headroom. With
 * mpls_depth > 0 the quote is cut or zero-padded to 128 bytes and an RFC
 * 4884 extension with an MPLS label stack follows (RFC 4950).
 */
static __always_inline int icmp4_error(struct xdp_md *ctx, __u32 from, __u8 type, __u8 code,
				       __u16 mtu, int full, __u8 ttl, __u32 mpls_label,
				       __u8 mpls_depth)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HS_PTR(data, 0, ETH_LEN, end);
	struct iphdr *ip = HS_PTR(data, ETH_LEN, sizeof(*ip), end);

	if (!eth || !ip)
		return -1;
	__u32 ip_len = bpf_ntohs(ip->tot_len);

	if (ip_len < sizeof(*ip) || (long)ETH_LEN + ip_len > (long)(end - data))
		return -1;
	__u32 q = full ? ip_len : MIN_QUOTE4;

	if (q > ip_len)
		q = ip_len;
	if (mpls_depth && q > HS_SIM_EXT_QUOTE)
		q = HS_SIM_EXT_QUOTE;
	if (q > QUOTE_MAX)
		q = QUOTE_MAX;
	q &= ~3U;
	/* ICMP payload: the quote, or the padded quote + extension. */
	__u32 body = mpls_depth ? HS_SIM_EXT_QUOTE + 8 + 4 * (mpls_depth == 2 ? 2 : 1) : q;

	__u8 macs[12];
	__u32 prober = ip->saddr;

	__builtin_memcpy(macs, eth, 12);
	if (bpf_xdp_adjust_head(ctx, -28))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (resize_for_reply(ctx, 42, q, 42 + body))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = HS_PTR(data, 0, 42, end);
	if (!eth)
		return -1;
	__builtin_memcpy(eth->h_dest, macs + 6, 6);
	__builtin_memcpy(eth->h_source, macs, 6);
	eth->h_proto = bpf_htons(ETH_P_IP);

	ip = data + ETH_LEN;
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0; /* internetwork control, as Linux sends ICMP errors */
	ip->tot_len = bpf_htons(28 + body);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = ttl;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = from;
	ip->daddr = prober;
	ip->check = fold(bpf_csum_diff(0, 0, (void *)ip, sizeof(*ip), 0));

	struct hs_icmphdr *ic = data + ETH_LEN + sizeof(*ip);

	ic->type = type;
	ic->code = code;
	ic->checksum = 0;
	ic->un.frag.unused = 0;
	ic->un.frag.mtu = bpf_htons(mtu);
	if (mpls_depth) {
		((__u8 *)ic)[5] = HS_SIM_EXT_QUOTE / 4; /* RFC 4884 length, 32-bit words */
		zero_fill(data + 42, q, HS_SIM_EXT_QUOTE, end);
		if (write_mpls_ext(data + 42 + HS_SIM_EXT_QUOTE, end, mpls_label, mpls_depth) < 0)
			return -1;
	}
	__s64 s = bpf_csum_diff(0, 0, (void *)ic, sizeof(*ic), 0);

	s = sum_region(data + 42, body, end, s);
	ic->checksum = fold(s);
	return 0;
}

static __always_inline int echo_reply4(struct xdp_md *ctx, __u8 ttl)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HS_PTR(data, 0, ETH_LEN, end);
	struct iphdr *ip = HS_PTR(data, ETH_LEN, sizeof(*ip), end);
	struct hs_icmphdr *ic = HS_PTR(data, ETH_LEN + sizeof(*ip), sizeof(*ic), end);

	if (!eth || !ip || !ic)
		return -1;
	swap_macs(eth);
	__u32 a = ip->saddr;

	ip->saddr = ip->daddr;
	ip->daddr = a;
	ip->ttl = ttl;
	ip->check = 0;
	ip->check = fold(bpf_csum_diff(0, 0, (void *)ip, sizeof(*ip), 0));
	ic->type = HS_ICMP_ECHOREPLY;
	/* type 8 -> 0 lowers the sum by 0x0800: the checksum rises by as much */
	ic->checksum = bpf_htons(hs_ones_add(bpf_ntohs(ic->checksum), 0x0800));
	return 0;
}

static __always_inline int tcp_reply4(struct xdp_md *ctx, int open, __u8 ttl, __u64 seed)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HS_PTR(data, 0, ETH_LEN, end);
	struct iphdr *ip = HS_PTR(data, ETH_LEN, sizeof(*ip), end);
	__u8 *t = HS_PTR(data, ETH_LEN + sizeof(*ip), 20, end);

	if (!eth || !ip || !t)
		return -1;
	__u32 hl = (t[12] >> 4) * 4, ip_len = bpf_ntohs(ip->tot_len);
	__u32 seg = ip_len > sizeof(*ip) + hl ? ip_len - sizeof(*ip) - hl : 0;

	if (tcp_answer(t, open, seg, seed))
		return -1;
	swap_macs(eth);
	__u32 a = ip->saddr;

	ip->saddr = ip->daddr;
	ip->daddr = a;
	ip->ttl = ttl;
	ip->tot_len = bpf_htons(40);
	ip->frag_off = 0;
	ip->check = 0;
	ip->check = fold(bpf_csum_diff(0, 0, (void *)ip, sizeof(*ip), 0));
	struct pseudo4 ph = {
		.src = ip->saddr, .dst = ip->daddr, .proto = IPPROTO_TCP, .len = bpf_htons(20)};
	__s64 sum = bpf_csum_diff(0, 0, (void *)&ph, sizeof(ph), 0);

	sum = bpf_csum_diff(0, 0, (void *)t, 20, sum);
	*(__u16 *)(t + 16) = fold(sum);
	/* Drop options and payload. */
	long cur = end - data;

	if (cur > 54 && bpf_xdp_adjust_tail(ctx, -(int)(cur - 54)))
		return -1;
	return 0;
}

#endif
