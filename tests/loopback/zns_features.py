#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Loopback tests of the optional ZNS and NVM features (issue 3): zone
descriptor extensions, ZRWA, start-up offline / read-only zones, RAZB,
Copy / Compare / Verify / Dataset Management, the Supported Log Pages and
Feature Identifiers logs, per-field validation, and on a second daemon the
RRL / FRL / ZFC timers with the Changed Zone List and the Zone Descriptor
Changed event.  TAP output, the plan last.

  python3 tests/loopback/zns_features.py --daemon build/target/znstcpd
"""
import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "client"))
import nvmetcp as n  # noqa: E402

NQN = "nqn.2024-11.io.znstcp:features"
ZNS_NS, NVM_NS = 1, 2
ZONE = 256		# blocks (1 MiB of 4 KiB)
ZRWAS, ZRWAFG = 16, 4	# blocks
EXT = 128		# descriptor extension bytes
BASE = ["--nqn", NQN, "--zones", "16", "--zone-size", "1M", "--zone-cap", "768K",
        "--max-open", "4", "--max-active", "6", "--conv-size", "16M",
        "--mdts", "512K", "--zone-append-max", "128K"]
FEATURES = ["--desc-ext-size", str(EXT), "--razb", "1", "--numzrwa", "2",
            "--zrwa-size", "64K", "--zrwa-fg", "16K", "--offline-zones", "14",
            "--read-only-zones", "13,15", "--copy", "1", "--compare", "1",
            "--verify", "1", "--dsm", "1", "--rrl1", "7", "--frl3", "9"]
TIMERS = ["--rrl", "1", "--frl", "1", "--zfc-delay", "1"]
# memory: 64 MiB zones, so that the populator's window shows in RssAnon
MEM_ZONE = 16384	# blocks
MEMORY = ["--zones", "8", "--zone-size", "64M", "--zone-cap", "64M", "--max-open", "4",
          "--max-active", "6"]

IO_COMPARE, IO_DSM, IO_VERIFY, IO_COPY = 0x05, 0x09, 0x0C, 0x19
ZSA_SET_EXT, ZSA_ZRWA_FLUSH = 0x10, 0x11
ZA_ZFC, ZA_FZR, ZA_RZR, ZA_ZRWAV, ZA_ZDEV = 0x01, 0x02, 0x04, 0x08, 0x80
SC_INVALID_ZONE_OP = (1, 0xB6)
SC_ZRWA_UNAVAIL = (1, 0xB7)
SC_COMPARE_FAILED = (2, 0x85)


def Z(i):
    return i * ZONE


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def case(self, name, fn, *args):
        self.n += 1
        try:
            fn(*args)
            print("ok %d - %s" % (self.n, name))
        except Exception as e:		# one case's failure is one line
            self.failed += 1
            print("not ok %d - %s: %s" % (self.n, name, e))
            for line in traceback.format_exc().splitlines()[-4:]:
                print("# " + line)
        sys.stdout.flush()


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect_status(cpl, sct_sc, what, dnr=True):
    expect(cpl.is_status(sct_sc) and (dnr is None or cpl.dnr == dnr),
           "%s: got %s, wanted %s%s" % (what, cpl.status_str(), sct_sc,
                                        " with DNR" if dnr else ""))


class Daemon:
    def __init__(self, path, extra):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = tempfile.NamedTemporaryFile(prefix="znstcpd-feat-", suffix=".log",
                                               delete=False)
        self.proc = subprocess.Popen([path, "--listen", "127.0.0.1:%d" % self.port] +
                                     BASE + extra, stdout=subprocess.PIPE,
                                     stderr=self.log, stdin=subprocess.DEVNULL)
        ready = threading.Event()

        def reader():
            for line in iter(self.proc.stdout.readline, b""):
                if b"listening on" in line:
                    ready.set()
        threading.Thread(target=reader, daemon=True).start()
        if not ready.wait(10):
            self.proc.kill()
            raise RuntimeError("znstcpd did not start (log %s)" % self.log.name)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def open_ctrl(d):
    c = n.Controller("127.0.0.1", d.port, NQN)
    c.admin.set_features(0x07, 0x00010001).check("Set Features queues")
    return c, c.io_queue(1)


def zmr(q, slba=0, zra=0, nbytes=4096, zrasf=0, cdw13_extra=0):
    return q.execute(n.build_sqe(n.IO_ZONE_RECV, nsid=ZNS_NS, cdw10=slba & 0xFFFFFFFF,
                                 cdw11=slba >> 32, cdw12=nbytes // 4 - 1,
                                 cdw13=zra | zrasf << 8 | cdw13_extra), data_in=nbytes)


def ext_report(q, slba=0):
    """[(ZoneDesc, extension bytes)] from an extended report."""
    cpl = zmr(q, slba, zra=1).check("extended report")
    d = cpl.data
    nrz = struct.unpack_from("<Q", d, 0)[0]
    entry = 64 + EXT
    out = []
    for i in range(min(nrz, (len(d) - 64) // entry)):
        off = 64 + i * entry
        out.append((n.ZoneDesc(d[off:off + 64]), bytes(d[off + 64:off + entry])))
    return out


def zone(q, i):
    return q.report_zones(ZNS_NS, Z(i)).zones[0]


def zms(q, slba, zsa, extra=0, data=None, nsid=ZNS_NS):
    return q.execute(n.build_sqe(n.IO_ZONE_SEND, nsid=nsid, cdw10=slba & 0xFFFFFFFF,
                                 cdw11=slba >> 32, cdw13=zsa | extra), data_out=data)


def blocks(nblk, seed):
    return bytes((seed + i) & 0xFF for i in range(nblk * 4096))


def copy_cmd(q, nsid, sdlba, ranges):
    data = b"".join(struct.pack("<8xQH14x", slba, nlb - 1) for slba, nlb in ranges)
    return q.execute(n.build_sqe(IO_COPY, nsid=nsid, cdw10=sdlba & 0xFFFFFFFF,
                                 cdw11=sdlba >> 32, cdw12=len(ranges) - 1), data_out=data)


# ---- Daemon A: the features without timers ------------------------------------------------

def t_identify(c, q):
    idc = c.id_ctrl
    expect(idc["oncs"] & 0x18D == 0x18D, "ONCS %#x lacks Compare/DSM/WZ/Verify/Copy" % idc["oncs"])
    expect(idc["lpa"] & 0x20, "LPA %#x lacks bit 5" % idc["lpa"])
    d = c.admin.identify(1).check("id ctrl").data
    expect(struct.unpack_from("<H", d, 534)[0] == 1, "OCFS is not 1")
    expect(struct.unpack_from("<I", d, 92)[0] & (1 << 27) == 0, "OAES bit 27 set without timers")
    z = c.admin.identify(5, nsid=ZNS_NS, csi=n.CSI_ZNS).check("id ns zns").data
    ozcs, = struct.unpack_from("<H", z, 2)
    rrl1, frl3 = struct.unpack_from("<I", z, 20)[0], struct.unpack_from("<I", z, 40)[0]
    numzrwa, zrwafg, zrwas, zrwacap = struct.unpack_from("<IHHB", z, 44)
    zdes = z[2816 + 8]
    expect(ozcs == 3, "OZCS %#x, wanted RAZB|ZRWASUP" % ozcs)
    expect((numzrwa, zrwafg, zrwas, zrwacap) == (1, ZRWAFG, ZRWAS, 1),
           "NUMZRWA/ZRWAFG/ZRWAS/ZRWACAP %r" % ((numzrwa, zrwafg, zrwas, zrwacap),))
    expect(zdes == EXT // 64, "ZDES %d" % zdes)
    expect((rrl1, frl3) == (7, 9), "RRL1/FRL3 %r" % ((rrl1, frl3),))
    ns = c.admin.identify(0, nsid=NVM_NS).check("id ns").data
    mssrl, mcl, msrc = struct.unpack_from("<HIB", ns, 74)
    expect((mssrl, mcl, msrc) == (128, 128, 127), "MSSRL/MCL/MSRC %r" % ((mssrl, mcl, msrc),))


def t_logs(c, q):
    lids = c.admin.get_log(0x00, 1024).check("supported logs").data
    for lid in (0x00, 0x02, 0x05, 0x12, 0xBF):
        expect(struct.unpack_from("<I", lids, 4 * lid)[0] & 1, "LID %#x not supported" % lid)
    fids = c.admin.get_log(0x12, 1024).check("FID supported").data
    for fid in (0x07, 0x0B):
        expect(struct.unpack_from("<I", fids, 4 * fid)[0] & 1, "FID %#x not supported" % fid)
    eff = c.admin.get_log(0x05, 4096, csi=n.CSI_NVM).check("effects").data
    for op in (IO_COMPARE, IO_DSM, IO_VERIFY, IO_COPY):
        expect(struct.unpack_from("<I", eff, 1024 + 4 * op)[0] & 1, "opcode %#x not in effects" % op)
    expect_status(c.admin.get_log(0xBF, 4096, nsid=NVM_NS, csi=n.CSI_ZNS), n.SC_INVALID_NS,
                  "changed zone list of the regular namespace")


def t_desc_ext(c, q):
    ext = bytes(range(EXT))
    expect(zms(q, Z(0), ZSA_SET_EXT, data=ext).ok, "set zone descriptor extension")
    zd, got = ext_report(q)[0]
    expect(zd.zs == n.ZS_CLOSED and zd.za & ZA_ZDEV, "zone 0 %r za %#x" % (zd, zd.za))
    expect(got == ext, "extension data differs")
    expect_status(zms(q, Z(0), ZSA_SET_EXT, data=ext), n.SC_ZONE_INVALID_TRANSITION,
                  "extension on a closed zone")
    expect_status(zms(q, Z(0), ZSA_SET_EXT, extra=1 << 8, data=ext), n.SC_INVALID_FIELD,
                  "extension with Select All")
    expect(zms(q, Z(0), n.ZSA_RESET).ok, "reset")
    zd, got = ext_report(q)[0]
    expect(zd.zs == n.ZS_EMPTY and zd.za == 0 and got == bytes(EXT),
           "after reset: %r za %#x ext cleared %s" % (zd, zd.za, got == bytes(EXT)))


def t_zrwa(c, q):
    z1 = Z(1)
    expect(zms(q, z1, n.ZSA_OPEN, extra=1 << 9).ok, "open with ZRWA")
    zd = zone(q, 1)
    expect(zd.zs == n.ZS_EXP_OPEN and zd.za & ZA_ZRWAV, "%r za %#x" % (zd, zd.za))
    expect(q.write(ZNS_NS, z1 + 8, blocks(4, 1)).ok, "write inside the ZRWA")
    expect(zone(q, 1).wp == z1, "WP moved by a write inside the window")
    expect_status(q.write(ZNS_NS, z1 + 30, blocks(4, 2)), n.SC_ZONE_INVALID_WRITE,
                  "write past the implicit flush region")
    expect(q.write(ZNS_NS, z1 + 16, blocks(4, 3)).ok, "write into the flush region")
    expect(zone(q, 1).wp == z1 + 4, "implicit flush: WP %#x" % zone(q, 1).wp)
    expect(zms(q, z1 + 4 + 7, ZSA_ZRWA_FLUSH).ok, "explicit flush of 8 blocks")
    expect(zone(q, 1).wp == z1 + 12, "explicit flush: WP %#x" % zone(q, 1).wp)
    expect_status(zms(q, z1 + 12 + 2, ZSA_ZRWA_FLUSH), n.SC_INVALID_FIELD,
                  "flush of 3 blocks (not a granule)")
    expect_status(q.zone_append(ZNS_NS, z1, blocks(1, 4)), SC_INVALID_ZONE_OP,
                  "append to a ZRWA zone")
    expect(q.read(ZNS_NS, z1 + 8, 4).data == blocks(4, 1), "ZRWA data reads back")
    expect(zms(q, Z(2), n.ZSA_OPEN, extra=1 << 9).ok, "second ZRWA")
    expect_status(zms(q, Z(3), n.ZSA_OPEN, extra=1 << 9), SC_ZRWA_UNAVAIL, "third ZRWA")
    expect(zms(q, z1, n.ZSA_FINISH).ok, "finish frees the ZRWA")
    expect(not zone(q, 1).za & ZA_ZRWAV, "ZRWAV after finish")
    expect(zms(q, Z(3), n.ZSA_OPEN, extra=1 << 9).ok, "ZRWA after a finish")
    expect_status(zms(q, Z(4), ZSA_ZRWA_FLUSH), n.SC_INVALID_FIELD, "flush without a ZRWA")
    expect(zms(q, 0, n.ZSA_RESET, extra=1 << 8).ok, "reset all")


def t_start_states(c, q):
    zs = {zd.zslba // ZONE: zd.zs for zd in q.report_zones(ZNS_NS).zones}
    expect((zs[13], zs[14], zs[15]) == (n.ZS_READ_ONLY, n.ZS_OFFLINE, n.ZS_READ_ONLY),
           "zones 13-15: %r" % ((zs[13], zs[14], zs[15]),))
    expect_status(q.read(ZNS_NS, Z(14), 1), n.SC_ZONE_OFFLINE, "read of an offline zone")
    expect_status(q.write(ZNS_NS, Z(15), blocks(1, 5)), n.SC_ZONE_READ_ONLY,
                  "write to a read-only zone")
    expect(q.read(ZNS_NS, Z(15), 1).ok, "read of a read-only zone")
    expect(zms(q, Z(15), n.ZSA_OFFLINE).ok, "offline a read-only zone")
    expect(zone(q, 15).zs == n.ZS_OFFLINE, "zone 15 offline")


def t_razb(c, q):
    expect(q.read(ZNS_NS, Z(5) - 2, 4).ok, "read across a zone boundary with RAZB")
    expect_status(q.read(ZNS_NS, Z(14) - 2, 4), n.SC_ZONE_OFFLINE,
                  "read into an offline zone")


def t_copy_compare(c, q):
    data = blocks(8, 9)
    expect(q.write(ZNS_NS, Z(6), data).ok, "write source")
    cpl = copy_cmd(q, ZNS_NS, Z(7), [(Z(6) + 4, 4), (Z(6), 4)])
    expect(cpl.ok, "copy into zone 7 at its WP: %s" % cpl.status_str())
    expect(q.read(ZNS_NS, Z(7), 8).data == data[4 * 4096:] + data[:4 * 4096], "copied data")
    expect(zone(q, 7).wp == Z(7) + 8, "copy moved the WP")
    expect_status(copy_cmd(q, ZNS_NS, Z(7) + 20, [(Z(6), 1)]), n.SC_ZONE_INVALID_WRITE,
                  "copy not at the WP")
    expect_status(copy_cmd(q, NVM_NS, 0, [(0, 1)] * 129), (1, 0x83),
                  "copy with more ranges than MSRC + 1")
    expect_status(copy_cmd(q, NVM_NS, 0, [(0, 100), (0, 100)]), (1, 0x83),
                  "copy of more blocks than MCL")
    expect(q.write(NVM_NS, 10, data[:8192]).ok, "write regular")
    expect(copy_cmd(q, NVM_NS, 100, [(10, 2)]).ok, "copy on the regular namespace")
    expect(q.read(NVM_NS, 100, 2).data == data[:8192], "regular copy data")
    cmp_sqe = q.rw_sqe(IO_COMPARE, ZNS_NS, Z(6), 8)
    expect(q.execute(cmp_sqe, data_out=data).ok, "compare equal")
    expect_status(q.execute(cmp_sqe, data_out=blocks(8, 10)), SC_COMPARE_FAILED, "compare differs")
    expect(q.execute(q.rw_sqe(IO_VERIFY, ZNS_NS, Z(6), 8)).ok, "verify")
    expect_status(q.execute(q.rw_sqe(IO_VERIFY, ZNS_NS, Z(14), 1)), n.SC_ZONE_OFFLINE,
                  "verify an offline zone")
    rng = struct.pack("<IIQ", 0, 2, 10)
    expect(q.execute(n.build_sqe(IO_DSM, nsid=NVM_NS, cdw10=0, cdw11=1 << 2),
                     data_out=rng).ok, "deallocate")
    expect(q.read(NVM_NS, 10, 2).data == bytes(8192), "deallocated blocks read zeroes")
    expect(zms(q, 0, n.ZSA_RESET, extra=1 << 8).ok, "reset all")


def t_validation(c, q):
    expect_status(zms(q, Z(0), n.ZSA_OPEN, extra=1 << 12), n.SC_INVALID_FIELD,
                  "Zone Send reserved CDW13 bit")
    expect_status(zms(q, Z(0), n.ZSA_CLOSE, extra=1 << 9), n.SC_INVALID_FIELD,
                  "ZSASO on Close")
    expect_status(zms(q, 0, n.ZSA_OPEN, extra=1 << 9 | 1 << 8), n.SC_INVALID_FIELD,
                  "ZRWA allocation with Select All")
    expect_status(zmr(q, 0, cdw13_extra=1 << 20), n.SC_INVALID_FIELD,
                  "Zone Receive reserved CDW13 bit")
    expect_status(zmr(q, 0, zra=2), n.SC_INVALID_FIELD, "ZRA 02h")
    expect_status(zms(q, 0, ZSA_ZRWA_FLUSH, extra=1 << 8), n.SC_INVALID_FIELD,
                  "ZRWA flush with Select All")
    expect_status(q.write(0xFFFFFFFF, 0, blocks(1, 1)), n.SC_INVALID_NS,
                  "write to the broadcast NSID")
    expect_status(q.read(ZNS_NS, 0, 129), n.SC_INVALID_FIELD, "read above MDTS")
    expect_status(q.read(ZNS_NS, Z(16), 1), n.SC_LBA_RANGE, "read past the namespace")
    expect_status(c.admin.set_features(0x0B, 0, nsid=ZNS_NS), (1, 0x0F),
                  "Set Features of a controller feature with a namespace's NSID")
    expect(c.admin.set_features(0x0B, 0, nsid=0xFFFFFFFF).ok, "Set Features, broadcast NSID")
    expect_status(c.admin.get_log(0x02, 512, nsid=ZNS_NS), n.SC_INVALID_FIELD,
                  "per-namespace SMART without LPA bit 0")
    expect(c.admin.get_log(0x02, 512).ok, "SMART, broadcast NSID")
    expect_status(c.admin.execute(n.build_sqe(n.ADM_IDENTIFY, cdw10=1 | 1 << 8),
                                  data_in=4096), n.SC_INVALID_FIELD,
                  "Identify with reserved CDW10 bits")
    expect_status(c.admin.get_log(0xBF, 4096, nsid=0xFFFFFFFF, csi=n.CSI_ZNS),
                  n.SC_INVALID_NS, "changed zone list of the broadcast NSID")
    expect_status(c.admin.execute(n.build_sqe(n.ADM_GET_LOG, nsid=0xFFFFFFFF,
                                              cdw10=0x02 | 127 << 16, cdw14=1 << 23),
                                  data_in=512), n.SC_INVALID_FIELD,
                  "Get Log Page with an index offset (OT) when IOS is clear")
    lids = c.admin.get_log(0x00, 1024).check("supported logs").data
    expect(struct.unpack_from("<I", lids, 4 * 0x02)[0] == 1, "LID 02h: LSUPP only, no IOS")


# ---- Daemon B: the timers ---------------------------------------------------------------------

def t_timers(c, q):
    idc = c.admin.identify(1).check("id ctrl").data
    expect(struct.unpack_from("<I", idc, 92)[0] & (1 << 27), "OAES bit 27")
    z = c.admin.identify(5, nsid=ZNS_NS, csi=n.CSI_ZNS).check("id ns zns").data
    expect(struct.unpack_from("<II", z, 12) == (1, 1), "RRL/FRL")
    c.admin.set_features(0x0B, 1 << 27).check("enable zone notices")
    expect(c.admin.get_features(0x0B).check("get AEC").dw0 & (1 << 27), "AEC bit 27")
    aer = c.admin.submit(n.build_sqe(n.ADM_AER))
    expect(q.write(ZNS_NS, Z(0), blocks(1, 1)).ok, "write opens zone 0")
    expect(zms(q, Z(1), n.ZSA_FINISH).ok, "finish zone 1")
    cpl = c.admin.wait(aer, timeout=6)
    expect(cpl.ok and cpl.dw0 == 0xBFEF02, "AER result %#x" % cpl.dw0)
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        z0, z1 = zone(q, 0), zone(q, 1)
        if z0.za & ZA_ZFC and z1.za & ZA_RZR:
            break
        time.sleep(0.2)
    expect(z0.zs == n.ZS_FULL and z0.za & ZA_ZFC, "zone 0 finished by controller: %r za %#x"
           % (z0, z0.za))
    expect(z1.za & ZA_RZR, "zone 1 reset recommended: za %#x" % z1.za)
    log = c.admin.get_log(0xBF, 4096, nsid=ZNS_NS, csi=n.CSI_ZNS).check("changed zones").data
    nrzid, = struct.unpack_from("<H", log, 0)
    ids = set(struct.unpack_from("<%dQ" % nrzid, log, 8)) if nrzid != 0xFFFF else set()
    expect({Z(0), Z(1)} <= ids, "changed zone list %r" % sorted(ids))
    log = c.admin.get_log(0xBF, 4096, nsid=ZNS_NS, csi=n.CSI_ZNS).check("changed zones").data
    expect(struct.unpack_from("<H", log, 0)[0] == 0, "list cleared by reading it")
    expect(zms(q, Z(1), n.ZSA_RESET).ok and zone(q, 1).za == 0, "reset clears RZR")


def proc_kb(pid, field, path="status"):
    with open("/proc/%d/%s" % (pid, path)) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def wait_for(cond, secs=3.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def expect_zone_zeroes(q, zslba):
    """The first 256 blocks of the zone at @zslba read as zeroes."""
    for half in (0, 128):
        data = q.read(ZNS_NS, zslba + half, 128).check("read the reset zone").data
        expect(data == bytes(len(data)), "a reset zone reads back non-zero bytes")


def t_memory_lazy(d):
    """--zone-prefault 8M, --reset-pages lazy (the defaults)."""
    pid = d.proc.pid

    def run(c, q):
        blk = bytes([0x6b]) * 4096
        rss0 = proc_kb(pid, "RssAnon")
        q.write(ZNS_NS, MEM_ZONE, blk).check("first write to zone 1")
        # the populator makes [WP, WP + 16M) resident in the background
        expect(wait_for(lambda: proc_kb(pid, "RssAnon") - rss0 >= 12 * 1024),
               "RssAnon grew by %d KiB after one 4K write, expected >= 12 MiB ahead of the WP"
               % (proc_kb(pid, "RssAnon") - rss0))
        for i in range(1, 256):
            q.write(ZNS_NS, MEM_ZONE + i, blk).check("write %d" % i)
        lazy0 = proc_kb(pid, "LazyFree", "smaps_rollup")
        q.zone_mgmt_send(ZNS_NS, MEM_ZONE, n.ZSA_RESET).check("reset")
        lazy = proc_kb(pid, "LazyFree", "smaps_rollup") - lazy0
        expect(lazy >= 900, "LazyFree grew by %d KiB after resetting 1 MiB of data" % lazy)
        expect_zone_zeroes(q, MEM_ZONE)
        q.write(ZNS_NS, MEM_ZONE, bytes([0x3d]) * 8192).check("rewrite 2 blocks")
        data = q.read(ZNS_NS, MEM_ZONE, 4).check("read").data
        expect(data == bytes([0x3d]) * 8192 + bytes(8192),
               "2 rewritten blocks then zeroes expected")
    return run


def t_memory_free(d):
    """--zone-prefault 0, --reset-pages free."""
    pid = d.proc.pid

    def run(c, q):
        blk = bytes([0x6b]) * 4096
        rss0 = proc_kb(pid, "RssAnon")
        for i in range(256):
            q.write(ZNS_NS, 2 * MEM_ZONE + i, blk).check("write %d" % i)
        time.sleep(0.3)
        grown = proc_kb(pid, "RssAnon") - rss0
        expect(900 <= grown <= 4096 + 1024,
               "RssAnon grew by %d KiB for 1 MiB written without prefault" % grown)
        q.zone_mgmt_send(ZNS_NS, 2 * MEM_ZONE, n.ZSA_RESET).check("reset")
        freed = rss0 + grown - proc_kb(pid, "RssAnon")
        expect(freed >= 900, "a reset freed %d KiB of 1 MiB written" % freed)
        expect_zone_zeroes(q, 2 * MEM_ZONE)
    return run


def report_blocks(path):
    """The numbered lateness reports in a daemon's log: {number: [lines]}."""
    out, cur = {}, None
    with open(path) as f:
        for line in f:
            if line.startswith("znstcpd: lateness report "):
                cur = out.setdefault(int(line.split()[-1]), [])
            elif cur is not None and line.startswith(("lateness ", "znstcpd: lateness:")):
                cur.append(line.strip())
    return out


