#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
from the loopback client's PDU builders, so the seeds speak the protocol
the suite checks.  Deterministic: rerunning rewrites the same files.

  python3 tests/fuzz/make_corpus.py
"""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "client"))
import nvmetcp as n  # noqa: E402

NQN = "nqn.2024-11.io.znstcp:zns"	# the fuzz daemon's (default) NQN
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:fuzz"
LBA = 4096
ZNS, NVM = 1, 2
ZONE = 16			# blocks in a 64K zone


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def cmd(sqe, data=b"", dg=(False, False)):
    sqe = bytearray(sqe)
    if data:
        sqe[24:40] = n.sgl_desc(n.SGL_INCAPSULE, len(data))
    return n.build_pdu(n.CMD, bytes(sqe), data, hdgst=dg[0], ddgst=dg[1])


def rw(op, nsid, slba, nlb, cid=5, cdw13=0):
    return n.build_sqe(op, cid=cid, nsid=nsid, cdw10=slba & 0xFFFFFFFF, cdw11=slba >> 32,
                       cdw12=nlb - 1, cdw13=cdw13,
                       sgl=n.sgl_desc(n.SGL_TRANSPORT, nlb * LBA if op != n.IO_FLUSH else 0))


def r2t_write(op, nsid, slba, nlb, cid=6, dg=(False, False), ttag=0):
    """A write whose data follows an R2T: the first request has TTAG 0."""
    data = bytes([cid]) * (nlb * LBA)
    c = n.build_pdu(n.CMD, bytes(rw(op, nsid, slba, nlb, cid)), hdgst=dg[0])
    h = n.build_pdu(n.H2C_DATA, n.h2c_specific(cid, ttag, 0, len(data)), data,
                    hdgst=dg[0], ddgst=dg[1], flags=n.F_LAST)
    return c + h


def conn_seeds():
    """fuzz_conn: byte 0 = receive size, byte 1 = start mode (see fuzz_conn.c)."""
    seeds = {}
    dg0 = (False, False)
    ic = n.build_icreq()
    connect = n.build_sqe(n.FABRICS, cid=1, sgl=n.sgl_desc(n.SGL_INCAPSULE, 1024))
    connect[4] = n.FCTYPE_CONNECT
    struct.pack_into("<HHHBxI", connect, 40, 0, 0, 15, 0, 5000)
    cdata = n.Queue.connect_data(NQN, HOSTNQN)
    prop = n.build_sqe(n.FABRICS, cid=2)
    prop[4] = n.FCTYPE_PROP_SET
    struct.pack_into("<BxxxIQ", prop, 40, 0, n.REG_CC, 1 | 6 << 4 | 6 << 16 | 4 << 20)
    # mode 0: the whole handshake comes from the input
    seeds["handshake"] = bytes([7, 0]) + ic + cmd(connect, cdata) + cmd(prop)
    seeds["handshake-trickle"] = bytes([0, 0]) + ic + cmd(connect, cdata)
    disc = bytearray(connect)
    dprop = bytearray(prop)
    struct.pack_into("<Q", dprop, 48, 1)		# discovery: CC.EN, CSS 0, no queue sizes
    seeds["discovery"] = bytes([6, 0]) + ic + cmd(disc, n.Queue.connect_data(n.DISC_NQN, HOSTNQN)) + \
        cmd(dprop) + cmd(n.build_sqe(n.ADM_GET_LOG, cid=3, cdw10=0x70 | (1023 << 16),
                                    sgl=n.sgl_desc(n.SGL_TRANSPORT, 4096)))
    seeds["icreq-digests"] = bytes([4, 0]) + n.build_icreq(hdgst=True, ddgst=True, hpda=3)
    # mode 1: after ICReq
    seeds["connect-r2t"] = bytes([5, 1]) + n.build_pdu(
        n.CMD, bytes(n.build_sqe(n.FABRICS, cid=1, sgl=n.sgl_desc(n.SGL_TRANSPORT, 1024)))[:4] +
        bytes([n.FCTYPE_CONNECT]) + bytes(connect)[5:24] + n.sgl_desc(n.SGL_TRANSPORT, 1024) +
        bytes(connect)[40:]) + n.build_pdu(n.H2C_DATA, n.h2c_specific(1, 0, 0, 1024), cdata,
                                           flags=n.F_LAST)
    seeds["term"] = bytes([7, 1]) + n.build_pdu(n.H2C_TERM, n.term_specific(1, 0))
    # mode 2: admin queue, enabled
    adm = []
    for cns, nsid, csi in ((1, 0, 0), (0, 1, 0), (0, 2, 0), (2, 0, 0), (3, 1, 0), (5, 1, 2),
                           (6, 0, 2), (7, 0, 0), (8, 1, 0), (0x1C, 0, 0)):
        adm.append(n.build_sqe(n.ADM_IDENTIFY, cid=10 + cns, nsid=nsid, cdw10=cns,
                               cdw11=csi << 24, sgl=n.sgl_desc(n.SGL_TRANSPORT, 4096)))
    for lid, nsid in ((1, 0), (2, 0xFFFFFFFF), (3, 0), (4, 0), (5, 0), (0xBF, 1), (0x12, 1)):
        adm.append(n.build_sqe(n.ADM_GET_LOG, cid=40 + lid % 32, nsid=nsid,
                               cdw10=lid | (127 << 16), cdw14=(2 << 24) if lid == 5 else 0,
                               sgl=n.sgl_desc(n.SGL_TRANSPORT, 512)))
    for fid, val in ((7, 0x00030003), (0x0B, 0x100), (0x0F, 3000), (0x19, 0)):
        adm.append(n.build_sqe(n.ADM_SET_FEAT, cid=80 + fid, cdw10=fid, cdw11=val))
        adm.append(n.build_sqe(n.ADM_GET_FEAT, cid=100 + fid, cdw10=fid))
    adm += [n.build_sqe(n.ADM_KEEP_ALIVE, cid=120), n.build_sqe(n.ADM_AER, cid=121),
            n.build_sqe(n.ADM_ABORT, cid=122), n.build_sqe(0x55, cid=123)]
    pg = n.build_sqe(n.FABRICS, cid=124)
    pg[4] = n.FCTYPE_PROP_GET
    struct.pack_into("<BxxxI", pg, 40, 1, n.REG_CAP)
    adm.append(pg)
    dc = n.build_sqe(n.FABRICS, cid=125)
    dc[4] = n.FCTYPE_DISCONNECT
    for i, sqe in enumerate(adm):
        seeds["admin-%02d" % i] = bytes([7, 2]) + cmd(sqe)
    seeds["admin-all"] = bytes([6, 2]) + b"".join(cmd(s) for s in adm) + cmd(dc)
    seeds["admin-digests"] = bytes([3, 2 | 4 | 8]) + b"".join(cmd(s, dg=(True, True)) for s in adm[:6])
    # mode 3: I/O queue 1
    io = {
        "read-nvm": cmd(rw(n.IO_READ, NVM, 0, 2)),
        "read-zns": cmd(rw(n.IO_READ, ZNS, 0, 1)),
        "write-inline": cmd(rw(n.IO_WRITE, NVM, 3, 1), bytes(LBA)),
        "write-zns-inline": cmd(rw(n.IO_WRITE, ZNS, 0, 1), bytes(LBA)),
        "write-r2t": r2t_write(n.IO_WRITE, NVM, 8, 4),
        "write-zns-r2t": r2t_write(n.IO_WRITE, ZNS, ZONE, 3),
        "append-r2t": r2t_write(n.IO_ZONE_APPEND, ZNS, 2 * ZONE, 2),
        "append-inline": cmd(rw(n.IO_ZONE_APPEND, ZNS, 0, 1), bytes(LBA)),
        "flush": cmd(n.build_sqe(n.IO_FLUSH, cid=7, nsid=NVM)),
        "write-zeroes": cmd(n.build_sqe(n.IO_WRITE_ZEROES, cid=8, nsid=NVM, cdw12=3)),
        "write-zeroes-zns": cmd(n.build_sqe(n.IO_WRITE_ZEROES, cid=8, nsid=ZNS, cdw12=1)),
        "report": cmd(n.build_sqe(n.IO_ZONE_RECV, cid=9, nsid=ZNS, cdw12=127,
                                  sgl=n.sgl_desc(n.SGL_TRANSPORT, 512))),
        "report-partial": cmd(n.build_sqe(n.IO_ZONE_RECV, cid=9, nsid=ZNS, cdw12=31,
                                          cdw13=1 << 16 | 2 << 8, sgl=n.sgl_desc(n.SGL_TRANSPORT, 128))),
    }
    for zsa in (1, 2, 3, 4, 5, 0x103, 0x104):
        io["zsend-%x" % zsa] = cmd(n.build_sqe(n.IO_ZONE_SEND, cid=11, nsid=ZNS, cdw10=ZONE,
                                               cdw13=zsa))
    for k, v in io.items():
        seeds["io-" + k] = bytes([7, 3]) + v
    seeds["io-mixed"] = bytes([5, 3]) + b"".join(io[k] for k in (
        "write-r2t", "write-zns-inline", "zsend-3", "read-nvm", "append-inline", "report",
        "zsend-2", "zsend-104", "flush"))
    seeds["io-digests"] = bytes([2, 3 | 4 | 8]) + cmd(rw(n.IO_WRITE, NVM, 3, 1), bytes(LBA),
                                                      dg=(True, True)) + \
        r2t_write(n.IO_WRITE, NVM, 8, 2, dg=(True, True))
    return seeds


def hdr_seeds():
    """fuzz_pdu_hdr: byte 0 = limits (bit 0 expect ICReq, 1 hdgst, 2 ddgst)."""
    seeds = {
        "icreq": bytes([1]) + n.build_icreq()[:24],
        "cmd": bytes([0]) + n.build_pdu(n.CMD, bytes(64))[:24],
        "cmd-data": bytes([0]) + n.build_pdu(n.CMD, bytes(64), bytes(4096))[:24],
        "cmd-digests": bytes([6]) + n.build_pdu(n.CMD, bytes(64), bytes(512), hdgst=True,
                                                ddgst=True)[:80],
        "h2c": bytes([0]) + n.build_pdu(n.H2C_DATA, n.h2c_specific(1, 0, 0, 4096),
                                        bytes(4096), flags=n.F_LAST)[:24],
        "h2c-digests": bytes([6]) + n.build_pdu(n.H2C_DATA, n.h2c_specific(1, 0, 0, 512),
                                                bytes(512), hdgst=True, ddgst=True)[:32],
        "term": bytes([0]) + n.build_pdu(n.H2C_TERM, n.term_specific(1, 0))[:24],
    }
    return seeds


def main():
    for target, seeds in (("fuzz_conn", conn_seeds()), ("fuzz_pdu_hdr", hdr_seeds())):
        for name, data in seeds.items():
            write(target, name, data)
        print("%s: %d seeds" % (target, len(seeds)))


if __name__ == "__main__":
    main()
