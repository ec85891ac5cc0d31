// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hopscope XDP reply matcher.
 *
 * Runs on the probing interface. Recognises ICMP/ICMPv6 replies to our probes
 * (Time Exceeded, Destination Unreachable, Packet Too Big, Echo Reply),
 * decodes the probe's identity from the quote (IP header + 8 bytes is enough
 * for IPv4), checks the keyed validation value, then the reply's lengths and
 * checksums (lib/reply_checks.h), stamps the arrival time and
 * pushes one hs_reply_record into a ring buffer. Matched replies are dropped;
 * everything else passes untouched. See include/hopscope/abi/probe.h for the
 * probe encoding.
 */
#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "hopscope/abi/matcher.h"
#include "lib/counters.h"
#include "lib/csum.h"
#include "lib/headers.h"
#include "lib/reply_checks.h"
#include "lib/wakeup.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile struct hs_matcher_config hs_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} hs_replies SEC(".maps");

/* Copies of matched reply frames (only when capture_bytes > 0; sized by userspace). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 12);
} hs_captures SEC(".maps");

/* For --pcap: the first capture_bytes of the reply frame. A full ring only
 * loses the copy (counted by userspace as a gap), never the record. */
static __always_inline void capture(struct xdp_md *ctx, __u64 rx_ns)
{
	__u32 want = hs_cfg.capture_bytes;

	if (!want)
		return;
	struct hs_capture *c = bpf_ringbuf_reserve(&hs_captures, sizeof(*c), 0);

	if (!c) {
		hs_count(HS_CNT_CAPTURE_FULL);
		return;
	}
	__u32 len = ctx->data_end - ctx->data;
	__u64 n = len < want ? len : want;

	/* The verifier needs the bound on the very (64-bit) register passed below. */
	asm volatile("" : "+r"(n));
	n &= 0x1ff;
	if (n > HS_CAPTURE_MAX)
		n = HS_CAPTURE_MAX;
	c->rx_ns = rx_ns;
	c->len = (__u16)len;
	c->caplen = 0;
	if (n > 0 && bpf_xdp_load_bytes(ctx, 0, c->data, n) == 0)
		c->caplen = (__u16)n;
	bpf_ringbuf_submit(c, 0);
}

enum verdict {
	V_NOT_OURS = 0,
	V_MALFORMED,
	V_CANDIDATE, /* identity decoded, validation not yet checked */
};

/* What the validation value is computed over, plus the value carried. */
struct probe_identity {
	__u32 src[4];
	__u32 dst[4];
	__u16 flow;
	__u16 seq;
	__u16 val;
	__u16 sport; /* of a UDP/TCP probe (HS_MV_ANY_PORT records it) */
	__u8 method;
	__u8 tag_required;	     /* the reply must hold the tag (IPv6 errors, echo replies) */
	__u32 tag;		     /* the payload tag as carried, 0: not in the reply */
	__u16 tag_need;		     /* quote bytes (from the quoted IP header) that hold the tag */
	__u16 quote_limit;	     /* RFC 4884 length of the quote, 0: none given */
	struct hs_reply_shape shape; /* for the integrity checks (l3_off set by the caller) */
};

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY   129
#define IPV6_EXT_HOP	   0
#define IPV6_EXT_ROUTING   43
#define IPV6_EXT_DSTOPTS   60

/* Where the tag sits from the start of a UDP/ICMP header (abi/probe.h;
 * constant for constant arguments). ICMP's is the same in both families. */
#define TAG_AT(family, method) (8 + hs_tag_offset(family, method))

/* The 32-bit tag `off` bytes into a probe's (or echo reply's) UDP/ICMP part,
 * if the packet holds it. */
static __always_inline void read_tag(void *l4, __u32 off, void *end, struct probe_identity *id)
{
	__u8 *t = HS_PTR(l4, off, 4, end);

	if (t)
		id->tag = (__u32)t[0] << 24 | (__u32)t[1] << 16 | (__u32)t[2] << 8 | t[3];
}

