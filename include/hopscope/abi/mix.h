/* SPDX-License-Identifier: MIT */
/*
 * A fast 64-bit mixer (multiply/xorshift rounds, as in murmur3's finaliser)
 * for hash tables, permutations and the simulator's per-flow choices, on
 * both sides of the kernel/user boundary. Not a MAC: probe identities are
 * authenticated with hs_mac() (probe.h).
 */
#ifndef HOPSCOPE_ABI_MIX_H
#define HOPSCOPE_ABI_MIX_H

#include "types.h"

static inline __u64 hs_mix64(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

#endif
