/* SPDX-License-Identifier: MIT */
/*
 * How a probe carries its identity, shared by the probe builder (userspace)
 * and the reply matcher (XDP).
 *
 * Identity of a probe = (destination, flow, seq). The 16-bit `seq` is chosen
 * by the prober and maps to (ttl, attempt, send time) on its side; `flow` is
 * the Paris flow identifier, constant for all probes of one flow so ECMP
 * routers keep them on one path. A 16-bit keyed validation value over
 * (source, destination, method, flow, seq) rejects stale and spoofed replies.
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
 * The payload holds two free bytes that make the checksum come out as wanted.
 * seq is never 0 or 0xffff (so a UDP checksum carrying it is never the
 * "no checksum" value); the validation value is never 0 either.
 */
#ifndef HOPSCOPE_ABI_PROBE_H
#define HOPSCOPE_ABI_PROBE_H

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
 * Keyed 16-bit validation value. A keyed 64-bit mix (multiply/xorshift
 * rounds, as in murmur3's finaliser) over the probe's identity. It is not a
 * cryptographic MAC: it rejects stale replies from earlier runs, other
 * programs' probes and blind spoofing (1 in 65536 passes by chance).
 * addr words are the addresses in network byte order as stored in the
 * packet (IPv4 uses word 0 only, the other words are 0).
 */
static inline __u64 hs_mix64(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

/* The hash state after the key and the source: fixed for a run. */
static inline __u64 hs_validation_src(const struct hs_key *key, const __u32 src[4])
{
	__u64 h = key->k0;

	h = hs_mix64(h, ((__u64)src[0] << 32) | src[1]);
	return hs_mix64(h, ((__u64)src[2] << 32) | src[3]);
}

/* The rest of hs_validation(), from hs_validation_src()'s state. */
static inline __u16 hs_validation_from(__u64 h, __u64 k1, const __u32 dst[4], __u8 method,
				       __u16 flow, __u16 seq)
{
	h = hs_mix64(h, ((__u64)dst[0] << 32) | dst[1]);
	h = hs_mix64(h, ((__u64)dst[2] << 32) | dst[3]);
	h = hs_mix64(h, ((__u64)method << 32) | ((__u64)flow << 16) | seq);
	h = hs_mix64(h, k1);
	__u16 v = (__u16)(h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48));
	return v ? v : 0xffff;
}

static inline __u16 hs_validation(const struct hs_key *key, const __u32 src[4], const __u32 dst[4],
				  __u8 method, __u16 flow, __u16 seq)
{
	return hs_validation_from(hs_validation_src(key, src), key->k1, dst, method, flow, seq);
}

#endif