/* A quoted UDP probe (id->seq already decoded): udp-paris, or classic udp
 * whose destination port follows seq. */
static __always_inline int udp_identity(__u16 sport, __u16 dport, struct probe_identity *id)
{
	__u16 want = hs_cfg.udp_dport;
	__u16 f = sport - hs_cfg.udp_sport_base;

	id->method = HS_METHOD_UDP_PARIS;
	id->sport = sport;
	if (hs_cfg.variants & HS_MV_ANY_PORT) {
		id->flow = 0;
		return V_CANDIDATE;
	}
	if (hs_cfg.variants & HS_MV_UDP_CLASSIC) {
		want += id->seq % HS_UDP_CLASSIC_PORTS;
		id->method = HS_METHOD_UDP;
	}
	if (dport != want || f >= hs_cfg.nflows)
		return V_NOT_OURS;
	id->flow = f;
	return V_CANDIDATE;
}

/* The first 8 bytes of a TCP header (all an RFC 792 quote holds). */
struct hs_tcp8 {
	__be16 source;
	__be16 dest;
	__be32 seq;
};

static __always_inline int flow_from_tcp_sport(__u16 sport, __u16 dport, struct probe_identity *id)
{
	__u16 f = sport - hs_cfg.udp_sport_base;

	id->sport = sport;
	if (hs_cfg.variants & HS_MV_ANY_PORT) {
		id->flow = 0;
		return V_CANDIDATE;
	}
	if (!hs_cfg.tcp_dport || dport != hs_cfg.tcp_dport || f >= hs_cfg.nflows)
		return V_NOT_OURS;
	id->flow = f;
	return V_CANDIDATE;
}

/* A quoted tcp-syn probe: identity in its sequence number. */
static __always_inline int decode_quoted_tcp(void *th_at, void *end, struct probe_identity *id)
{
	struct hs_tcp8 *th = HS_PTR(th_at, 0, sizeof(*th), end);

	if (!th)
		return V_MALFORMED;
	const __u32 s = bpf_ntohl(th->seq);

	id->method = hs_cfg.variants & HS_MV_TCP_ACK ? HS_METHOD_TCP_ACK : HS_METHOD_TCP_SYN;
	id->seq = s >> 16;
	id->val = s & 0xffff;
	return flow_from_tcp_sport(bpf_ntohs(th->source), bpf_ntohs(th->dest), id);
}

/*
 * A TCP segment from the destination answering a tcp-syn probe: SYN-ACK
 * (open) or RST-ACK (closed), both acknowledging our sequence number + 1;
 * or answering a tcp-ack probe: an RST without ACK whose sequence number is
 * our acknowledgement number. The caller filled the addresses; tcp_at is the
 * TCP header.
 */
static __always_inline int match_tcp_reply(void *tcp_at, void *end, struct hs_reply_record *rec,
					   struct probe_identity *id)
{
	__u8 *th = HS_PTR(tcp_at, 0, 20, end);

	if (!th)
		return V_NOT_OURS;
	const __u16 sport = (__u16)(th[0] << 8 | th[1]), dport = (__u16)(th[2] << 8 | th[3]);
	const __u8 flags = th[13];

	if (hs_cfg.variants & HS_MV_TCP_ACK) {
		if ((flags & 0x16) != 0x04) /* RST without SYN or ACK */
			return V_NOT_OURS;
		const __u32 s = (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];

		rec->kind = HS_REPLY_TCP_RST;
		rec->icmp_type = 0;
		rec->icmp_code = flags;
		id->method = HS_METHOD_TCP_ACK;
		id->seq = s >> 16;
		id->val = s & 0xffff;
		return flow_from_tcp_sport(dport, sport, id);
	}
	if (!(flags & 0x10)) /* no ACK: not an answer to our SYN */
		return V_NOT_OURS;
	if ((flags & 0x12) == 0x12)
		rec->kind = HS_REPLY_TCP_SYNACK;
	else if (flags & 0x04)
		rec->kind = HS_REPLY_TCP_RST;
	else
		return V_NOT_OURS;
	rec->icmp_type = 0;
	rec->icmp_code = flags;
	const __u32 ack =
		((__u32)th[8] << 24 | (__u32)th[9] << 16 | (__u32)th[10] << 8 | th[11]) - 1;

