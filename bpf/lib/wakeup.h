/* SPDX-License-Identifier: MIT */
/*
 * Ring-buffer wake-up policy (pure C, also unit-tested from userspace):
 * wake the consumer when the backlog crosses a multiple of `every` bytes,
 * i.e. once per `every` bytes produced. Waking on every record above a
 * threshold instead cost ~5 us per record (bench/RESULTS.md).
 */
#ifndef HOPSCOPE_BPF_WAKEUP_H
#define HOPSCOPE_BPF_WAKEUP_H

#include <linux/types.h>

/* queued: backlog including the record just reserved; rec: its size. */
static inline int hs_should_wake(__u64 queued, __u64 rec, __u64 every)
{
	__u64 before = queued > rec ? queued - rec : 0;

	if (every == 0)
		return 1;
	return queued / every != before / every;
}

#endif
