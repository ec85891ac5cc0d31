/* SPDX-License-Identifier: MIT */
/*
 * How a probe carries its identity, shared by the probe builder (userspace)
 * and the reply matcher (XDP).
 *
 * Identity of a probe = (destination, flow, seq). The 16-bit `seq` is chosen
 * by the prober and maps to (ttl, attempt, send time) on its side; `flow` is
 * the Paris flow identifier, constant for all probes of one flow so ECMP
 * routers keep them on one path. A keyed MAC (SipHash-2-4, hs_mac() below)
 * over (source, destination, method, flow, seq, IP length) authenticates
 * every reply: its 16-bit validation value travels in a header field every
 * reply brings back, its 32-bit tag in the payload, which echo replies, IPv6
 * errors and most IPv4 routers (RFC 1812: as much as fits in 576 bytes)
 * quote; an RFC 792 router's 28-byte quote holds the 16 bits only.
 *
 * Where each field travels (all inside IP header + 8 bytes, the RFC 792
 * minimum quote, except where noted):
 *
 *   udp-paris  IPv4: sport = sport_base + flow, dport fixed,
 *                    IP ID = seq, UDP checksum = validation
 *              IPv6: sport = sport_base + flow, dport fixed,
 *                    UDP checksum = seq, payload[0..1] = validation
 *                    (needs 10 quoted bytes of the probe's UDP part;
 *                    RFC 4443 routers quote up to 1232 bytes)
 *   icmp-paris IPv4/IPv6: echo request, checksum = icmp_csum_base - flow
 *                    (constant per flow), id = seq, sequence = validation
 *   tcp-syn    IPv4/IPv6: SYN, sport = sport_base + flow, dport = tcp_dport,
 *                    sequence number = seq << 16 | validation (quoted in
 *                    the first 8 bytes; a SYN-ACK or RST-ACK from the
 *                    destination acknowledges it + 1)
 *
 * The classic methods change the flow identifier with every probe, as
 * traceroute does (so per-flow load balancers may send each probe another
 * way); they are told from the Paris ones by the matcher's configuration
 * (hs_matcher_config.variants):
 *
 *   udp        as udp-paris, but dport = udp_dport + seq % HS_UDP_CLASSIC_PORTS
 *              (traceroute's incrementing port)
 *   icmp       echo request, id = seq, sequence = validation, checksum as it
 *              falls (no fix-up word; flow is always 0)
 *   tcp-ack    ACK, sport = sport_base + flow, dport = tcp_dport,
 *              sequence number = acknowledgement number = seq << 16 |
 *              validation: quoted like tcp-syn; the destination answers with
 *              an RST (no ACK flag) whose sequence number is our
 *              acknowledgement number (RFC 9293 3.10.7.1), open port or not
 *
 * IPv6 probes of every method carry the flow in their flow label as well:
 * label = (label base + flow) & 0xfffff (hs_flow_label; the base is 0 but
 * where a run follows an application's own flow), so routers that hash the
 * label keep each flow on one path and the MDA's flows spread over them.
 *
 * The payload holds two free bytes that make the checksum come out as wanted,
 * then the 4-byte tag (UDP and ICMP; hs_tag_offset()): payload[0..1] fix-up,
 * [2..5] tag; IPv6 UDP: [0..1] validation, [2..3] fix-up, [4..7] tag.
 * seq is never 0 or 0xffff (so a UDP checksum carrying it is never the
 * "no checksum" value); the validation value is never 0 either.
 */
#ifndef HOPSCOPE_ABI_PROBE_H
#define HOPSCOPE_ABI_PROBE_H

#include "mix.h"
#include "types.h"

enum hs_method {
	HS_METHOD_UDP_PARIS = 1,
	HS_METHOD_ICMP_PARIS = 2,
	HS_METHOD_TCP_SYN = 3,
	HS_METHOD_UDP = 4,
	HS_METHOD_ICMP = 5,
	HS_METHOD_TCP_ACK = 6,
};

/* Destination ports a classic udp run cycles through (udp_dport upwards). */
#define HS_UDP_CLASSIC_PORTS 128

/* Highest number of Paris flows one run may use (flow ids 0..HS_MAX_FLOWS-1). */
#define HS_MAX_FLOWS 256

/* The IPv6 flow label of Paris flow `flow`. */
static inline __u32 hs_flow_label(__u32 base, __u16 flow)
{
	return (base + flow) & 0xfffff;
}

/* 128-bit secret key for the validation value, fresh per run. */
struct hs_key {
	__u64 k0;
	__u64 k1;
};

