/* SPDX-License-Identifier: MIT */
/* Fixed-width types usable from both BPF C and userspace C/C++. */
#ifndef HOPSCOPE_ABI_TYPES_H
#define HOPSCOPE_ABI_TYPES_H

#include <linux/types.h>

#ifdef __cplusplus
#define HS_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define HS_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#endif