def t_lateness(d):
    """--timing fixed, 300 us reads: each completion is counted in the report
    asked for with SIGUSR1, SIGUSR2 starts the counts over, and the spins
    to the deadlines feed the machine line."""
    def run(c, q):
        blk = bytes([0x5a]) * 4096
        q.write(ZNS_NS, 0, blk).check("write")
        for i in range(40):
            t0 = time.monotonic()
            q.read(ZNS_NS, 0, 1).check("read %d" % i)
            dt = time.monotonic() - t0
            expect(dt >= 300e-6, "read %d took %.0f us, the model says 300" % (i, dt * 1e6))
        d.proc.send_signal(signal.SIGUSR1)
        expect(wait_for(lambda: 1 in report_blocks(d.log.name)), "no report 1 after SIGUSR1")
        r1 = report_blocks(d.log.name)[1]
        reads = [x for x in r1 if x.startswith("lateness read ")]
        expect(len(reads) == 1 and " n=40 " in reads[0], "report 1: %r" % r1)
        writes = [x for x in r1 if x.startswith("lateness write ")]
        expect(len(writes) == 1 and " n=1 " in writes[0], "report 1 lacks the write: %r" % r1)
        mach = [x for x in r1 if x.startswith("lateness machine ")]
        expect(len(mach) == 1, "report 1 has no machine line: %r" % r1)
        f = dict(kv.split("=", 1) for kv in mach[0].split()[2:])
        late = int(f["late_in_stall"].split("/")[1])
        expect(float(f["spin"].rstrip("ms")) > 0 and late <= 41,
               "machine line: %r" % mach[0])
        d.proc.send_signal(signal.SIGUSR2)
        time.sleep(0.3)		# each reactor clears its own counts at its next pass
        for i in range(5):
            q.read(ZNS_NS, 0, 1).check("read after SIGUSR2")
        d.proc.send_signal(signal.SIGUSR1)
        expect(wait_for(lambda: 2 in report_blocks(d.log.name)), "no report 2 after SIGUSR1")
        r2 = report_blocks(d.log.name)[2]
        expect([x for x in r2 if x.startswith("lateness read ") and " n=5 " in x] and
               not [x for x in r2 if x.startswith("lateness write ")],
               "report 2 after SIGUSR2 should hold only the 5 new reads: %r" % r2)
    return run


