/* SPDX-License-Identifier: MIT */
/* Simulated Internet: helpers shared by the reply builders (checksums, MACs, TCP answers). */
#ifndef HOPSCOPE_BPF_SIM_COMMON_H
#define HOPSCOPE_BPF_SIM_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "hopscope/abi/probe.h"
#include "hopscope/abi/sim.h"
#include "lib/csum.h"
#include "lib/headers.h"

#define ETH_LEN	   14
#define QUOTE_MAX  512 /* bpf_csum_diff covers at most 512 bytes per call */
#define MIN_QUOTE4 28  /* IP header + 8 bytes (RFC 792) */

struct pseudo4 {
	__be32 src;
	__be32 dst;
	__u8 zero;
	__u8 proto;
	__be16 len;
};

struct pseudo6 {
	__u8 src[16];
	__u8 dst[16];
	__be32 len;
	__be32 nh;
};

static __always_inline __u16 fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/*
 * Routers and hosts quote the probe as they received it: `hops` links away
 * its TTL is lower by hops - 1 (1 at the router where it expires). The sim
 * sees the probe as sent: lower its TTL (and fix the IPv4 header checksum)
 * before quoting it.
 */
static __always_inline void arrival_ttl4(struct iphdr *ip, __u8 ttl)
{
	const __u16 old_word = (__u16)(ip->ttl << 8 | ip->protocol);
	const __u16 new_word = (__u16)(ttl << 8 | ip->protocol);
	const __u16 sum =
		hs_ones_add(hs_ones_sub((__u16)~bpf_ntohs(ip->check), old_word), new_word);

	ip->ttl = ttl;
	ip->check = bpf_htons((__u16)~sum);
}

/*
 * Resizes the frame to `want` bytes when the ICMP payload starts at offset
 * `quote` and holds `q` bytes of the probe. Shrinking and growing at the
 * tail is tried first; where the driver has no tailroom (veth frames that
 * came from a socket) the frame grows at the head instead and the quote is
 * moved down into place (q <= 128: a 4-byte word copy in ascending order is
 * safe as the destination lies below the source).
 */
static __always_inline int resize_for_reply(struct xdp_md *ctx, __u32 quote, __u32 q, long want)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	long cur = end - data;

	if (cur == want || !bpf_xdp_adjust_tail(ctx, (int)(want - cur)))
		return 0;
	if (want < cur || q > HS_SIM_EXT_QUOTE)
		return -1;
	__u32 grow = (__u32)(want - cur);

	if (grow > 200)
		return -1;
	/* Keep the checked value: without the barrier the compiler recomputes it from the packet
	 * pointers. */
	barrier_var(grow);
	grow &= 0xff;
	if (bpf_xdp_adjust_head(ctx, -(int)grow))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	for (int i = 0; i < HS_SIM_EXT_QUOTE / 4; i++) {
		__u32 off = 4 * i;

		if (off >= q)
			break;
		__u32 *dst = HS_PTR(data, quote + off, 4, end);
		__u32 *src = HS_PTR(data, quote + grow + off, 4, end);

		if (!dst || !src)
			return -1;
		*dst = *src;
	}
	return 0;
}

/* Zeroes [from, to) of the packet at `base` (from, to multiples of 4, to - from <= 128). */
static __always_inline void zero_fill(void *base, __u32 from, __u32 to, void *end)
{
	for (int i = 0; i < 32; i++) {
		__u32 off = from + 4 * i;

		if (off + 4 > to || off > 1024)
			break;
		__u32 *w = HS_PTR(base, off, 4, end);

		if (!w)
			break;
		*w = 0;
	}
}

/*
 * Writes an RFC 4884 extension structure holding one RFC 4950 MPLS label
 * stack object (depth 1 or 2 entries, TTL 1, the last with S=1) at `p`.
 * Returns its length, or -1.
 */
