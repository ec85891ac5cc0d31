#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/<target>/.

Files named regress-* there are inputs the fuzzers once crashed on, kept as
seeds so that every run tries them again; this script leaves them alone.

Run once after changing an input format; libFuzzer grows from these seeds
(scripts/fuzz.sh). The score seeds are a real `sim up --truth` file of a
2-destination sim and a real `trace -o json` through it (tests/fuzz/seeds/).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# Target files: the first byte picks skip_bad (bit 0) and the blocklist (bit 1).
TARGET_FILES = [
    "198.18.0.0/24\n",
    "# hitlist\n198.18.0.1\n198.18.0.7\n198.19.3.0/30\n\n",
    "2001:2::/120\n2001:2::1:0/124\n",
    "198.18.0.0/16\r\n10.0.0.0/8\n192.168.1.1\n",
    "198.18.0.1/24\nnot an address\n198.18.300.1\n",
    "198.18.0.0/24\n198.18.0.128/25\n",
    "198.18.0.0/31\n198.18.0.2/32\n198.18.0.4/30\n198.18.0.8/29\n",
    "::ffff:198.18.0.1\nff02::1\n0.0.0.0/0\n",
]
for i, text in enumerate(TARGET_FILES):
    for flags in range(4):
        write("targets", f"seed-{i}-{flags}", bytes([flags]) + text.encode())

for i, text in enumerate(["198.18.0.1", "2001:2::1", "198.18.0.0/15", "2001:2::/48", "10.1.2.3", "0.0.0.0",
                          "255.255.255.255", "198.18.1.255", "ff02::1", "::1", "::ffff:198.18.0.1", "fe80::1%eth0",
                          " 198.18.0.0/24 ", "198.18.0.1/24", "2001:2::1/64", "224.0.0.1", "1.2.3.4/0"]):
    write("destination", f"seed-{i}", text)

with open(os.path.join(HERE, "..", "fixtures", "pfx2as-lab.txt"), "rb") as f:
    write("prefix2as", "seed-lab", f.read())
write("prefix2as", "seed-moas", "198.18.0.0\t15\t64500_64501\n2001:2::\t48\t64502,64503\n198.18.1.0\t24\t64504\n")
write("prefix2as", "seed-bad", "198.18.0.0\t33\t1\n")

with open(os.path.join(HERE, "seeds", "sim-truth.ndjson"), "rb") as f:
    truth = f.read()
with open(os.path.join(HERE, "seeds", "sim-trace.ndjson"), "rb") as f:
    trace = f.read()
write("score", "seed-trace", truth + b"\0" + trace)
write("score", "seed-empty-results", truth + b"\0")
write("score", "seed-bad-json", truth + b"\0{\"type\":\"trace\",\"hops\":[1,2]}\n")

# Reply records (abi/matcher.h hs_reply_record, 80 bytes, little-endian):
# the first byte picks the family (bit 0) and the output format.
REC = struct.Struct("<Q16s16sHHHHBBBBBBBBHBBHH3IBB2x")
assert REC.size == 80


def v4(a, b, c, d):
    return bytes([a, b, c, d]) + bytes(12)


def record(dst, responder, ttl, kind, icmp_type, icmp_code, rx_ns, seq, base, family=4, mpls=(), flags=0):
    m = list(mpls) + [0] * (3 - len(mpls))
    return REC.pack(rx_ns, responder, dst, seq, 0, 0, base + 2 * ttl, family, 1, kind, icmp_type, icmp_code, 64 - ttl,
                    1, 0, 28, flags, 0, 56, 0x1234, m[0], m[1], m[2], len(mpls), len(mpls))


seeds = []
recs = b""
for t in range(1, 8):
    recs += record(v4(198, 18, 0, t), v4(198, 18, 1, 16 + t), t, 1, 11, 0, 5_000_000_000 + t * 100_000, 1 + t, 30)
recs += record(v4(198, 18, 0, 3), v4(198, 18, 0, 3), 8, 2, 3, 3, 5_000_900_000, 9, 30)
recs += record(v4(198, 18, 0, 4), v4(198, 18, 1, 30), 3, 1, 11, 0, 5_000_300_000, 4, 30, mpls=(16 << 12 | 1 << 8 | 1,))
seeds.append(bytes([0]) + recs)
seeds.append(bytes([2]) + recs)
seeds.append(bytes([4]) + recs)
seeds.append(bytes([6]) + recs)
v6dst = bytes.fromhex("20010002000000000000000000000005")
v6rsp = bytes.fromhex("20010002000100000000000000000010")
seeds.append(bytes([1]) + record(v6dst, v6rsp, 2, 1, 3, 0, 7_000_000_000, 3, 52, family=6) +
             record(v6dst, v6dst, 5, 2, 1, 4, 7_000_100_000, 4, 52, family=6))
for i, s in enumerate(seeds):
    write("reply_records", f"seed-{i}", s)
