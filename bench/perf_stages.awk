# Classifies `perf report --no-children --sort sym` lines ("  1.23%  [k] name" / "[.] name") into the
# survey pipeline's stages and prints "stage<TAB>percent of all samples". Used by bench/survey_sim.sh.
/%/ {
  pct = $1; sub(/%/, "", pct)
  user = ($0 ~ /\[\.\]/)
  name = $0; sub(/^[^\]]*\] /, "", name)
  if (user) {
    s = "other userspace"
    if (name ~ /TxPool|build_probe|probe_validation|csum::|XskSender|XdpLiveSender|sendto/) s = "sender"
    else if (name ~ /ring_buffer__|ringbuf_process_ring|ReplyMatcher|ReplyPump|MatcherReplySource|epoll_wait/) s = "ring (consume)"
    else if (name ~ /Collector|AddressTable|TargetList::index_of|from_record/) s = "RX decode + state"
    else if (name ~ /Scheduler|Permutation|feistel|TokenBucket|SurveyEngine|TargetList::at|clock_gettime|mono_ns/) s = "scheduler + pacing"
    else if (name ~ /TraceWriter|ResultStore|survey_trace|append_|fmt::|format|json|to_chars|IpAddress|mem(cpy|move|set|cmp)|malloc|free|_int_|operator new|operator delete|sort|merge/) s = "writer (+ copies, allocation)"
  } else {
    s = "other kernel"
    if (name ~ /hs_sim_responder|lookup_nulls_elem_raw|htab_|bpf_map_lookup/) s = "responder (sim)"
    else if (name ~ /hs_reply_matcher|bpf_ringbuf|__bpf_ringbuf/) s = "matcher (XDP)"
    else if (name ~ /hs_probe_gen|bpf_test_run|xdp_test_run|bpf_prog_test_run|xsk|__dev_direct_xmit|veth_xmit|sendto|sock_sendmsg/) s = "sender"
    else if (name ~ /ep_poll|ep_item|ep_send|ringbuf_/) s = "ring (consume)"
    else if (name ~ /do_idle|cpuidle|intel_idle|default_idle|safe_halt|acpi_idle|poll_idle|cpu_idle/) s = "idle"
    else if (name ~ /veth_|napi|net_rx_action|netif|skb|kmem_cache|page_pool|xdp_|bpf_xdp|dev_|__alloc|bpf_csum_diff|kfree|__slab|slab_|page_frag/) s = "veth + skb (kernel)"
    else if (name ~ /schedule|futex|finish_task_switch|__switch_to|pick_next|hrtimer|nanosleep|enqueue|dequeue|try_to_wake_up|ttwu|update_curr|update_load|native_write_msr|_raw_spin|rcu|irq|softirq|tick/) s = "scheduling, irq, timers"
    else if (name ~ /copy_|clear_page|memcpy|memset|memmove|rep_movs|rep_stos|fault|page|mm_|lru|folio|vma|do_user_addr|handle_mm/) s = "memory (page faults, copies)"
  }
  share[s] += pct
  if (s ~ /^other/) other[s " " name] += pct
}
END {
  for (s in share) printf "%s\t%.2f\n", s, share[s]
  if (ENVIRON["STAGES_DEBUG"]) for (o in other) if (other[o] > 0.3) printf "  unclassified %s\t%.2f\n", o, other[o] > "/dev/stderr"
}
