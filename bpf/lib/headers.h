/* SPDX-License-Identifier: MIT */
/* Bounds-checked access to packet headers for XDP programs. */
#ifndef HOPSCOPE_BPF_HEADERS_H
#define HOPSCOPE_BPF_HEADERS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* ICMPv4 header (linux/icmp.h pulls in libc headers that do not build for -target bpf). */
struct hs_icmphdr {
	__u8 type;
	__u8 code;
	__be16 checksum;
	union {
		struct {
			__be16 id;
			__be16 sequence;
		} echo;
		struct {
			__be16 unused;
			__be16 mtu;
		} frag;
	} un;
};

#define HS_ICMP_ECHOREPLY     0
#define HS_ICMP_DEST_UNREACH  3
#define HS_ICMP_ECHO	      8
#define HS_ICMP_TIME_EXCEEDED 11
#define HS_ICMP_FRAG_NEEDED   4

struct hs_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* Pointer to `len` bytes at `off` from `base`, or NULL if they are not all in the packet. */
#define HS_PTR(base, off, len, end)                                                                \
	({                                                                                         \
		void *__p = (void *)(base) + (off);                                                \
		(__p + (len) > (void *)(end)) ? (void *)0 : __p;                                   \
	})

/*
 * Skips the Ethernet header and up to two VLAN tags. Returns the L3 offset
 * and stores the EtherType, or -1 if the frame is too short.
 */
static __always_inline int hs_parse_eth(void *data, void *end, __u16 *proto)
{
	struct ethhdr *eth = HS_PTR(data, 0, sizeof(*eth), end);
	int off = sizeof(*eth);

	if (!eth)
		return -1;
	__u16 p = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (p != ETH_P_8021Q && p != ETH_P_8021AD)
			break;
		struct hs_vlan_hdr *vh = HS_PTR(data, off, sizeof(*vh), end);

		if (!vh)
			return -1;
		p = bpf_ntohs(vh->encap_proto);
		off += sizeof(*vh);
	}
	*proto = p;
	return off;
}

#endif
