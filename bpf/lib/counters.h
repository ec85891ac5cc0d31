/* SPDX-License-Identifier: MIT */
/* Per-CPU counter array shared by hopscope's XDP programs. */
#ifndef HOPSCOPE_BPF_COUNTERS_H
#define HOPSCOPE_BPF_COUNTERS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "hopscope/abi/counters.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} hs_counters SEC(".maps");

static __always_inline void hs_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&hs_counters, &idx);

	if (v)
		*v += 1;
}

#endif
