/* SPDX-License-Identifier: MIT */
/* Per-CPU counters kept by the XDP reply matcher (index into hs_counters). */
#ifndef HOPSCOPE_ABI_COUNTERS_H
#define HOPSCOPE_ABI_COUNTERS_H

enum hs_counter {
	HS_CNT_SEEN = 0, /* every frame the program ran on */
	HS_CNT_MATCHED,	 /* replies to our probes, validated, sent to the ring buffer */
	HS_CNT_NOT_OURS, /* anything that is not a reply to one of our probes */
	HS_CNT_INVALID, /* looked like ours (ports/flow range) but the validation value was wrong */
	HS_CNT_MALFORMED,    /* a reply kind we handle, but truncated or inconsistent */
	HS_CNT_RINGBUF_FULL, /* matched, but the ring buffer had no room: the reply is lost */
	HS_CNT_CAPTURE_FULL, /* --pcap: the capture ring had no room, the reply's copy is lost */
	HS_CNT_BAD_CHECKSUM, /* ours, but a checksum (IPv4 header, ICMP, ICMPv6, TCP) does not
				verify */
	HS_CNT_MAX,
};

#endif