	id->method = HS_METHOD_TCP_SYN;
	id->seq = ack >> 16;
	id->val = ack & 0xffff;
	/* The reply goes from the probed port to our source port. */
	return flow_from_tcp_sport(dport, sport, id);
}

/* An echo request's (or its reply's undone) checksum: icmp-paris carries
 * the flow in it; classic icmp lets it fall as it may (flow 0). */
static __always_inline int icmp_identity(__u16 csum, struct probe_identity *id)
{
	if (hs_cfg.variants & HS_MV_ICMP_CLASSIC) {
		id->method = HS_METHOD_ICMP;
		id->flow = 0;
		return V_CANDIDATE;
	}
	__u16 f = hs_cfg.icmp_csum_base - csum;

	id->method = HS_METHOD_ICMP_PARIS;
	if (f >= hs_cfg.nflows)
		return V_NOT_OURS;
	id->flow = f;
	return V_CANDIDATE;
}

/* Quoted IPv4 probe at `inner` (inside an ICMP error). */
static __always_inline int decode_quote_v4(void *inner, void *end, struct hs_reply_record *rec,
					   struct probe_identity *id)
{
	struct iphdr *iph = HS_PTR(inner, 0, sizeof(*iph), end);

	if (!iph)
		return V_MALFORMED;
	__u32 ihl = iph->ihl * 4;

	if (iph->version != 4 || ihl < sizeof(*iph))
		return V_MALFORMED;

	id->src[0] = iph->saddr;
	id->dst[0] = iph->daddr;
	__builtin_memcpy(rec->probe_dst, &iph->daddr, 4);
	rec->quoted_ttl = iph->ttl;
	rec->quoted_tos = iph->tos;
	rec->quoted_len = bpf_ntohs(iph->tot_len);
	rec->quote_bytes = (__u16)((long)end - (long)inner);

	if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *uh = HS_PTR(inner, ihl, sizeof(*uh), end);

		if (!uh)
			return V_MALFORMED;
		id->seq = bpf_ntohs(iph->id);
		id->val = bpf_ntohs(uh->check);
		id->tag_need = ihl + TAG_AT(4, HS_METHOD_UDP_PARIS) + 4;
		read_tag(uh, TAG_AT(4, HS_METHOD_UDP_PARIS), end, id);
		return udp_identity(bpf_ntohs(uh->source), bpf_ntohs(uh->dest), id);
	}
	if (iph->protocol == IPPROTO_ICMP) {
		struct hs_icmphdr *ih = HS_PTR(inner, ihl, sizeof(*ih), end);

		if (!ih)
			return V_MALFORMED;
		if (ih->type != HS_ICMP_ECHO || ih->code != 0)
			return V_NOT_OURS;
		id->seq = bpf_ntohs(ih->un.echo.id);
		id->val = bpf_ntohs(ih->un.echo.sequence);
		id->tag_need = ihl + TAG_AT(4, HS_METHOD_ICMP_PARIS) + 4;
		read_tag(ih, TAG_AT(4, HS_METHOD_ICMP_PARIS), end, id);
		return icmp_identity(bpf_ntohs(ih->checksum), id);
	}
	if (iph->protocol == IPPROTO_TCP)
		return decode_quoted_tcp(inner + ihl, end, id);
	return V_NOT_OURS;
}

/* Label stack entry i of the MPLS object at ext (after the 4-byte extension
 * header and the 4-byte object header), if the object has it. */
static __always_inline void read_lse(__u8 *ext, void *end, __u32 i, __u32 n,
				     struct hs_reply_record *rec)
{
	if (i >= n || i >= HS_MAX_MPLS || rec->mpls_count != i)
		return;
	__u8 *e = HS_PTR(ext, 8 + 4 * i, 4, end);

