/* SPDX-License-Identifier: MIT */
/*
 * The kernel probe generator (`hopscope survey --tx xdp-live`): userspace
 * writes one descriptor per probe into an mmapped array and runs the XDP
 * program over them with BPF_PROG_RUN + BPF_F_TEST_XDP_LIVE_FRAMES; each run
 * builds the whole frame (the kernel recycles pages, with earlier frames or
 * the replies built from them still in them) and transmits it with XDP_TX.
 * Survey probes carry their send time in seq (see probe_codec.hpp): the
 * program stamps it from bpf_ktime_get_ns() as it builds the frame.
 */
#ifndef HOPSCOPE_ABI_GENERATOR_H
#define HOPSCOPE_ABI_GENERATOR_H

#include "types.h"
#include "probe.h"

/* Survey seq = 1 + (send time / HS_SEQ_UNIT_NS) mod HS_SEQ_SPAN: 1..65534. */
#define HS_SEQ_UNIT_NS 32000ULL
#define HS_SEQ_SPAN    65534U

/*
 * Descriptors per generator (one generator per sending thread): 64k, 1.5 MiB
 * (an mmapped array map is resident in full: 1M descriptors were 24 MiB of
 * RSS per thread). A run of an anchored generator costs 0.1-0.4 ms besides
 * ~0.2 us per frame (kernel/dispatcher_anchor.hpp), so 64k probes a run keep
 * that under 3%; unanchored, a run waits 25-40 ms and 64k probes a run still
 * allow ~2 Mpps per thread.
 */
#define HS_GEN_MAX_DESCS (1u << 16)
/* Frames between two clock reads of the generator (a power of two). */
#define HS_GEN_CLOCK_EVERY 16
/* The frame BPF_PROG_RUN is given (and every probe is cut from): largest frame. */
#define HS_GEN_FRAME_CAP 256

/* Fixed for the run, in the program's read-only data. */
struct hs_gen_config {
	struct hs_sip mac_src; /* hs_mac_src(key, source) */
	__u32 src[4];	       /* network order; IPv4 in word 0, the rest 0 */
	__u32 src_sum;	       /* sum of the source's 16-bit big-endian words */
	__u8 src_mac[6];
	__u8 dst_mac[6];
	__u8 family; /* 4 or 6 */
	__u8 method; /* enum hs_method */
	__u8 tos;
	__u8 _pad;
	__u16 udp_sport_base; /* host order */
	__u16 udp_dport;      /* host order */
	__u16 icmp_csum_base; /* host order */
	__u16 _pad2;
	__u32 _pad3;
};
HS_STATIC_ASSERT(sizeof(struct hs_gen_config) == 80, "hs_gen_config layout");

/* One probe. */
struct hs_gen_desc {
	__u8 dst[16]; /* network order; IPv4 in the first 4 bytes */
	__u16 ip_len; /* IP total length (carries the TTL in a survey) */
	__u16 flow;   /* Paris flow */
	__u8 ttl;
	__u8 _pad[3];
};
HS_STATIC_ASSERT(sizeof(struct hs_gen_desc) == 24, "hs_gen_desc layout");

/* Run control and counters, in the program's .bss (mmapped by userspace). */
struct hs_gen_state {
	__u32 next;   /* descriptor the next run builds */
	__u32 count;  /* descriptors written for this BPF_PROG_RUN */
	__u64 built;  /* frames built and returned with XDP_TX */
	__u64 bad;    /* runs without a valid descriptor or with a bad length (XDP_DROP) */
	__u64 now_ns; /* the generator's clock, read every HS_GEN_CLOCK_EVERY frames */
};

#endif