def read_us(q, nsid, n=20):
    """Median of @n one-block reads of @nsid, in microseconds."""
    ts = []
    for i in range(n):
        t0 = time.monotonic()
        q.read(nsid, 0, 1).check("read nsid %d" % nsid)
        ts.append((time.monotonic() - t0) * 1e6)
    return sorted(ts)[n // 2]


def t_conv_shared(c, q):
    """No --conv-timing: the conventional namespace runs through the same
    model (one device), so its reads take the 300 us too."""
    q.write(NVM_NS, 0, bytes(4096)).check("write nsid 2")
    us = read_us(q, NVM_NS)
    expect(us >= 300, "nsid 2 read took %.0f us, the shared model says 300" % us)


def t_conv_own(c, q):
    """--conv-timing fixed --conv-lat-read 2ms: each namespace its own model."""
    q.write(ZNS_NS, 0, bytes(4096)).check("write nsid 1")
    q.write(NVM_NS, 0, bytes(4096)).check("write nsid 2")
    zns, nvm = read_us(q, ZNS_NS), read_us(q, NVM_NS, 10)
    expect(300 <= zns < 1500, "nsid 1 read took %.0f us, its model says 300" % zns)
    expect(nvm >= 2000, "nsid 2 read took %.0f us, its own model says 2000" % nvm)


NEEDS_DAEMON = (t_memory_lazy, t_memory_free, t_lateness)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    args = ap.parse_args()
    tap = Tap()
    ok = True
    for extra, cases in ((FEATURES, [("identify data", t_identify), ("log pages", t_logs),
                                     ("descriptor extensions", t_desc_ext),
                                     ("ZRWA", t_zrwa), ("start-up zone states", t_start_states),
                                     ("RAZB", t_razb), ("copy compare verify dsm", t_copy_compare),
                                     ("field validation", t_validation)]),
                         (TIMERS, [("RRL FRL ZFC and the zone notice", t_timers)]),
                         (MEMORY, [("memory: populated ahead of the WP, reset keeps it lazily, "
                                    "reads zeroes", t_memory_lazy)]),
                         (MEMORY + ["--zone-prefault", "0", "--reset-pages", "free"],
                          [("memory: no prefault, reset frees at once, reads zeroes",
                            t_memory_free)]),
                         (["--timing", "fixed", "--lat-read", "300us", "--lat-write", "50us"],
                          [("lateness report: SIGUSR1 on request, SIGUSR2 starts over, "
                            "the machine line", t_lateness),
                           ("conventional namespace shares the zoned one's model by default",
                            t_conv_shared)]),
                         (["--timing", "fixed", "--lat-read", "300us", "--conv-timing", "fixed",
                           "--conv-lat-read", "2ms"],
                          [("--conv-timing: each namespace its own model (300 us vs 2 ms reads)",
                            t_conv_own)])):
        d = Daemon(args.daemon, extra)
        c, q = open_ctrl(d)
        for name, fn in cases:
            if fn in NEEDS_DAEMON:	# cases that look at the process itself
                fn = fn(d)
            tap.case(name, fn, c, q)
        c.close()
        rc = d.stop()
        tap.case("daemon exits 0", lambda: expect(rc == 0, "exit status %r" % rc))
        if any(fn is t_lateness for _, fn in cases):
            # the 5 reads after SIGUSR2 and the 20 of the next case
            tap.case("lateness report on shutdown, all completions since SIGUSR2",
                     lambda: expect([x for x in report_blocks(d.log.name).get(3, [])
                                     if x.startswith("lateness read ") and " n=25 " in x],
                                    "shutdown report: %r" % report_blocks(d.log.name)))
    print("1..%d" % tap.n)
    return 0 if ok and not tap.failed else 1


if __name__ == "__main__":
    sys.exit(main())
