/* SPDX-License-Identifier: MIT */
/* One's-complement arithmetic on 16-bit values (host order). */
#ifndef HOPSCOPE_BPF_CSUM_H
#define HOPSCOPE_BPF_CSUM_H

#include <linux/types.h>

static __always_inline __u16 hs_ones_add(__u16 a, __u16 b)
{
	__u32 s = (__u32)a + b;

	return (__u16)((s & 0xffff) + (s >> 16));
}

static __always_inline __u16 hs_ones_sub(__u16 a, __u16 b)
{
	return hs_ones_add(a, (__u16)~b);
}

#endif