	if (!e)
		return;
	rec->mpls[i] = (__u32)e[0] << 24 | (__u32)e[1] << 16 | (__u32)e[2] << 8 | e[3];
	rec->mpls_count = i + 1;
}

/*
 * RFC 4884 extension structure after the quote of an ICMP error, with an RFC
 * 4950 MPLS label stack object: copied into the record. `payload` is where
 * the quote starts; `quote_len` the quote's length from the ICMP header's
 * length field (RFC 4884), or 0 for a router that sets none, whose extension
 * (if any) sits after a 128-byte quote (the pre-4884 custom, RFC 4884 5.5).
 */
static __always_inline void parse_mpls_ext(void *payload, void *end, __u32 quote_len,
					   struct hs_reply_record *rec)
{
	if (!quote_len) {
		if (payload + 128 + 8 > end)
			return;
		quote_len = 128;
	}
	if (quote_len > 1024)
		return;
	__u8 *ext = HS_PTR(payload, quote_len, 8, end);

	if (!ext || ext[0] >> 4 != 2) /* extension version 2 */
		return;
	/* First object (routers send the MPLS stack alone or first). */
	__u16 obj_len = (__u16)(ext[4] << 8 | ext[5]);

	if (ext[6] != 1 || ext[7] != 1 || obj_len < 8 || obj_len % 4) /* class 1, c-type 1 */
		return;
	const __u32 n = ((__u32)obj_len - 4) >> 2;

	rec->mpls_total = n > 255 ? 255 : (__u8)n;
	read_lse(ext, end, 0, n, rec);
	read_lse(ext, end, 1, n, rec);
	read_lse(ext, end, 2, n, rec);
}

static __always_inline int match_v4(void *l3, void *end, struct hs_reply_record *rec,
				    struct probe_identity *id)
{
	struct iphdr *iph = HS_PTR(l3, 0, sizeof(*iph), end);

	if (!iph || iph->version != 4 ||
	    (iph->protocol != IPPROTO_ICMP && iph->protocol != IPPROTO_TCP))
		return V_NOT_OURS;
	if (iph->frag_off & bpf_htons(0x3fff)) /* MF or offset: not a whole reply */
		return V_NOT_OURS;
	__u32 ihl = iph->ihl * 4;

	if (ihl < sizeof(*iph))
		return V_MALFORMED;
	id->shape.family = 4;
	id->shape.proto = iph->protocol;
	id->shape.l4_off += ihl;
	id->shape.l3_len = bpf_ntohs(iph->tot_len);
	if (iph->protocol == IPPROTO_TCP) {
		rec->family = HS_AF_INET;
		rec->reply_ttl = iph->ttl;
		rec->reply_len = bpf_ntohs(iph->tot_len);
		rec->reply_tos = iph->tos;
		rec->reply_ipid = bpf_ntohs(iph->id);
		__builtin_memcpy(rec->responder, &iph->saddr, 4);
		__builtin_memcpy(rec->probe_dst, &iph->saddr, 4);
		id->src[0] = iph->daddr;
		id->dst[0] = iph->saddr;
		return match_tcp_reply(l3 + ihl, end, rec, id);
	}
	struct hs_icmphdr *ih = HS_PTR(l3, ihl, sizeof(*ih), end);

	if (!ih)
		return V_MALFORMED;

	rec->family = HS_AF_INET;
	rec->icmp_type = ih->type;
	rec->icmp_code = ih->code;
	rec->reply_ttl = iph->ttl;
	rec->reply_len = bpf_ntohs(iph->tot_len);
	rec->reply_tos = iph->tos;
	rec->reply_ipid = bpf_ntohs(iph->id);
	__builtin_memcpy(rec->responder, &iph->saddr, 4);