/*
 * The probe MAC: SipHash-2-4 (Aumasson & Bernstein), keyed with the run's
 * key, over five little-endian 64-bit words (a 40-byte message):
 *
 *   source words 0-1, source words 2-3, destination words 0-1,
 *   destination words 2-3, method << 48 | flow << 32 | seq << 16 | len
 *
 * where address words are the addresses in network byte order as stored in
 * the packet (IPv4 uses word 0 only, the other words are 0) and len is the
 * probe's IP total length for UDP and ICMP probes (a survey's TTL rides in
 * it; every ICMP error quotes it and an echo reply is as long as its
 * request), 0 for TCP (a SYN-ACK says nothing of it). seq is the probe's
 * 16-bit sequence word (trace: an index into its probe table; survey: the
 * send time, probe_codec.hpp).
 *
 * Of the 64-bit result, the low 16 bits are the validation value (never 0:
 * 0 becomes 0xffff) that travels in a header field every reply brings back,
 * the high 32 bits the tag that travels in the payload where the reply
 * quotes it (hs_tag_offset()). Tests cross-check it with libsodium's
 * crypto_shorthash_siphash24.
 */
struct hs_sip {
	__u64 v0, v1, v2, v3;
};

#define HS_ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static inline void hs_sip_round(struct hs_sip *s)
{
	s->v0 += s->v1;
	s->v1 = HS_ROTL64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = HS_ROTL64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = HS_ROTL64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = HS_ROTL64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = HS_ROTL64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = HS_ROTL64(s->v2, 32);
}

/* One message word (two compression rounds). */
static inline void hs_sip_word(struct hs_sip *s, __u64 m)
{
	s->v3 ^= m;
	hs_sip_round(s);
	hs_sip_round(s);
	s->v0 ^= m;
}

/* A 32-bit address word pair as the little-endian word SipHash reads from
 * the 8 bytes w[0], w[1] (each in network order as in the packet). */
static inline __u64 hs_sip_le(__u32 lo, __u32 hi)
{
	return (__u64)hi << 32 | lo;
}

/* The MAC state after the key and the source: fixed for a run. */
static inline struct hs_sip hs_mac_src(const struct hs_key *key, const __u32 src[4])
{
	struct hs_sip s = {
		.v0 = key->k0 ^ 0x736f6d6570736575ULL,
		.v1 = key->k1 ^ 0x646f72616e646f6dULL,
		.v2 = key->k0 ^ 0x6c7967656e657261ULL,
		.v3 = key->k1 ^ 0x7465646279746573ULL,
	};

	hs_sip_word(&s, hs_sip_le(src[0], src[1]));
	hs_sip_word(&s, hs_sip_le(src[2], src[3]));
	return s;
}

/* The rest of hs_mac(), from hs_mac_src()'s state. */
static inline __u64 hs_mac_from(struct hs_sip s, const __u32 dst[4], __u8 method, __u16 flow,
				__u16 seq, __u16 len)
{
	hs_sip_word(&s, hs_sip_le(dst[0], dst[1]));
	hs_sip_word(&s, hs_sip_le(dst[2], dst[3]));
	hs_sip_word(&s, (__u64)method << 48 | (__u64)flow << 32 | (__u64)seq << 16 | len);
	hs_sip_word(&s, 40ULL << 56); /* the final block: the message length, no tail */
	s.v2 ^= 0xff;
	hs_sip_round(&s);
	hs_sip_round(&s);
	hs_sip_round(&s);
	hs_sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

static inline __u64 hs_mac(const struct hs_key *key, const __u32 src[4], const __u32 dst[4],
			   __u8 method, __u16 flow, __u16 seq, __u16 len)
{
	return hs_mac_from(hs_mac_src(key, src), dst, method, flow, seq, len);
}

/* The 16-bit validation value of a MAC (never 0). */
static inline __u16 hs_mac_val(__u64 mac)
{
	__u16 v = (__u16)mac;

	return v ? v : 0xffff;
}

/* The 32-bit payload tag of a MAC (never 0: an all-zero tag is a quote's
 * padding, not a tag). */
static inline __u32 hs_mac_tag(__u64 mac)
{
	__u32 t = (__u32)(mac >> 32);

	return t ? t : 1;
}

/* Whether a method's MAC covers the IP length (UDP and ICMP: yes). */
static inline int hs_mac_has_len(__u8 method)
{
	return method != HS_METHOD_TCP_SYN && method != HS_METHOD_TCP_ACK;
}

/*
 * Where the tag sits, in bytes after the 8-byte UDP/ICMP header: after the
 * checksum fix-up word (and IPv6 UDP's validation word). TCP probes carry
 * no payload and no tag: their MAC is the 16-bit value alone.
 */
static inline __u32 hs_tag_offset(int family, __u8 method)
{
	return (family == 6 && (method == HS_METHOD_UDP_PARIS || method == HS_METHOD_UDP)) ? 4 : 2;
}

#endif
