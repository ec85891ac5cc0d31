#!/usr/bin/env python3
"""Floods the prober with blind forgeries of survey replies, as an off-path attacker would.

Run in the sim's "inet" namespace: sends N ICMP Time Exceeded messages per
kind on IFNAME to PROBER, each quoting a made-up udp-paris survey probe
(our source and ports, a target in TARGETS, a TTL's IP length) with every
field the attacker cannot know random: IP ID (the send time), UDP checksum
(the 16-bit validation value), payload (the 32-bit tag). Every checksum the
matcher checks is right. Kinds, told apart by their forged source:
  198.18.250.x  the whole probe quoted (the tag in it: 48 MAC bits)
  198.18.251.x  28 bytes quoted, as an RFC 792 router does (16 MAC bits)
Prints the number sent. Paced at RATE packets per second.

usage: forge_replies.py IFNAME PROBER TARGETS N RATE
"""
import ipaddress
import os
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, ttl, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def forgery(rng, prober, net, full):
    ttl = rng.randint(1, 16)
    ip_len = 34 + 2 * ttl  # the survey codec: udp-paris IPv4 base + 2 * TTL
    target = (net.network_address + rng.randrange(net.num_addresses)).packed
    udp = struct.pack("!HHHH", 0xB000, 33434, ip_len - 20, rng.randint(1, 0xFFFF)) + os.urandom(ip_len - 28)
    probe = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, rng.randint(1, 0xFFFE), 0, 1, 17,
                        rng.randint(0, 0xFFFF), prober, target) + udp
    quote = probe if full else probe[:28]
    icmp = struct.pack("!BBHI", 11, 0, 0, 0) + quote
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    src = bytes([198, 18, 250 if full else 251, rng.randint(1, 254)])
    return ip4_frame(ipv4(src, prober, 1, icmp))


def ip4_frame(packet):
    return b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00" + packet


def main():
    ifname, prober = sys.argv[1], socket.inet_aton(sys.argv[2])
    net, n, rate = ipaddress.ip_network(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    rng = random.Random(0x5EED)
    frames = [forgery(rng, prober, net, full) for _ in range(n) for full in (True, False)]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    print("ready", flush=True)
    start, sent = time.monotonic(), 0
    for f in frames:
        s.send(f)
        sent += 1
        if sent % 64 == 0:  # pace in bursts of 64
            ahead = start + sent / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    print(sent, flush=True)


if __name__ == "__main__":
    main()
