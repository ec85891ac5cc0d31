// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The lab's routers hash every packet themselves, as separate boxes do.
 *
 * A packet crossing a veth keeps the sending namespace's skb hash, and a
 * connected socket's packets carry its random txhash; a Linux router with an
 * L4 multipath hash policy uses a hash it finds on the skb instead of the
 * 5-tuple (fib_multipath_hash: "short-circuit if we already have L4 hash").
 * In a lab of namespaces an application's flow would then take an ECMP
 * branch its 5-tuple does not choose, which no real router does. This tc
 * ingress program on every router interface drops the hash it arrived with.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int hs_lab_rehash(struct __sk_buff *skb)
{
	bpf_set_hash_invalid(skb);
	return TC_ACT_OK;
}