	switch (ih->type) {
	case HS_ICMP_ECHOREPLY:
		if (ih->code != 0)
			return V_NOT_OURS;
		rec->kind = HS_REPLY_ECHO_REPLY;
		rec->quoted_len =
			bpf_ntohs(iph->tot_len); /* an echo reply is as long as its request */
		/* The probe went from our address (reply dst) to the replier. */
		id->src[0] = iph->daddr;
		id->dst[0] = iph->saddr;
		__builtin_memcpy(rec->probe_dst, &iph->saddr, 4);
		id->seq = bpf_ntohs(ih->un.echo.id);
		id->val = bpf_ntohs(ih->un.echo.sequence);
		id->tag_required = 1;
		read_tag(ih, TAG_AT(4, HS_METHOD_ICMP_PARIS), end, id);
		/* Type 8 -> 0 lowered the word sum by 0x0800: undo it on the checksum. */
		return icmp_identity(hs_ones_sub(bpf_ntohs(ih->checksum), 0x0800), id);
	case HS_ICMP_TIME_EXCEEDED:
		rec->kind = HS_REPLY_TIME_EXCEEDED;
		break;
	case HS_ICMP_DEST_UNREACH:
		rec->kind = HS_REPLY_DEST_UNREACH;
		if (ih->code == HS_ICMP_FRAG_NEEDED)
			rec->mtu = bpf_ntohs(ih->un.frag.mtu);
		break;
	default:
		return V_NOT_OURS;
	}
	/* RFC 4884: byte 5 of the ICMP header is the quote's length in 32-bit words. */
	id->quote_limit = ((__u8 *)ih)[5] * 4;
	parse_mpls_ext((void *)ih + sizeof(*ih), end, id->quote_limit, rec);
	return decode_quote_v4((void *)ih + sizeof(*ih), end, rec, id);
}

/* Quoted IPv6 probe at `inner` (inside an ICMPv6 error). */
static __always_inline int decode_quote_v6(void *inner, void *end, struct hs_reply_record *rec,
					   struct probe_identity *id)
{
	struct ipv6hdr *ip6 = HS_PTR(inner, 0, sizeof(*ip6), end);

	if (!ip6)
		return V_MALFORMED;
	if (ip6->version != 6)
		return V_MALFORMED;

	__builtin_memcpy(id->src, &ip6->saddr, 16);
	__builtin_memcpy(id->dst, &ip6->daddr, 16);
	__builtin_memcpy(rec->probe_dst, &ip6->daddr, 16);
	rec->quoted_ttl = ip6->hop_limit;
	rec->quoted_tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	rec->quoted_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	rec->quote_bytes = (__u16)((long)end - (long)inner);

	if (ip6->nexthdr == IPPROTO_UDP) {
		/* UDP header + the 2-byte validation value at the start of the payload. */
		struct udphdr *uh = HS_PTR(inner, sizeof(*ip6), sizeof(*uh) + 2, end);

		if (!uh)
			return V_MALFORMED;
		id->seq = bpf_ntohs(uh->check);
		id->val = bpf_ntohs(*(__be16 *)(uh + 1));
		id->tag_required = 1; /* RFC 4443 routers quote up to 1232 bytes */
		id->tag_need = sizeof(*ip6) + TAG_AT(6, HS_METHOD_UDP_PARIS) + 4;
		read_tag(uh, TAG_AT(6, HS_METHOD_UDP_PARIS), end, id);
		return udp_identity(bpf_ntohs(uh->source), bpf_ntohs(uh->dest), id);
	}
	if (ip6->nexthdr == IPPROTO_ICMPV6) {
		struct icmp6hdr *ih = HS_PTR(inner, sizeof(*ip6), sizeof(*ih), end);

		if (!ih)
			return V_MALFORMED;
		if (ih->icmp6_type != ICMP6_ECHO_REQUEST || ih->icmp6_code != 0)
			return V_NOT_OURS;
		id->seq = bpf_ntohs(ih->icmp6_identifier);
		id->val = bpf_ntohs(ih->icmp6_sequence);
		id->tag_required = 1;
		id->tag_need = sizeof(*ip6) + TAG_AT(6, HS_METHOD_ICMP_PARIS) + 4;
		read_tag(ih, TAG_AT(6, HS_METHOD_ICMP_PARIS), end, id);
		return icmp_identity(bpf_ntohs(ih->icmp6_cksum), id);
	}
	if (ip6->nexthdr == IPPROTO_TCP)
		return decode_quoted_tcp(inner + sizeof(*ip6), end, id);
	return V_NOT_OURS;
}

