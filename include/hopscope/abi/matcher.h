/* SPDX-License-Identifier: MIT */
/* XDP reply matcher: its load-time configuration and its ring-buffer record. */
#ifndef HOPSCOPE_ABI_MATCHER_H
#define HOPSCOPE_ABI_MATCHER_H

#include "types.h"
#include "probe.h"

/* Written into the program's read-only data before load. */
struct hs_matcher_config {
	struct hs_key key;
	__u16 udp_sport_base; /* udp-paris source port of flow 0 (host order) */
	__u16 udp_dport;      /* udp-paris destination port (host order) */
	__u16 icmp_csum_base; /* icmp-paris checksum of flow 0 (host order) */
	__u16 nflows;	      /* flows in use: 1..HS_MAX_FLOWS */
	__u32 wakeup_bytes;   /* force a ring-buffer wake-up when this much is queued */
	__u16 capture_bytes;  /* > 0: also copy the first this many bytes of every matched reply
			       * frame to hs_captures (pcap output), at most HS_CAPTURE_MAX */
	__u16 tcp_dport;      /* tcp-syn destination port (host order) */
	__u32 src4;	      /* our IPv4 source (network order), 0 = unknown: a quote whose source
			       * differs was rewritten on the way (NAT) */
	__u8 variants;	      /* HS_MV_*: which encoding of each protocol this run uses */
	__u8 _pad2[3];
};
HS_STATIC_ASSERT(sizeof(struct hs_matcher_config) == 40, "hs_matcher_config layout");

/* hs_matcher_config.variants: a run uses one encoding per protocol (probe.h). */
#define HS_MV_UDP_CLASSIC  0x01 /* UDP probes are classic udp, not udp-paris */
#define HS_MV_ICMP_CLASSIC 0x02 /* ICMP echo probes are classic icmp, not icmp-paris */
#define HS_MV_TCP_ACK	   0x04 /* TCP probes are tcp-ack, not tcp-syn */
/* UDP and TCP probes may have any ports (several traces through one matcher,
 * each from its own source port: watch). Their flow is 0 for validation and
 * the record's `flow` carries the probe's source port instead, for userspace
 * to tell the traces apart; udp_sport_base, udp_dport, tcp_dport and nflows
 * are not checked. */
#define HS_MV_ANY_PORT 0x08

enum hs_family {
	HS_AF_INET = 4,
	HS_AF_INET6 = 6,
};

/* What kind of reply a record is. */
enum hs_reply_kind {
	HS_REPLY_TIME_EXCEEDED = 1,  /* ICMP 11 / ICMPv6 3 */
	HS_REPLY_DEST_UNREACH = 2,   /* ICMP 3 / ICMPv6 1 */
	HS_REPLY_PACKET_TOO_BIG = 3, /* ICMPv6 2 (IPv4 uses DEST_UNREACH code 4) */
	HS_REPLY_ECHO_REPLY = 4,     /* ICMP 0 / ICMPv6 129 */
	HS_REPLY_TCP_SYNACK = 5,     /* TCP SYN-ACK from the destination: the port is open */
	HS_REPLY_TCP_RST = 6,	     /* TCP RST(-ACK) from the destination: the port is closed */
};

/* A copy of a matched reply frame, for `--pcap` (ring buffer hs_captures). */
#define HS_CAPTURE_MAX 256
struct hs_capture {
	__u64 rx_ns;  /* as the reply record's */
	__u16 len;    /* frame length */
	__u16 caplen; /* bytes in data[] */
	__u32 _pad;
	__u8 data[HS_CAPTURE_MAX];
};
HS_STATIC_ASSERT(sizeof(struct hs_capture) == 16 + HS_CAPTURE_MAX, "hs_capture layout");

/* MPLS label stack entries a record carries. */
#define HS_MAX_MPLS 3

/* Record flags. */
#define HS_RF_QUOTE_FULL 0x01 /* the quote held the probe's whole L4 header and payload */
#define HS_RF_SRC_REWRITTEN                                                                        \
	0x02 /* the quoted probe's IPv4 source is not ours: a NAT rewrote it                       \
	      */
/* Validated by the 16-bit value alone: a TCP reply, or an IPv4 router that
 * quoted too little of the probe to hold its 32-bit tag (abi/probe.h). */
#define HS_RF_MAC_SHORT 0x04

/*
 * One record per matched reply. Addresses are in network byte order; IPv4
 * addresses occupy the first 4 bytes, the rest is zero.
 */
struct hs_reply_record {
	__u64 rx_ns;	    /* bpf_ktime_get_ns() at XDP ingress (CLOCK_MONOTONIC) */
	__u8 responder[16]; /* source address of the reply */
	__u8 probe_dst[16]; /* destination of the probe (from the quote or the echo reply) */
	__u16 seq;	    /* probe sequence (identity) */
	__u16 flow;	    /* Paris flow id (HS_MV_ANY_PORT: the probe's source port) */
	__u16 mtu;	    /* next-hop MTU of Frag Needed / Packet Too Big, else 0 */
	__u16 quoted_len;   /* IP length of the probe (from the quote; for echo replies the reply's
			       own, = the request's) */
	__u8 family;	    /* enum hs_family */
	__u8 method;	    /* enum hs_method of the probe */
	__u8 kind;	    /* enum hs_reply_kind */
	__u8 icmp_type;	    /* raw ICMP / ICMPv6 type */
	__u8 icmp_code;	    /* raw code (TCP replies: the TCP flags, icmp_type 0) */
	__u8 reply_ttl;	    /* TTL / hop limit of the reply as it arrived */
	__u8 quoted_ttl;    /* TTL / hop limit of the probe as the responder saw it */
	__u8 quoted_tos;    /* TOS / traffic class of the quoted probe */
	__u16 quote_bytes;  /* bytes of the probe quoted (from its IP header on) */
	__u8 flags;	    /* HS_RF_* */
	__u8 reply_tos;	    /* TOS / traffic class of the reply */
	__u16 reply_len;    /* IP length of the reply itself (header included) */
	__u16 reply_ipid;   /* IP ID of the reply (IPv4; 0 for IPv6) */
	/* RFC 4950 MPLS label stack entries from an RFC 4884 extension, in host
	 * order: label << 12 | TC << 9 | S << 8 | TTL. */
	__u32 mpls[HS_MAX_MPLS];
	__u8 mpls_count; /* entries in mpls[] */
	__u8 mpls_total; /* entries the reply carried (more than HS_MAX_MPLS: cut) */
	__u8 _pad[2];
};
HS_STATIC_ASSERT(sizeof(struct hs_reply_record) == 80, "hs_reply_record layout");

#endif
