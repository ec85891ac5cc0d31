#!/usr/bin/env python3
"""Replays a router's ICMP replies to the prober, as an attacker on the path would.

Run in a lab router's namespace: every IPv4 ICMP frame leaving IFNAME for DST
(the prober) is sent again, byte for byte, DELAY_MS later, once each, for
DURATION_S seconds. Prints how many frames it replayed.

usage: replay_replies.py IFNAME DST DURATION_S DELAY_MS
"""
import heapq
import select
import socket
import sys
import time


def main():
    ifname, dst = sys.argv[1], socket.inet_aton(sys.argv[2])
    duration, delay = float(sys.argv[3]), float(sys.argv[4]) / 1000.0
    # ETH_P_ALL: the kernel shows outgoing frames to ETH_P_ALL sockets only.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    print("ready", flush=True)
    seen, pending, replayed = set(), [], 0
    end = time.monotonic() + duration
    while True:
        now = time.monotonic()
        if now >= end:
            break
        wake = min(end, pending[0][0]) if pending else end
        ready, _, _ = select.select([s], [], [], max(0.0, wake - now))
        if ready:
            data, addr = s.recvfrom(65535)
            # Outgoing, IPv4 (no VLAN), ICMP, to the prober, not one we sent.
            if addr[2] == socket.PACKET_OUTGOING and len(data) > 34 and data[12:14] == b"\x08\x00" \
                    and data[23] == 1 \
                    and data[30:34] == dst and data not in seen:
                seen.add(data)
                heapq.heappush(pending, (time.monotonic() + delay, data))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            s.send(heapq.heappop(pending)[1])
            replayed += 1
    print(replayed, flush=True)


if __name__ == "__main__":
    main()