static __always_inline int match_v6(void *l3, void *end, struct hs_reply_record *rec,
				    struct probe_identity *id)
{
	struct ipv6hdr *ip6 = HS_PTR(l3, 0, sizeof(*ip6), end);

	if (!ip6 || ip6->version != 6)
		return V_NOT_OURS;

	/* Skip the extension headers a reply may carry (bounded walk). */
	__u8 nh = ip6->nexthdr;
	__u32 off = sizeof(*ip6);

#pragma unroll
	for (int i = 0; i < 3; i++) {
		if (nh != IPV6_EXT_HOP && nh != IPV6_EXT_ROUTING && nh != IPV6_EXT_DSTOPTS)
			break;
		__u8 *ext = HS_PTR(l3, off, 2, end);

		if (!ext)
			return V_NOT_OURS;
		nh = ext[0];
		off += (ext[1] + 1) * 8;
	}
	id->shape.family = 6;
	id->shape.proto = nh;
	id->shape.l4_off += off;
	id->shape.l3_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	if (nh == IPPROTO_TCP) {
		rec->family = HS_AF_INET6;
		rec->reply_ttl = ip6->hop_limit;
		rec->reply_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		rec->reply_tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
		__builtin_memcpy(rec->responder, &ip6->saddr, 16);
		__builtin_memcpy(rec->probe_dst, &ip6->saddr, 16);
		__builtin_memcpy(id->src, &ip6->daddr, 16);
		__builtin_memcpy(id->dst, &ip6->saddr, 16);
		if (off > 512)
			return V_NOT_OURS;
		return match_tcp_reply(l3 + off, end, rec, id);
	}
	if (nh != IPPROTO_ICMPV6)
		return V_NOT_OURS;
	struct icmp6hdr *ih = HS_PTR(l3, off, sizeof(*ih), end);

	if (!ih)
		return V_MALFORMED;

	rec->family = HS_AF_INET6;
	rec->icmp_type = ih->icmp6_type;
	rec->icmp_code = ih->icmp6_code;
	rec->reply_ttl = ip6->hop_limit;
	rec->reply_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	rec->reply_tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	__builtin_memcpy(rec->responder, &ip6->saddr, 16);

	switch (ih->icmp6_type) {
	case ICMP6_ECHO_REPLY:
		if (ih->icmp6_code != 0)
			return V_NOT_OURS;
		rec->kind = HS_REPLY_ECHO_REPLY;
		rec->quoted_len =
			bpf_ntohs(ip6->payload_len) + sizeof(*ip6); /* as long as its request */
		__builtin_memcpy(id->src, &ip6->daddr, 16);
		__builtin_memcpy(id->dst, &ip6->saddr, 16);
		__builtin_memcpy(rec->probe_dst, &ip6->saddr, 16);
		id->seq = bpf_ntohs(ih->icmp6_identifier);
		id->val = bpf_ntohs(ih->icmp6_sequence);
		id->tag_required = 1;
		read_tag(ih, TAG_AT(6, HS_METHOD_ICMP_PARIS), end, id);
		/* Type 128 -> 129 raised the word sum by 0x0100: undo it on the checksum. */
		return icmp_identity(hs_ones_add(bpf_ntohs(ih->icmp6_cksum), 0x0100), id);
	case ICMPV6_TIME_EXCEED:
		rec->kind = HS_REPLY_TIME_EXCEEDED;
		break;
	case ICMPV6_DEST_UNREACH:
		rec->kind = HS_REPLY_DEST_UNREACH;
		break;
	case ICMPV6_PKT_TOOBIG: {
		__u32 mtu = bpf_ntohl(ih->icmp6_mtu);

		rec->kind = HS_REPLY_PACKET_TOO_BIG;
		rec->mtu = mtu > 0xffff ? 0xffff : (__u16)mtu;
		break;
	}
	default:
		return V_NOT_OURS;
	}
	/* RFC 4884: byte 4 of the ICMPv6 header is the quote's length in 64-bit words. */
	if (rec->kind != HS_REPLY_PACKET_TOO_BIG) {
		id->quote_limit = ((__u8 *)ih)[4] * 8;
		parse_mpls_ext((void *)ih + sizeof(*ih), end, id->quote_limit, rec);
	}
	return decode_quote_v6((void *)ih + sizeof(*ih), end, rec, id);
}

