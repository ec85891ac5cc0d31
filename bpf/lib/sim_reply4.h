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
 * the old Ethernet header's place plus 28 bytes of new headroom.
 */
static __always_inline int icmp4_error(struct xdp_md *ctx, __u32 from, __u8 type, __u8 code,
				       __u16 mtu, int full, __u8 ttl)
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
	if (q > QUOTE_MAX)
		q = QUOTE_MAX;
	q &= ~3U;

	__u8 macs[12];
	__u32 prober = ip->saddr;

	__builtin_memcpy(macs, eth, 12);
	if (bpf_xdp_adjust_head(ctx, -28))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	long cur = end - data, want = 42 + q;

	if (cur > want && bpf_xdp_adjust_tail(ctx, -(int)(cur - want)))
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
	ip->tot_len = bpf_htons(28 + q);
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
	__s64 s = bpf_csum_diff(0, 0, (void *)ic, sizeof(*ic), 0);

	s = sum_region(data + 42, q, end, s);
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