static __always_inline int write_mpls_ext(void *p, void *end, __u32 label, __u8 depth)
{
	const int len = depth == 2 ? 16 : 12;
	__u8 *e = HS_PTR(p, 0, 16, end);

	if (depth == 1)
		e = HS_PTR(p, 0, 12, end);
	if (!e)
		return -1;
	e[0] = 2 << 4; /* version 2 */
	e[1] = 0;
	e[2] = e[3] = 0;			 /* checksum */
	*(__be16 *)(e + 4) = bpf_htons(len - 4); /* object length */
	e[6] = 1;				 /* class: MPLS label stack */
	e[7] = 1;				 /* c-type: incoming stack */
	__u32 lse = (label & 0xfffff) << 12 | 1; /* TC 0, TTL 1 */

	if (depth == 2) {
		*(__be32 *)(e + 8) = bpf_htonl(lse);
		*(__be32 *)(e + 12) = bpf_htonl(((label + 1) & 0xfffff) << 12 | 1 << 8 | 1);
		*(__u16 *)(e + 2) = fold(bpf_csum_diff(0, 0, (void *)e, 16, 0));
	} else {
		*(__be32 *)(e + 8) = bpf_htonl(lse | 1 << 8);
		*(__u16 *)(e + 2) = fold(bpf_csum_diff(0, 0, (void *)e, 12, 0));
	}
	return len;
}

/* One's-complement sum (unfolded) of `len` bytes at p (len a multiple of 4, <= QUOTE_MAX). */
static __always_inline __s64 sum_region(void *p, __u32 len, void *end, __s64 seed)
{
	__u32 off = 0;

	for (int i = 0; i < QUOTE_MAX / 64; i++) {
		if (off + 64 > len || p + off + 64 > end)
			break;
		seed = bpf_csum_diff(0, 0, p + off, 64, seed);
		off += 64;
	}
	/* The rest (< 64 bytes, a multiple of 4): one call each of 32, 16, 8, 4 bytes at most
	 * (was up to 15 calls of 4). */
#define HS_SUM_TAIL(n)                                                                             \
	if (off + (n) <= len && off <= QUOTE_MAX - (n) && p + off + (n) <= end) {                  \
		seed = bpf_csum_diff(0, 0, p + off, (n), seed);                                    \
		off += (n);                                                                        \
	}
	HS_SUM_TAIL(32)
	HS_SUM_TAIL(16)
	HS_SUM_TAIL(8)
	HS_SUM_TAIL(4)
#undef HS_SUM_TAIL
	return seed;
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[6];

	__builtin_memcpy(tmp, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, tmp, 6);
}

/* ---- TCP at the destination -------------------------------------------- */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/*
 * Fills the 20-byte TCP header `t` (the probe's, in place) with the
 * destination's answer: SYN -> SYN-ACK if open, else RST-ACK; a segment
 * with ACK -> RST with seq = its ack (RFC 793); a RST gets no answer
 * (returns -1). `seg_len` = the probe's payload length.
 */
static __always_inline int tcp_answer(__u8 *t, int open, __u32 seg_len, __u64 seed)
{
	__u8 fl = t[13];

	if (fl & TCP_RST)
		return -1;
	__u32 seq = bpf_ntohl(*(__be32 *)(t + 4));
	__u32 ack = bpf_ntohl(*(__be32 *)(t + 8));
	__u16 sport = *(__u16 *)t;
	__u32 consumed = seg_len + ((fl & TCP_SYN) ? 1 : 0) + ((fl & TCP_FIN) ? 1 : 0);
	__u32 nseq, nack;
	__u8 nfl;
	__u16 win = 0;

	*(__u16 *)t = *(__u16 *)(t + 2); /* swap ports */
	*(__u16 *)(t + 2) = sport;
	if ((fl & TCP_SYN) && !(fl & TCP_ACK) && open) {
		nseq = (__u32)hs_mix64(seed, ((__u64)seq << 16) | sport);
		nack = seq + 1;
		nfl = TCP_SYN | TCP_ACK;
		win = 65535;
	} else if (fl & TCP_ACK) {
		nseq = ack;
		nack = 0;
		nfl = TCP_RST;
	} else {
		nseq = 0;
		nack = seq + consumed;
		nfl = TCP_RST | TCP_ACK;
	}
	*(__be32 *)(t + 4) = bpf_htonl(nseq);
	*(__be32 *)(t + 8) = bpf_htonl(nack);
	t[12] = 5 << 4; /* no options */
	t[13] = nfl;
	*(__be16 *)(t + 14) = bpf_htons(win);
	*(__u16 *)(t + 16) = 0; /* checksum, filled by the caller */
	*(__u16 *)(t + 18) = 0; /* urgent pointer */
	return 0;
}

#endif
