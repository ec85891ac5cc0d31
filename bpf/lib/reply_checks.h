/* SPDX-License-Identifier: MIT */
/*
 * Integrity checks of a candidate reply before it becomes a record (reply
 * matcher): lengths the headers claim must fit the frame and their own
 * headers, and every checksum must verify (IPv4 header; ICMP, ICMPv6 and TCP
 * over the whole message, the pseudo-header included for ICMPv6 and TCP).
 *
 * The message is copied into a per-CPU scratch buffer (bpf_xdp_load_bytes)
 * and summed with bpf_csum_diff in 512-byte pieces. Messages longer than
 * HS_CSUM_MAX (only echo replies to jumbo probes; ICMP errors are at most
 * 576 bytes in IPv4 and 1280 in IPv6) are length-checked only.
 *
 * TCP from a Linux stack on the same host (veth, as in the lab) may arrive
 * with checksum offload pending (CHECKSUM_PARTIAL): the field then holds the
 * folded pseudo-header sum, not the full checksum; that form is accepted for
 * TCP. This is a check against corruption; the keyed validation value is the
 * one against forgery.
 */
#ifndef HOPSCOPE_BPF_REPLY_CHECKS_H
#define HOPSCOPE_BPF_REPLY_CHECKS_H

#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define HS_CSUM_MAX   1536
#define HS_CSUM_PIECE 512

struct hs_scratch {
	__u8 b[HS_CSUM_MAX + 4];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_scratch);
} hs_scratch_buf SEC(".maps");

/* What the checks need to know about a candidate, from the parse. */
struct hs_reply_shape {
	__u16 l3_off; /* frame offset of the outer IP header */
	__u16 l4_off; /* frame offset of the ICMP / TCP header */
	__u16 l3_len; /* the outer IP length the header claims (header included) */
	__u8 family;  /* 4 or 6 */
	__u8 proto;   /* IPPROTO_ICMP, IPPROTO_ICMPV6 or IPPROTO_TCP */
};

static __always_inline __u16 hs_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The one's-complement sum (unfolded, memory order) of `len` frame bytes at `off`; -1 if they
 * cannot be read. */
static __always_inline __s64 hs_sum_bytes(struct xdp_md *ctx, __u32 off, __u32 len)
{
	__u32 zero = 0;
	struct hs_scratch *s = bpf_map_lookup_elem(&hs_scratch_buf, &zero);

	if (!s || len == 0 || len > HS_CSUM_MAX)
		return -1;
	/* Zero the word the message ends in, then copy: the sum is over whole words. */
	__u32 tail = len & ~3u;

	if (tail > HS_CSUM_MAX)
		return -1;
	*(__u32 *)&s->b[tail] = 0;
	if (bpf_xdp_load_bytes(ctx, off, s->b, len) != 0)
		return -1;
	__u32 words = (len + 3) & ~3u;
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < HS_CSUM_MAX / HS_CSUM_PIECE; i++) {
		__u32 start = i * HS_CSUM_PIECE;

		if (start >= words)
			break;
		__u32 n = words - start;

		if (n > HS_CSUM_PIECE)
			n = HS_CSUM_PIECE;
		n &= 0x3fc;
		if (n > HS_CSUM_PIECE)
			return -1;
		__s64 part = bpf_csum_diff(0, 0, (__be32 *)&s->b[start], n, 0);

		if (part < 0)
			return -1;
		sum += (__u32)part;
	}
	return (__s64)sum;
}

/* Sum of `n` bytes (a multiple of 4, at most 40) at `off` read straight from the frame. */
static __always_inline __s64 hs_sum_small(struct xdp_md *ctx, __u32 off, __u32 n)
{
	__be32 w[10] = {};

	if (n == 0 || n > sizeof(w) || n % 4)
		return -1;
	if (bpf_xdp_load_bytes(ctx, off, w, n) != 0)
		return -1;
	return bpf_csum_diff(0, 0, w, sizeof(w), 0);
}

/*
 * 0 when the candidate's lengths and checksums are right, 1 when a length
 * is impossible (malformed), 2 when a checksum does not verify.
 */
static __always_inline int hs_check_reply(struct xdp_md *ctx, const struct hs_reply_shape *sh)
{
	const __u32 frame = ctx->data_end - ctx->data;
	const __u32 hdr = sh->l4_off - sh->l3_off; /* IP header(s) */
	const __u32 min_l4 = sh->proto == IPPROTO_TCP ? 20 : 8;

	if (sh->l3_len < hdr + min_l4 || sh->l3_off + sh->l3_len > frame)
		return 1;
	const __u32 l4_len = sh->l3_len - hdr;
	__u64 sum = 0;

	if (sh->family == 4) {
		__s64 h = hs_sum_small(ctx, sh->l3_off, hdr > 40 ? 40 : hdr);

		if (hdr > 40) { /* options beyond 20 bytes of them: the rest */
			__s64 rest = hs_sum_small(ctx, sh->l3_off + 40, hdr - 40);

			if (rest < 0)
				return 1;
			h += rest;
		}
		if (h < 0 || hs_fold((__u64)h) != 0xffff)
			return 2;
	}
	if (sh->family == 6 || sh->proto == IPPROTO_TCP) { /* the pseudo-header */
		__s64 addrs = sh->family == 6 ? hs_sum_small(ctx, sh->l3_off + 8, 32)
					      : hs_sum_small(ctx, sh->l3_off + 12, 8);

		if (addrs < 0)
			return 1;
		sum += (__u64)addrs + bpf_htonl(l4_len) + bpf_htonl(sh->proto);
	}
	if (l4_len > HS_CSUM_MAX)
		return 0; /* a jumbo echo reply: lengths checked only */
	__s64 body = hs_sum_bytes(ctx, sh->l4_off, l4_len);

	if (body < 0)
		return 1;
	if (hs_fold(sum + (__u64)body) == 0xffff)
		return 0;
	if (sh->proto == IPPROTO_TCP) { /* offload pending: the field holds the pseudo-header sum */
		__u16 field;

		if (bpf_xdp_load_bytes(ctx, sh->l4_off + 16, &field, 2) == 0 &&
		    field == hs_fold(sum))
			return 0;
	}
	return 2;
}

#endif