/*
 * A source NAT between us and the router rewrote the quoted probe's source
 * (and, as NATs do, the UDP checksum with it: RFC 1624). Validate the probe
 * as we sent it: our source, and for udp-paris the checksum (our validation
 * value) with the rewrite undone. The record says it happened.
 */
static __always_inline void undo_snat(struct hs_reply_record *rec, struct probe_identity *id)
{
	const __u32 ours = hs_cfg.src4;
	const __u32 seen = id->src[0];

	if (!ours || seen == ours)
		return;
	rec->flags |= HS_RF_SRC_REWRITTEN;
	if (id->method == HS_METHOD_UDP_PARIS || id->method == HS_METHOD_UDP) {
		/* F = ~(~F' + ~m' + m), m the 16-bit words of our address, m' the NAT's. */
		const __u16 m_hi = bpf_ntohl(ours) >> 16, m_lo = bpf_ntohl(ours) & 0xffff;
		const __u16 n_hi = bpf_ntohl(seen) >> 16, n_lo = bpf_ntohl(seen) & 0xffff;
		__u16 sum = (__u16)~id->val;

		sum = hs_ones_sub(sum, n_hi);
		sum = hs_ones_sub(sum, n_lo);
		sum = hs_ones_add(sum, m_hi);
		sum = hs_ones_add(sum, m_lo);
		id->val = (__u16)~sum;
	}
	id->src[0] = ours;
}

/*
 * The 32-bit tag, where the reply holds it (abi/probe.h): 0 if it matches or
 * the reply may lack it (TCP; an IPv4 router's short quote: flagged), -1 if
 * it is wrong or missing where it must be there.
 */
static __always_inline int check_tag(struct hs_reply_record *rec, const struct probe_identity *id,
				     __u64 mac)
{
	__u32 tag = id->tag;

	if (!hs_mac_has_len(id->method)) { /* TCP: nowhere to carry one */
		rec->flags |= HS_RF_MAC_SHORT;
		return 0;
	}
	if (rec->kind == HS_REPLY_ECHO_REPLY) {
		/* As long as the request, which held the tag. */
		if ((__u32)(id->shape.l4_off - id->shape.l3_off) + TAG_AT(4, HS_METHOD_ICMP_PARIS) +
			    4 >
		    id->shape.l3_len)
			tag = 0;
	} else {
		__u32 avail = rec->quote_bytes; /* already cut at the reply's IP length */

		if (id->quote_limit && avail > id->quote_limit)
			avail = id->quote_limit;
		if (avail < id->tag_need)
			tag = 0;
	}
	if (tag)
		return tag == hs_mac_tag(mac) ? 0 : -1;
	if (id->tag_required)
		return -1;
	rec->flags |= HS_RF_MAC_SHORT;
	return 0;
}

