// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark helpers (used by bench/ only).
 * hs_bench_sink: on the far end of a veth pair, counts every frame, stamps
 *   the arrival time of each IPv4 probe by its IP ID (= probe seq) and drops it.
 * hs_bench_pass: an empty XDP program, the reference for ns/packet figures.
 * hs_bench_tx: returns XDP_TX, the reference for the kernel probe generator.
 */
#include <linux/bpf.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/headers.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} arrival_ns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} frames SEC(".maps");

SEC("xdp")
int hs_bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&frames, &zero);

	if (n)
		*n += 1;
	__u16 proto;
	int off = hs_parse_eth(data, end, &proto);

	if (off >= 0 && proto == ETH_P_IP) {
		struct iphdr *iph = HS_PTR(data, off, sizeof(*iph), end);

		if (iph) {
			__u32 seq = bpf_ntohs(iph->id);
			__u64 now = bpf_ktime_get_ns();

			bpf_map_update_elem(&arrival_ns, &seq, &now, BPF_ANY);
		}
	}
	return XDP_DROP;
}

SEC("xdp")
int hs_bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The floor of the kernel generator: live frames that only return XDP_TX
 * (the frame given to BPF_PROG_RUN, unchanged). */
SEC("xdp")
int hs_bench_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}