static __always_inline int push_record(const struct hs_reply_record *rec)
{
	struct hs_reply_record *slot = bpf_ringbuf_reserve(&hs_replies, sizeof(*slot), 0);

	if (!slot)
		return -1;
	*slot = *rec;
	/*
	 * Batched wake-ups: wake the consumer only when the backlog crosses a
	 * multiple of wakeup_bytes (once per wakeup_bytes produced, not on every
	 * record of a large backlog). The consumer also polls on a short timer,
	 * so a small backlog is never stranded.
	 */
	__u64 queued = bpf_ringbuf_query(&hs_replies, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(slot, hs_should_wake(queued, sizeof(*slot), hs_cfg.wakeup_bytes)
					 ? BPF_RB_FORCE_WAKEUP
					 : BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("xdp")
int hs_reply_matcher(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct hs_reply_record rec = {};
	struct probe_identity id = {};
	__u16 l3proto = 0;
	int verdict = V_NOT_OURS;

	hs_count(HS_CNT_SEEN);
	int off = hs_parse_eth(data, end, &l3proto);

	if (off >= 0) {
		id.shape.l3_off = (__u16)off;
		id.shape.l4_off = (__u16)off;
		if (l3proto == ETH_P_IP)
			verdict = match_v4(data + off, end, &rec, &id);
		else if (l3proto == ETH_P_IPV6)
			verdict = match_v6(data + off, end, &rec, &id);
	}

	if (verdict == V_NOT_OURS) {
		hs_count(HS_CNT_NOT_OURS);
		return XDP_PASS;
	}
	if (verdict == V_MALFORMED) {
		hs_count(HS_CNT_MALFORMED);
		return XDP_PASS;
	}

	rec.rx_ns = bpf_ktime_get_ns();
	if (rec.family == HS_AF_INET && rec.kind != HS_REPLY_ECHO_REPLY &&
	    rec.kind != HS_REPLY_TCP_SYNACK && rec.kind != HS_REPLY_TCP_RST)
		undo_snat(&rec, &id);
	if (rec.kind <=
	    HS_REPLY_PACKET_TOO_BIG) { /* an error: its quote ends where the IP length says */
		const __u32 quote_end = (__u32)id.shape.l3_off + id.shape.l3_len;
		const __u32 quote_at = (__u32)id.shape.l4_off + 8;

		if (quote_end < quote_at + rec.quote_bytes)
			rec.quote_bytes = quote_end > quote_at ? (__u16)(quote_end - quote_at) : 0;
		/* The identity was read from bytes past the reply's IP length. */
		if (rec.quote_bytes < (rec.family == HS_AF_INET ? 28 : 48)) {
			hs_count(HS_CNT_MALFORMED);
			return XDP_PASS;
		}
	}
	struct hs_key key = {.k0 = hs_cfg.key.k0, .k1 = hs_cfg.key.k1};
	const __u64 mac = hs_mac(&key, id.src, id.dst, id.method, id.flow, id.seq,
				 hs_mac_has_len(id.method) ? rec.quoted_len : 0);

	if (hs_mac_val(mac) != id.val || check_tag(&rec, &id, mac)) {
		hs_count(HS_CNT_INVALID);
		return XDP_PASS;
	}

	/* Ours: now the lengths and checksums, before anything is believed. */
	const int bad = hs_check_reply(ctx, &id.shape);

	if (bad) {
		hs_count(bad == 1 ? HS_CNT_MALFORMED : HS_CNT_BAD_CHECKSUM);
		return XDP_PASS;
	}
	rec.seq = id.seq;
	rec.flow = (hs_cfg.variants & HS_MV_ANY_PORT) && id.method != HS_METHOD_ICMP_PARIS &&
				   id.method != HS_METHOD_ICMP
			   ? id.sport
			   : id.flow;
	rec.method = id.method;
	if (rec.quoted_len && rec.quote_bytes >= rec.quoted_len)
		rec.flags |= HS_RF_QUOTE_FULL;

	if (push_record(&rec) < 0) {
		hs_count(HS_CNT_RINGBUF_FULL);
	} else {
		hs_count(HS_CNT_MATCHED);
		capture(ctx, rec.rx_ns);
	}
	/* A SYN-ACK goes on to the stack, which has no socket for it and resets
	 * the handshake: no half-open connection is left at the destination. */
	return rec.kind == HS_REPLY_TCP_SYNACK ? XDP_PASS : XDP_DROP;
}
