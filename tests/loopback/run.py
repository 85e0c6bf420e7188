#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Loopback integration tests: start znstcpd on a free 127.0.0.1 port with a
small geometry, drive it with the userspace host in tests/client/nvmetcp.py
and print TAP.  Exit status 0 only if every case passed.

  python3 tests/loopback/run.py --daemon build/target/znstcpd [--only GROUP,...]

Groups run in order: discovery, admin, io, digests, concurrency, keepalive,
malformed (a healthy controller verifies I/O after every case), pipelined
(fatal errors right behind ICReq, each on a daemon of its own), limits (64
controllers) and lba512 (512-byte blocks), both on daemons of their own;
then the handshake timeout, and the main daemon must still be alive and
exit 0 on SIGTERM.  Groups use their own controllers and reset the zones
they use, so one group's failure does not change what the next one sees.
Each case is one TAP line; the plan ("1..N") comes last.
"""
import argparse
import os
import random
import select
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
sys.dont_write_bytecode = True		# no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "client"))
import nvmetcp as n  # noqa: E402

NQN = "nqn.2024-11.io.znstcp:loopback"
HOSTNQN = n.DEFAULT_HOSTNQN

# Geometry under test (the daemon gets these options)
LBA = 4096
NR_ZONES = 16
ZONE_SIZE = 256			# blocks (1 MiB)
ZONE_CAP = 192			# blocks (768 KiB)
MAX_OPEN = 3
MAX_ACTIVE = 4
CONV_BLOCKS = 4096		# 16 MiB
MDTS = 512 * 1024
ZASL_BYTES = 128 * 1024
ZNS_NS, NVM_NS = 1, 2
DAEMON_ARGS = ["--nqn", NQN, "--zones", str(NR_ZONES), "--zone-size", "1M",
               "--zone-cap", "768K", "--max-open", str(MAX_OPEN),
               "--max-active", str(MAX_ACTIVE), "--lba-size", str(LBA),
               "--conv-size", "16M", "--mdts", "512K", "--zone-append-max", "128K",
               "--max-queues", "8", "--queue-depth", "128", "--reactors", "2"]


def Z(i):
    """Start LBA of zone @i."""
    return i * ZONE_SIZE


# ---- TAP ------------------------------------------------------------------------------

class Fail(Exception):
    pass


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = []

    def result(self, name, ok, detail=""):
        self.count += 1
        if ok:
            print("ok %d - %s" % (self.count, name))
        else:
            self.failed.append(name)
            detail = " ".join(str(detail).split())
            print("not ok %d - %s # %s" % (self.count, name, detail))
        sys.stdout.flush()

    def comment(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def case(self, name):
        return Case(self, name)


class Case:
    """with tap.case(name) as c: ...  -- any exception or c.soft() failure fails it."""

    def __init__(self, tap, name):
        self.tap, self.name = tap, name
        self.problems = []

    def __enter__(self):
        return self

    def soft(self, cond, msg):
        """Record a failure without stopping the case."""
        if not cond:
            self.problems.append(msg)
        return cond

    def __exit__(self, et, ev, tb):
        if et is KeyboardInterrupt:
            return False
        if ev is not None:
            if isinstance(ev, Fail):
                self.problems.append(str(ev))
            else:
                self.problems.append("%s: %s" % (et.__name__, ev))
                if not isinstance(ev, (n.TransportError, n.NvmeError)):
                    self.tap.comment("".join(traceback.format_exception(et, ev, tb)))
        self.tap.result(self.name, not self.problems, "; ".join(self.problems))
        return True


def expect(cond, msg):
    if not cond:
        raise Fail(msg)


def expect_eq(actual, wanted, what):
    if actual != wanted:
        raise Fail("%s: expected %r, got %r" % (what, wanted, actual))


def fmt_status(sct_sc, dnr=None):
    return "SCT %xh SC %02xh%s" % (sct_sc[0], sct_sc[1], " DNR" if dnr else "")


def expect_ok(cpl, what):
    if not cpl.ok:
        raise Fail("%s: expected success, got %s" % (what, cpl.status_str()))
    return cpl


def expect_status(cpl, sct_sc, what, dnr=None):
    if not cpl.is_status(sct_sc) or (dnr is not None and cpl.dnr != dnr):
        raise Fail("%s: expected %s, got %s" % (what, fmt_status(sct_sc, dnr),
                                                cpl.status_str()))
    return cpl


def expect_data(got, wanted, what):
    if got != wanted:
        first = next((i for i in range(min(len(got), len(wanted))) if got[i] != wanted[i]),
                     min(len(got), len(wanted)))
        raise Fail("%s: data mismatch at byte %d (got %d bytes, wanted %d)" %
                   (what, first, len(got), len(wanted)))


def pattern(nbytes, seed):
    return n.random_bytes(nbytes, seed)


# ---- The daemon -------------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    def __init__(self, path, extra, verbose):
        self.path = path
        self.extra = extra
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="znstcpd-", suffix=".log", delete=False)
        args = [path, "--listen", "127.0.0.1:%d" % self.port] + DAEMON_ARGS + extra
        if verbose:
            args.append("-v")
        self.args = args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        self.stdout = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.reader.start()
        if not self.ready.wait(10):
            self.kill()
            raise RuntimeError("znstcpd did not print 'listening on' within 10 s "
                               "(stdout %r, log %s)" % (self.stdout, self.log.name))

    def _read_stdout(self):
        for line in iter(self.proc.stdout.readline, b""):
            line = line.decode(errors="replace").rstrip("\n")
            self.stdout.append(line)
            if "listening on" in line:
                self.ready.set()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer",
                       "WARNING: ThreadSanitizer")

    def sanitizer_report(self):
        """The first lines of a sanitizer report in the log, or ""."""
        try:
            with open(self.log.name, errors="replace") as f:
                lines = f.readlines()
        except OSError:
            return ""
        for i, line in enumerate(lines):
            if any(m in line for m in self.SANITIZER_MARKS):
                return "".join(lines[i:i + 12])
        return ""

    def log_tail(self, lines=40):
        try:
            with open(self.log.name, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


class Ctx:
    def __init__(self, tap, daemon, addr="127.0.0.1"):
        self.tap = tap
        self.daemon = daemon
        self.addr = addr
        self.port = daemon.port
        self._open = []

    def track(self, obj):
        """Close @obj (a Queue or Controller) when the group ends."""
        self._open.append(obj)
        return obj

    def ctrl(self, subnqn=NQN, **kw):
        return self.track(n.Controller(self.addr, self.port, subnqn, **kw))

    def raw(self, icreq=True, **ic):
        q = self.track(n.Queue(self.addr, self.port, timeout=5))
        if icreq:
            q.icreq(**ic)
        return q

    def close_all(self):
        for o in self._open:
            try:
                o.close()
            except Exception:
                pass
        self._open = []


def reset_all(q):
    expect_ok(q.zone_mgmt_send(ZNS_NS, 0, n.ZSA_RESET, select_all=True), "select-all reset")


def read_back(q, lba, data, what="read back"):
    """The regular namespace holds @data at @lba."""
    expect_data(expect_ok(q.read(NVM_NS, lba, len(data) // LBA), "read").data, data, what)


def write_read_back(q, lba, data, what="write"):
    """Write @data at @lba of the regular namespace, then read it back."""
    expect_ok(q.write(NVM_NS, lba, data), what)
    read_back(q, lba, data)


def h2c_whole(q, lba, data):
    """A write of @data at @lba whose data the test sends itself: the
    command, once its R2T came, and the one H2CData PDU that carries it all."""
    cmd = q.submit_write(NVM_NS, lba, data, incapsule=False, auto_h2c=False)
    while not cmd.r2ts:
        q.process_one()
    return cmd, q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, cmd.r2ts[0][0], 0, len(data)),
                      data, flags=n.F_LAST)


def capsule_burst(q, opc, cid0, count, cdw12, length):
    """@count commands in one send, each with a transport SGL of @length
    bytes: reads that keep the queue busy, or writes whose data never comes."""
    return b"".join(q.pdu(n.CMD, bytes(n.build_sqe(
        opc, cid=cid0 + i, nsid=NVM_NS, cdw12=cdw12,
        sgl=n.sgl_desc(n.SGL_TRANSPORT, length)))) for i in range(count))


def zone_desc(q, i):
    rep = q.report_zones(ZNS_NS, Z(i), partial=True, nbytes=128)
    expect(rep.nrz == 1 and rep.zones, "report of zone %d returned %d zones" % (i, rep.nrz))
    return rep.zones[0]


def zone_states(q):
    rep = q.report_zones(ZNS_NS, 0, nbytes=64 + 64 * NR_ZONES)
    return {i: z.zs for i, z in enumerate(rep.zones)}


def expect_zone(q, i, zs, wp=None, what=""):
    z = zone_desc(q, i)
    if z.zs != zs:
        raise Fail("%szone %d is %s, expected %s" % (what + ": " if what else "", i, z.state,
                                                     n.ZS_NAMES.get(zs)))
    if wp is not None and z.wp != wp:
        raise Fail("%szone %d wp %#x, expected %#x" % (what + ": " if what else "", i, z.wp, wp))
    return z


def blocks(nblk, seed):
    return pattern(nblk * LBA, seed)


# =====================================================================================================
# discovery
# =====================================================================================================

def group_discovery(ctx):
    tap = ctx.tap
    dc = None
    with tap.case("discovery: connect to the discovery NQN, enable, Identify CNTRLTYPE 2") as c:
        dc = ctx.ctrl(n.DISC_NQN)
        idc = dc.id_ctrl
        c.soft(idc["cntrltype"] == 2, "CNTRLTYPE %d, expected 2" % idc["cntrltype"])
        c.soft(idc["subnqn"] == n.DISC_NQN, "SUBNQN %r" % idc["subnqn"])
        c.soft(not dc.cap >> 43 & 1, "discovery CAP.CSS advertises I/O command sets")
    with tap.case("discovery: log page 70h lists the subsystem (trtype 3, traddr, trsvcid)") as c:
        expect(dc is not None, "no discovery controller")
        hdr = dc.admin.get_log(0x70, 1024).check("discovery log header").data
        numrec = struct.unpack_from("<Q", hdr, 8)[0]
        expect(1 <= numrec <= 16, "NUMREC %d" % numrec)
        cpl = dc.admin.get_log(0x70, 1024 * (1 + numrec)).check("discovery log")
        log = n.parse_disc_log(cpl.data)
        ents = [e for e in log["entries"] if e["subnqn"] == NQN]
        expect(ents, "subsystem %s not listed (entries: %r)" %
               (NQN, [e["subnqn"] for e in log["entries"]]))
        e = ents[0]
        c.soft(e["trtype"] == 3, "TRTYPE %d" % e["trtype"])
        c.soft(e["adrfam"] == 1, "ADRFAM %d (IPv4 is 1)" % e["adrfam"])
        c.soft(e["subtype"] == 2, "SUBTYPE %d (NVM subsystem is 2)" % e["subtype"])
        c.soft(e["trsvcid"] == str(ctx.port), "TRSVCID %r, expected %r" % (e["trsvcid"], str(ctx.port)))
        c.soft(e["traddr"] == "127.0.0.1", "TRADDR %r" % e["traddr"])
        c.soft(e["cntlid"] == 0xFFFF, "CNTLID %#x (dynamic is FFFFh)" % e["cntlid"])
        # the same entry read at an offset
        cpl2 = dc.admin.get_log(0x70, 1024, offset=1024).check("discovery log at offset 1024")
        c.soft(cpl2.data == cpl.data[1024:2048], "entry read at LPO 1024 differs")
    with tap.case("discovery: NVM-only commands are refused by the discovery controller") as c:
        expect(dc is not None, "no discovery controller")
        cpl = dc.admin.identify(0, nsid=1)
        c.soft(not cpl.ok, "Identify Namespace succeeded on the discovery controller")
        cpl = dc.admin.get_log(0x02, 512)
        c.soft(cpl.is_status(n.SC_INVALID_LOG_PAGE),
               "SMART log: expected SCT 1h SC 09h, got %s" % cpl.status_str())
        q = ctx.raw()
        cpl = q.connect(n.DISC_NQN, HOSTNQN, qid=1, cntlid=dc.cntlid)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM),
               "I/O queue Connect to discovery: expected SCT 1h SC 82h, got %s" %
               cpl.status_str())


# =====================================================================================================
# admin
# =====================================================================================================

def group_admin(ctx):
    tap = ctx.tap
    KATO = 30000
    c0 = None
    with tap.case("admin: Connect admin queue (dynamic cntlid, KATO %d ms)" % KATO) as c:
        c0 = ctx.ctrl(kato=KATO, enable=False)
        expect(1 <= c0.cntlid <= 0xFFEF, "CNTLID %#x outside 1..FFEFh" % c0.cntlid)
    if c0 is None:
        return
    a = c0.admin
    with tap.case("admin: CAP has CSS bits 37 and 43, VS is 2.0") as c:
        cap = expect_ok(a.prop_get(n.REG_CAP, size8=True), "Property Get CAP").result
        c.soft(cap >> 37 & 1, "CAP.CSS bit 37 (NVM) clear: CAP %#x" % cap)
        c.soft(cap >> 43 & 1, "CAP.CSS bit 43 (I/O command sets) clear: CAP %#x" % cap)
        c.soft((cap & 0xFFFF) + 1 >= 2, "CAP.MQES %d" % (cap & 0xFFFF))
        c.soft(cap >> 16 & 1, "CAP.CQR clear")
        vs = expect_ok(a.prop_get(n.REG_VS), "Property Get VS").dw0
        c.soft(vs == 0x00020000, "VS %#x, expected 00020000h" % vs)
        cc = expect_ok(a.prop_get(n.REG_CC), "Property Get CC").dw0
        c.soft(cc & 1 == 0, "CC.EN set before enable: %#x" % cc)
    with tap.case("admin: admin command before CC.EN -> Command Sequence Error") as c:
        expect_status(a.identify(1), n.SC_CMD_SEQ_ERROR, "Identify before enable")
    with tap.case("admin: Property Get of an unknown property -> Invalid Field") as c:
        expect_status(a.prop_get(0x40), n.SC_INVALID_FIELD, "Property Get 40h")
    with tap.case("admin: CC.EN=1 with CSS 110b, IOSQES 6, IOCQES 4 sets CSTS.RDY") as c:
        cc = c0.enable()
        expect_eq(cc >> 4 & 7, 6, "CC.CSS chosen from CAP")
        cc_back = expect_ok(a.prop_get(n.REG_CC), "Property Get CC").dw0
        c.soft(cc_back == cc, "CC reads back %#x, wrote %#x" % (cc_back, cc))
    if c0.id_ctrl is None:
        return
    with tap.case("admin: Identify Controller (MDTS, SUBNQN, IOCCSZ, SGLS, NN 2, ONCS Write Zeroes)") as c:
        i = c0.id_ctrl
        c.soft(i["cntrltype"] == 1, "CNTRLTYPE %d" % i["cntrltype"])
        c.soft(i["cntlid"] == c0.cntlid, "CNTLID %d, Connect said %d" % (i["cntlid"], c0.cntlid))
        c.soft(i["mdts"] and (4096 << i["mdts"]) == MDTS,
               "MDTS %d (expected %d for %d bytes)" % (i["mdts"], MDTS.bit_length() - 13, MDTS))
        c.soft(i["subnqn"] == NQN, "SUBNQN %r" % i["subnqn"])
        c.soft(i["ioccsz"] >= 4, "IOCCSZ %d below 4 (64-byte SQE)" % i["ioccsz"])
        c.soft(i["ioccsz"] * 16 - 64 == 8192, "IOCCSZ %d: %d bytes in-capsule, expected 8192" %
               (i["ioccsz"], i["ioccsz"] * 16 - 64))
        c.soft(i["iorcsz"] == 1, "IORCSZ %d" % i["iorcsz"])
        c.soft(i["sgls"] & 3 in (1, 2), "SGLS %#x: SGL support bits 1:0" % i["sgls"])
        c.soft(i["nn"] == 2, "NN %d" % i["nn"])
        c.soft(i["oncs"] >> 3 & 1, "ONCS %#x lacks Write Zeroes" % i["oncs"])
        c.soft(i["ver"] == 0x00020000, "VER %#x" % i["ver"])
        c.soft(i["sqes"] == 0x66 and i["cqes"] == 0x44, "SQES %#x CQES %#x" % (i["sqes"], i["cqes"]))
        c.soft(i["icdoff"] == 0, "ICDOFF %d" % i["icdoff"])
        c.soft(i["maxcmd"] >= 16, "MAXCMD %d" % i["maxcmd"])
    with tap.case("admin: Identify CNS 00h on both namespaces") as c:
        for nsid in (ZNS_NS, NVM_NS):
            d = n.parse_id_ns(expect_ok(a.identify(0, nsid=nsid), "CNS 0 ns %d" % nsid).data)
            want = NR_ZONES * ZONE_SIZE if nsid == ZNS_NS else CONV_BLOCKS
            c.soft(d["nsze"] == want, "ns %d NSZE %d, expected %d" % (nsid, d["nsze"], want))
            c.soft(d["ncap"] == want, "ns %d NCAP %d" % (nsid, d["ncap"]))
            c.soft(d["lba_size"] == LBA, "ns %d LBA size %d" % (nsid, d["lba_size"]))
            c.soft(d["nguid"] != bytes(16), "ns %d NGUID is zero" % nsid)
    with tap.case("admin: Identify CNS 02h active namespace list") as c:
        lst = n.parse_ns_list(expect_ok(a.identify(2, nsid=0), "CNS 2").data)
        c.soft(lst == [1, 2], "list from 0: %r" % lst)
        lst = n.parse_ns_list(expect_ok(a.identify(2, nsid=1), "CNS 2 from 1").data)
        c.soft(lst == [2], "list above 1: %r" % lst)
    with tap.case("admin: Identify CNS 03h descriptor lists carry CSI 2 (ns 1) and 0 (ns 2)") as c:
        seen = {}
        for nsid, csi in ((ZNS_NS, 2), (NVM_NS, 0)):
            descs = n.parse_desc_list(expect_ok(a.identify(3, nsid=nsid), "CNS 3 ns %d" % nsid).data)
            csis = [v for t, v in descs if t == 4]
            c.soft(csis == [bytes([csi])], "ns %d CSI descriptors %r, expected [%d]" %
                   (nsid, csis, csi))
            ids = [(t, v) for t, v in descs if t in (2, 3)]
            c.soft(ids, "ns %d has neither NGUID nor UUID" % nsid)
            for t, v in ids:
                c.soft(len(v) == 16 and v != bytes(16), "ns %d descriptor %d is %r" % (nsid, t, v))
            seen[nsid] = ids
        c.soft(seen.get(1) != seen.get(2), "both namespaces have the same identifiers")
    with tap.case("admin: Identify CNS 05h (ZNS id-ns: ZSZE, MOR/MAR 0-based, ZOC 0)") as c:
        d = n.parse_id_ns_zns(expect_ok(a.identify(5, nsid=ZNS_NS, csi=2), "CNS 5 CSI 2 ns 1").data)
        c.soft(d["zsze"] == ZONE_SIZE, "ZSZE %d, expected %d" % (d["zsze"], ZONE_SIZE))
        c.soft(d["mor"] == MAX_OPEN - 1, "MOR %d, expected %d" % (d["mor"], MAX_OPEN - 1))
        c.soft(d["mar"] == MAX_ACTIVE - 1, "MAR %d, expected %d" % (d["mar"], MAX_ACTIVE - 1))
        c.soft(d["zoc"] == 0, "ZOC %d" % d["zoc"])
        c.soft(d["ozcs"] & 1 == 0, "OZCS %#x claims RAZB" % d["ozcs"])
        for nsid in (ZNS_NS, NVM_NS):
            cpl = a.identify(5, nsid=nsid, csi=0)
            c.soft(cpl.ok, "CNS 5 CSI 0 ns %d: %s" % (nsid, cpl.status_str()))
        cpl = a.identify(5, nsid=NVM_NS, csi=2)
        c.soft(not cpl.ok, "CNS 5 CSI 2 on the NVM namespace succeeded")
    with tap.case("admin: Identify CNS 06h (CSI 2: ZASL; CSI 0)") as c:
        cpl = expect_ok(a.identify(6, csi=2), "CNS 6 CSI 2")
        zasl = cpl.data[0]
        c.soft(zasl and (4096 << zasl) == ZASL_BYTES,
               "ZASL %d, expected %d (%d bytes)" % (zasl, (ZASL_BYTES // 4096).bit_length() - 1,
                                                    ZASL_BYTES))
        expect_ok(a.identify(6, csi=0), "CNS 6 CSI 0")
        cpl = a.identify(6, csi=1)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "CNS 6 CSI 1 (KV): %s" % cpl.status_str())
    with tap.case("admin: Identify CNS 07h (active namespaces per CSI)") as c:
        lst = n.parse_ns_list(expect_ok(a.identify(7, csi=2), "CNS 7 CSI 2").data)
        c.soft(lst == [1], "CSI 2: %r" % lst)
        lst = n.parse_ns_list(expect_ok(a.identify(7, csi=0), "CNS 7 CSI 0").data)
        c.soft(lst == [2], "CSI 0: %r" % lst)
    with tap.case("admin: Identify CNS 08h (I/O command set independent) on both namespaces") as c:
        for nsid in (ZNS_NS, NVM_NS):
            d = expect_ok(a.identify(8, nsid=nsid), "CNS 8 ns %d" % nsid).data
            c.soft(d[13] & 1, "ns %d NSTAT %#x: not ready" % (nsid, d[13]))
    with tap.case("admin: Identify CNS 1Ch (I/O command set combinations NVM + ZNS)") as c:
        vec = struct.unpack_from("<Q", expect_ok(a.identify(0x1C), "CNS 1Ch").data, 0)[0]
        c.soft(vec & 0x5 == 0x5, "combination 0 %#x lacks NVM and ZNS" % vec)
    with tap.case("admin: Identify with a bad NSID -> Invalid Namespace (0Bh)") as c:
        for cns in (0, 3, 8):
            cpl = a.identify(cns, nsid=3)
            c.soft(cpl.is_status(n.SC_INVALID_NS), "CNS %d nsid 3: %s" % (cns, cpl.status_str()))
        cpl = a.identify(5, nsid=3, csi=2)
        c.soft(cpl.is_status(n.SC_INVALID_NS), "CNS 5 nsid 3: %s" % cpl.status_str())
    with tap.case("admin: Commands Supported and Effects log: Zone Append for CSI 2 only") as c:
        d = expect_ok(a.get_log(0x05, 4096, csi=2), "effects log CSI 2").data
        iocs = lambda d, op: struct.unpack_from("<I", d, 1024 + 4 * op)[0]
        acs = lambda d, op: struct.unpack_from("<I", d, 4 * op)[0]
        for op, name in ((0x7D, "Zone Append"), (0x79, "Zone Mgmt Send"),
                         (0x7A, "Zone Mgmt Recv"), (0x01, "Write"), (0x02, "Read")):
            c.soft(iocs(d, op) & 1, "CSI 2: %s (%02xh) not CSUPP" % (name, op))
        c.soft(acs(d, 0x06) & 1, "Identify not CSUPP")
        d0 = expect_ok(a.get_log(0x05, 4096, csi=0), "effects log CSI 0").data
        c.soft(iocs(d0, 0x7D) == 0, "CSI 0 marks Zone Append")
        c.soft(iocs(d0, 0x01) & 1 and iocs(d0, 0x02) & 1, "CSI 0 lacks Read/Write")
    with tap.case("admin: Get Log Page SMART, error information, firmware slot") as c:
        d = expect_ok(a.get_log(0x02, 512), "SMART").data
        temp = struct.unpack_from("<H", d, 1)[0]
        c.soft(200 < temp < 400, "SMART temperature %d K" % temp)
        expect_ok(a.get_log(0x01, 64), "error log")
        d = expect_ok(a.get_log(0x03, 512), "firmware slot").data
        c.soft(d[0] & 7 == 1, "AFI %#x" % d[0])
        c.soft(n.cstr(d[8:16]), "slot 1 revision empty")
        cpl = a.get_log(0x7F, 512)
        c.soft(cpl.is_status(n.SC_INVALID_LOG_PAGE), "log 7Fh: %s" % cpl.status_str())
        cpl = a.get_log(0x02, 512, offset=2)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "log offset 2: %s" % cpl.status_str())
    with tap.case("admin: Set Features Number of Queues") as c:
        cpl = expect_ok(a.set_features(0x07, 3 | 3 << 16), "NQ 4")
        c.soft(cpl.dw0 == (3 | 3 << 16), "NQ 4 granted %#x" % cpl.dw0)
        cpl = expect_ok(a.set_features(0x07, 199 | 199 << 16), "NQ 200")
        nsq, ncq = (cpl.dw0 & 0xFFFF) + 1, (cpl.dw0 >> 16) + 1
        c.soft(nsq == ncq == 8, "NQ 200 granted %d/%d, expected the 8 configured" % (nsq, ncq))
        cpl = a.get_features(0x07)
        c.soft(cpl.ok and cpl.dw0 == cpl.dw0 & 0xFFFF | (cpl.dw0 & 0xFFFF) << 16,
               "Get Features NQ %s %#x" % (cpl.status_str(), cpl.dw0))
        cpl = a.set_features(0x07, 0xFFFF)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "NQ 65536: %s" % cpl.status_str())
    with tap.case("admin: I/O queue Connect above the granted queue count is refused") as c:
        expect_ok(a.set_features(0x07, 1 | 1 << 16), "NQ 2")
        q = ctx.track(n.Queue(ctx.addr, ctx.port, 5))
        q.icreq()
        cpl = q.connect(NQN, HOSTNQN, qid=3, cntlid=c0.cntlid)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM), "qid 3 of 2: %s" % cpl.status_str())
        c0.io_queue(2)
        expect_ok(a.set_features(0x07, 7 | 7 << 16), "NQ 8")
    with tap.case("admin: Get Features KATO returns the Connect KATO; Keep Alive succeeds") as c:
        cpl = expect_ok(a.get_features(0x0F), "Get Features KATO")
        c.soft(cpl.dw0 == KATO, "KATO %d, connected with %d" % (cpl.dw0, KATO))
        expect_ok(a.keep_alive(), "Keep Alive")
        expect_ok(a.set_features(0x0F, 20000), "Set Features KATO 20000")
        cpl = expect_ok(a.get_features(0x0F), "Get Features KATO")
        c.soft(cpl.dw0 == 20000, "KATO %d after Set Features 20000" % cpl.dw0)
    with tap.case("admin: unknown opcodes -> Invalid Opcode (01h) with DNR") as c:
        for op in (0xC5, 0x04, 0x80):
            cpl = a.execute(n.build_sqe(op))
            c.soft(cpl.is_status(n.SC_INVALID_OPCODE) and cpl.dnr,
                   "admin opcode %02xh: %s" % (op, cpl.status_str()))
        q = c0.io_queue(1)
        for op, nsid in ((0x05, 2), (0x0C, 1), (0x18, 1), (n.IO_ZONE_APPEND, NVM_NS),
                         (n.IO_ZONE_SEND, NVM_NS), (n.IO_ZONE_RECV, NVM_NS)):
            cpl = q.execute(n.build_sqe(op, nsid=nsid))
            c.soft(cpl.is_status(n.SC_INVALID_OPCODE) and cpl.dnr,
                   "I/O opcode %02xh ns %d: %s" % (op, nsid, cpl.status_str()))
        cpl = q.read(3, 0, 1)
        c.soft(cpl.is_status(n.SC_INVALID_NS), "read nsid 3: %s" % cpl.status_str())
    with tap.case("admin: Get Features Host Identifier (81h, EXHID) returns the Connect HOSTID") as c:
        cpl = expect_ok(a.get_features(0x81, cdw11=1, data_in=16), "Get Features 81h")
        c.soft(cpl.data == bytes(range(0x10, 0x20)), "HOSTID %s" % cpl.data.hex())
        cpl = a.get_features(0x81, cdw11=0, data_in=16)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "without EXHID: %s" % cpl.status_str())
    with tap.case("admin: Asynchronous Event Requests park; AERL+1 accepted, then Async Event Limit") as c:
        aerl = c0.id_ctrl["aerl"]
        cmds = [a.submit(n.build_sqe(n.ADM_AER)) for _ in range(aerl + 1)]
        expect_ok(a.keep_alive(), "keep alive with AERs outstanding")
        c.soft(all(cm.completion is None for cm in cmds), "an AER completed without an event")
        cpl = a.execute(n.build_sqe(n.ADM_AER))
        c.soft(cpl.is_status((1, 0x05)), "AER number %d: expected SCT 1h SC 05h, got %s" %
               (aerl + 2, cpl.status_str()))
    with tap.case("admin: Connect with the Connect data sent by R2T (transport SGL)") as c:
        # a fresh controller: queue IDs of c0 are taken, and a queue ID
        # may be connected only once per controller
        c1 = ctx.ctrl(kato=KATO)
        q = ctx.track(n.Queue(ctx.addr, ctx.port, 5))
        q.icreq()
        r0 = q.stats["r2t"]
        cpl = expect_ok(q.connect(NQN, HOSTNQN, qid=1, cntlid=c1.cntlid, incapsule=False),
                        "Connect via R2T")
        c.soft(q.stats["r2t"] == r0 + 1, "no R2T for the Connect data")
        expect_ok(q.read(NVM_NS, 0, 1), "read on the queue")
    with tap.case("admin: CC.SHN normal shutdown sets CSTS.SHST complete") as c:
        cc = expect_ok(a.prop_get(n.REG_CC), "CC").dw0
        expect_ok(a.prop_set(n.REG_CC, cc | 1 << 14), "Property Set CC.SHN")
        csts = expect_ok(a.prop_get(n.REG_CSTS), "CSTS").dw0
        c.soft(csts >> 2 & 3 == 2, "CSTS %#x: SHST %d, expected 2" % (csts, csts >> 2 & 3))
    ctx.close_all()


# =====================================================================================================
# io
# =====================================================================================================

def group_io(ctx):
    tap = ctx.tap
    q = None
    with tap.case("io: connect, enable, I/O queue 1") as c:
        ctl = ctx.ctrl()
        q = ctl.io_queue(1, sqsize=64)
        reset_all(q)
    if q is None:
        return

    # -- data path --------------------------------------------------------------------------
    with tap.case("io: NVM namespace write/read-back in-capsule (4 KiB, 8 KiB)") as c:
        r0 = q.stats["r2t"]
        for lba, nb in ((10, 1), (20, 2)):
            data = blocks(nb, lba)
            write_read_back(q, lba, data, "write %d blocks" % nb)
        c.soft(q.stats["r2t"] == r0, "in-capsule writes drew %d R2Ts" % (q.stats["r2t"] - r0))
    with tap.case("io: NVM namespace write/read-back via R2T (12 KiB, 64 KiB, 512 KiB = MDTS)") as c:
        for lba, nb in ((100, 3), (200, 16), (1024, 128)):
            r0 = q.stats["r2t"]
            data = blocks(nb, lba + 7)
            expect_ok(q.write(NVM_NS, lba, data), "write %d blocks" % nb)
            c.soft(q.stats["r2t"] == r0 + 1, "%d-block write: %d R2Ts" % (nb, q.stats["r2t"] - r0))
            expect_data(expect_ok(q.read(NVM_NS, lba, nb), "read %d" % nb).data, data,
                        "%d blocks read back" % nb)
    with tap.case("io: H2CData split into 16 KiB PDUs (LAST_PDU on the last) is reassembled") as c:
        q.h2c_chunk = 16384
        try:
            p0 = q.stats["h2c_pdus"]
            data = blocks(32, 4242)
            expect_ok(q.write(NVM_NS, 300, data), "128 KiB write in 8 PDUs")
            c.soft(q.stats["h2c_pdus"] - p0 == 8, "%d H2CData PDUs" % (q.stats["h2c_pdus"] - p0))
            read_back(q, 300, data)
        finally:
            q.h2c_chunk = None
    with tap.case("io: ZNS write/read-back at the write pointer (in-capsule and R2T up to MDTS)") as c:
        lba = Z(0)
        written = bytearray()
        for nb in (1, 2, 3, 128):
            data = blocks(nb, 1000 + nb)
            expect_ok(q.write(ZNS_NS, lba, data), "write %d blocks at %#x" % (nb, lba))
            written += data
            lba += nb
        expect_zone(q, 0, n.ZS_IMP_OPEN, wp=lba, what="after writes")
        got = expect_ok(q.read(ZNS_NS, Z(0), 128), "read 128").data + \
            expect_ok(q.read(ZNS_NS, Z(0) + 128, lba - 128), "read rest").data
        expect_data(got, bytes(written), "zone 0 read back")
    with tap.case("io: transfer above MDTS -> Invalid Field") as c:
        nb = MDTS // LBA + 1
        cpl = q.read(NVM_NS, 0, nb)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "read %d blocks: %s" % (nb, cpl.status_str()))
        cpl = q.write(NVM_NS, 0, blocks(nb, 1), incapsule=False)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "write %d blocks: %s" % (nb, cpl.status_str()))
    with tap.case("io: read beyond the namespace -> LBA Out of Range (80h)") as c:
        for nsid, slba, nb in ((NVM_NS, CONV_BLOCKS, 1), (NVM_NS, CONV_BLOCKS - 1, 2),
                               (NVM_NS, 1 << 40, 1), (ZNS_NS, NR_ZONES * ZONE_SIZE, 1)):
            cpl = q.read(nsid, slba, nb)
            c.soft(cpl.is_status(n.SC_LBA_RANGE), "ns %d read %#x+%d: %s" %
                   (nsid, slba, nb, cpl.status_str()))
        cpl = q.write(NVM_NS, CONV_BLOCKS - 1, blocks(2, 0))
        c.soft(cpl.is_status(n.SC_LBA_RANGE), "write across the end: %s" % cpl.status_str())
    with tap.case("io: ZNS read across a zone boundary (no RAZB) -> Zone Boundary Error") as c:
        expect_status(q.read(ZNS_NS, Z(1) - 1, 2), n.SC_ZONE_BOUNDARY, "read over zone 0/1")

    # -- zone write rules --------------------------------------------------------------------
    with tap.case("io: write not at the write pointer -> Zone Invalid Write (SCT 1h SC BCh)") as c:
        reset_all(q)
        expect_status(q.write(ZNS_NS, Z(1) + 1, blocks(1, 0)), n.SC_ZONE_INVALID_WRITE,
                      "write at zslba+1 of an empty zone")
        expect_ok(q.write(ZNS_NS, Z(1), blocks(2, 0)), "write at wp")
        expect_status(q.write(ZNS_NS, Z(1), blocks(1, 0)), n.SC_ZONE_INVALID_WRITE,
                      "write below wp")
        expect_status(q.write(ZNS_NS, Z(1) + 3, blocks(1, 0)), n.SC_ZONE_INVALID_WRITE,
                      "write above wp")
        expect_zone(q, 1, n.ZS_IMP_OPEN, wp=Z(1) + 2, what="refused writes left the zone")
    with tap.case("io: write across zone capacity or zone size -> Zone Boundary Error (B8h)") as c:
        reset_all(q)
        expect_ok(q.write(ZNS_NS, Z(2), blocks(128, 2)), "write 128 blocks")
        expect_ok(q.write(ZNS_NS, Z(2) + 128, blocks(60, 3)), "write 60 blocks")
        expect_status(q.write(ZNS_NS, Z(2) + 188, blocks(5, 0)), n.SC_ZONE_BOUNDARY,
                      "write of 5 blocks at cap-4")
        expect_zone(q, 2, n.ZS_IMP_OPEN, wp=Z(2) + 188, what="after refused write")
        expect_status(q.write(ZNS_NS, Z(3) - 2, blocks(4, 0)), n.SC_ZONE_BOUNDARY,
                      "write across the zone 2/3 boundary")
        expect_status(q.write_zeroes(ZNS_NS, Z(2) + 188, 8), n.SC_ZONE_BOUNDARY,
                      "write zeroes past capacity")
    with tap.case("io: write to a full zone -> Zone Is Full (B9h)") as c:
        expect_ok(q.write(ZNS_NS, Z(2) + 188, blocks(4, 0)), "write up to capacity")
        expect_zone(q, 2, n.ZS_FULL, what="zone at capacity")
        expect_status(q.write(ZNS_NS, Z(2) + ZONE_CAP, blocks(1, 0)), n.SC_ZONE_FULL,
                      "write at the end of capacity")
        expect_status(q.write(ZNS_NS, Z(2), blocks(1, 0)), n.SC_ZONE_FULL, "write at zslba")
        expect_status(q.zone_append(ZNS_NS, Z(2), blocks(1, 0)), n.SC_ZONE_FULL, "append")

    # -- open/active resources ------------------------------------------------------------------
    with tap.case("io: explicit open beyond max-open -> Too Many Open Zones (BEh)") as c:
        reset_all(q)
        for i in (1, 2, 3):
            expect_ok(q.zone_mgmt_send(ZNS_NS, Z(i), n.ZSA_OPEN), "open zone %d" % i)
        expect_status(q.zone_mgmt_send(ZNS_NS, Z(4), n.ZSA_OPEN), n.SC_ZONE_TOO_MANY_OPEN,
                      "open a 4th zone")
        expect_status(q.write(ZNS_NS, Z(4), blocks(1, 0)), n.SC_ZONE_TOO_MANY_OPEN,
                      "write to an empty zone with 3 explicitly open")
        rep = q.report_zones(ZNS_NS, zrasf=n.ZRASF_EXP_OPEN)
        c.soft([z.zslba for z in rep.zones] == [Z(1), Z(2), Z(3)],
               "explicitly open zones %r" % rep.zones)
        expect_zone(q, 4, n.ZS_EMPTY, what="refused zone")
    with tap.case("io: implicit open beyond max-open closes the LRU implicitly opened zone") as c:
        reset_all(q)
        for i in (1, 2, 3):
            expect_ok(q.write(ZNS_NS, Z(i), blocks(1, i)), "write zone %d" % i)
        expect_ok(q.write(ZNS_NS, Z(4), blocks(1, 4)), "write zone 4")
        st = zone_states(q)
        want = {1: n.ZS_CLOSED, 2: n.ZS_IMP_OPEN, 3: n.ZS_IMP_OPEN, 4: n.ZS_IMP_OPEN}
        expect({i: st[i] for i in want} == want,
               "states %r, expected %r" % ({i: n.ZS_NAMES[st[i]] for i in want},
                                           {i: n.ZS_NAMES[v] for i, v in want.items()}))
        expect_zone(q, 1, n.ZS_CLOSED, wp=Z(1) + 1, what="implicitly closed zone keeps its wp")
        # zone 2 written again: zone 3 is now the least recently written
        expect_ok(q.write(ZNS_NS, Z(2) + 1, blocks(1, 5)), "write zone 2 again")
        expect_ok(q.write(ZNS_NS, Z(1) + 1, blocks(1, 6)), "write closed zone 1")
        st = zone_states(q)
        want = {1: n.ZS_IMP_OPEN, 2: n.ZS_IMP_OPEN, 3: n.ZS_CLOSED, 4: n.ZS_IMP_OPEN}
        expect({i: st[i] for i in want} == want,
               "after re-opening zone 1: %r, expected %r (zone 3 was least recently written)" %
               ({i: n.ZS_NAMES[st[i]] for i in want}, {i: n.ZS_NAMES[v] for i, v in want.items()}))
        expect_data(expect_ok(q.read(ZNS_NS, Z(1), 2), "read zone 1").data,
                    blocks(1, 1) + blocks(1, 6), "zone 1 data across the implicit close")
    with tap.case("io: beyond max-active -> Too Many Active Zones (BDh)") as c:
        # continues: zones 1, 2, 4 implicitly open, zone 3 closed = 4 active
        expect_status(q.write(ZNS_NS, Z(5), blocks(1, 0)), n.SC_ZONE_TOO_MANY_ACTIVE,
                      "write a 5th zone")
        expect_status(q.zone_mgmt_send(ZNS_NS, Z(5), n.ZSA_OPEN), n.SC_ZONE_TOO_MANY_ACTIVE,
                      "open a 5th zone")
        expect_status(q.zone_append(ZNS_NS, Z(5), blocks(1, 0)), n.SC_ZONE_TOO_MANY_ACTIVE,
                      "append to a 5th zone")
        expect_zone(q, 5, n.ZS_EMPTY, what="refused zone")
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(3), n.ZSA_FINISH), "finish closed zone 3")
        expect_ok(q.write(ZNS_NS, Z(5), blocks(1, 0)), "write zone 5 after finishing one")
    with tap.case("io: explicit open at the open limit closes an implicitly opened zone") as c:
        reset_all(q)
        for i in (1, 2, 3):
            expect_ok(q.write(ZNS_NS, Z(i), blocks(1, i)), "write zone %d" % i)
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(4), n.ZSA_OPEN), "open zone 4")
        st = zone_states(q)
        c.soft(st[4] == n.ZS_EXP_OPEN, "zone 4 %s" % n.ZS_NAMES[st[4]])
        c.soft(st[1] == n.ZS_CLOSED, "zone 1 %s, expected closed" % n.ZS_NAMES[st[1]])
    with tap.case("io: close an empty zone -> Invalid Zone State Transition (BFh)") as c:
        reset_all(q)
        expect_status(q.zone_mgmt_send(ZNS_NS, Z(6), n.ZSA_CLOSE), n.SC_ZONE_INVALID_TRANSITION,
                      "close empty zone")
    with tap.case("io: zone state transitions by open/close/finish/reset") as c:
        reset_all(q)
        steps = [
            ("open empty", 1, n.ZSA_OPEN, None, n.ZS_EXP_OPEN),
            ("open explicitly open", 1, n.ZSA_OPEN, None, n.ZS_EXP_OPEN),
            ("close explicitly open", 1, n.ZSA_CLOSE, None, n.ZS_CLOSED),
            ("close closed", 1, n.ZSA_CLOSE, None, n.ZS_CLOSED),
            ("open closed", 1, n.ZSA_OPEN, None, n.ZS_EXP_OPEN),
            ("finish explicitly open", 1, n.ZSA_FINISH, None, n.ZS_FULL),
            ("finish full", 1, n.ZSA_FINISH, None, n.ZS_FULL),
            ("open full", 1, n.ZSA_OPEN, n.SC_ZONE_INVALID_TRANSITION, n.ZS_FULL),
            ("close full", 1, n.ZSA_CLOSE, n.SC_ZONE_INVALID_TRANSITION, n.ZS_FULL),
            ("reset full", 1, n.ZSA_RESET, None, n.ZS_EMPTY),
            ("reset empty", 1, n.ZSA_RESET, None, n.ZS_EMPTY),
            ("finish empty", 1, n.ZSA_FINISH, None, n.ZS_FULL),
            ("reset", 1, n.ZSA_RESET, None, n.ZS_EMPTY),
            ("offline empty", 3, n.ZSA_OFFLINE, n.SC_ZONE_INVALID_TRANSITION, n.ZS_EMPTY),
        ]
        for what, i, zsa, st, zs in steps:
            cpl = q.zone_mgmt_send(ZNS_NS, Z(i), zsa)
            if st is None:
                c.soft(cpl.ok, "%s: %s" % (what, cpl.status_str()))
            else:
                c.soft(cpl.is_status(st), "%s: expected %s, got %s" %
                       (what, fmt_status(st), cpl.status_str()))
            z = zone_desc(q, i)
            c.soft(z.zs == zs, "%s: zone is %s, expected %s" % (what, z.state, n.ZS_NAMES[zs]))
            if zs == n.ZS_EMPTY:
                c.soft(z.wp == Z(i), "%s: wp %#x of an empty zone" % (what, z.wp))
        expect_ok(q.write(ZNS_NS, Z(2), blocks(1, 0)), "write zone 2")
        expect_zone(q, 2, n.ZS_IMP_OPEN, wp=Z(2) + 1)
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(2), n.ZSA_CLOSE), "close implicitly open")
        expect_zone(q, 2, n.ZS_CLOSED, wp=Z(2) + 1, what="closed keeps wp")
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(2), n.ZSA_FINISH), "finish closed")
        expect_zone(q, 2, n.ZS_FULL)
        cpl = q.zone_mgmt_send(ZNS_NS, Z(2) + 1, n.ZSA_RESET)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "reset at a non-zone-start LBA: %s" %
               cpl.status_str())
        cpl = q.zone_mgmt_send(ZNS_NS, Z(NR_ZONES), n.ZSA_RESET)
        c.soft(cpl.is_status(n.SC_LBA_RANGE), "reset beyond the namespace: %s" % cpl.status_str())
        cpl = q.zone_mgmt_send(ZNS_NS, Z(2), 0x0F)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "ZSA 0Fh: %s" % cpl.status_str())
    with tap.case("io: Select All close/open/finish/reset") as c:
        reset_all(q)
        expect_ok(q.write(ZNS_NS, Z(1), blocks(1, 0)), "write zone 1")
        expect_ok(q.write(ZNS_NS, Z(2), blocks(1, 0)), "write zone 2")
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(3), n.ZSA_OPEN), "open zone 3")
        expect_ok(q.zone_mgmt_send(ZNS_NS, 0, n.ZSA_CLOSE, select_all=True), "close all")
        st = zone_states(q)
        c.soft(all(st[i] == n.ZS_CLOSED for i in (1, 2, 3)), "after close all: %r" % st)
        c.soft(all(st[i] == n.ZS_EMPTY for i in range(4, NR_ZONES)), "close all touched empty zones")
        expect_ok(q.zone_mgmt_send(ZNS_NS, 0, n.ZSA_OPEN, select_all=True), "open all")
        st = zone_states(q)
        c.soft(all(st[i] == n.ZS_EXP_OPEN for i in (1, 2, 3)), "after open all: %r" % st)
        c.soft(st[0] == n.ZS_EMPTY, "open all opened an empty zone")
        expect_ok(q.zone_mgmt_send(ZNS_NS, 0, n.ZSA_FINISH, select_all=True), "finish all")
        st = zone_states(q)
        c.soft(all(st[i] == n.ZS_FULL for i in (1, 2, 3)), "after finish all: %r" % st)
        c.soft(all(st[i] == n.ZS_EMPTY for i in range(4, NR_ZONES)), "finish all touched empty zones")
        expect_ok(q.zone_mgmt_send(ZNS_NS, 0, n.ZSA_RESET, select_all=True), "reset all")
        st = zone_states(q)
        c.soft(all(v == n.ZS_EMPTY for v in st.values()), "after reset all: %r" % st)
        # open all with more closed zones than max-open: refused, nothing changes
        for i in (1, 2, 3):
            expect_ok(q.write(ZNS_NS, Z(i), blocks(1, 0)), "write zone %d" % i)
        expect_ok(q.zone_mgmt_send(ZNS_NS, 0, n.ZSA_CLOSE, select_all=True), "close all")
        expect_ok(q.write(ZNS_NS, Z(4), blocks(1, 0)), "write zone 4")
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(4), n.ZSA_CLOSE), "close zone 4")
        cpl = q.zone_mgmt_send(ZNS_NS, 0, n.ZSA_OPEN, select_all=True)
        c.soft(cpl.is_status(n.SC_ZONE_TOO_MANY_OPEN), "open all of 4 closed zones: %s" %
               cpl.status_str())
        st = zone_states(q)
        c.soft(all(st[i] == n.ZS_CLOSED for i in (1, 2, 3, 4)), "refused open all changed %r" % st)
        reset_all(q)

    # -- zone append ------------------------------------------------------------------------------
    with tap.case("io: zone append returns the write pointer (64-bit result) and data lands there") as c:
        reset_all(q)
        zs = Z(8)
        datas = []
        for nb in (1, 2, 3, ZASL_BYTES // LBA):
            wp = zone_desc(q, 8).wp
            data = blocks(nb, 800 + nb)
            cpl = expect_ok(q.zone_append(ZNS_NS, zs, data), "append %d blocks" % nb)
            c.soft(cpl.result == wp, "append %d blocks: result %#x, wp was %#x" % (nb, cpl.result, wp))
            c.soft(cpl.dw1 == 0, "result DW1 %#x" % cpl.dw1)
            datas.append((cpl.result, data))
        expect_zone(q, 8, n.ZS_IMP_OPEN, wp=zs + 1 + 2 + 3 + ZASL_BYTES // LBA)
        for lba, data in datas:
            got = expect_ok(q.read(ZNS_NS, lba, len(data) // LBA), "read at %#x" % lba).data
            c.soft(got == data, "appended data at %#x differs" % lba)
    with tap.case("io: zone append errors (not zone start, above ZASL, past capacity)") as c:
        cpl = q.zone_append(ZNS_NS, Z(8) + 1, blocks(1, 0))
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "SLBA not a zone start: %s" % cpl.status_str())
        cpl = q.zone_append(ZNS_NS, Z(8), blocks(ZASL_BYTES // LBA + 1, 0))
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "above ZASL: %s" % cpl.status_str())
        expect_ok(q.write(ZNS_NS, Z(10), blocks(128, 1)), "fill zone 10")
        expect_ok(q.write(ZNS_NS, Z(10) + 128, blocks(62, 2)), "fill zone 10")
        cpl = q.zone_append(ZNS_NS, Z(10), blocks(4, 0))
        c.soft(cpl.is_status(n.SC_ZONE_BOUNDARY), "append past capacity: %s" % cpl.status_str())
        cpl = expect_ok(q.zone_append(ZNS_NS, Z(10), blocks(2, 0)), "append the last 2 blocks")
        c.soft(cpl.result == Z(10) + 190, "last append at %#x" % cpl.result)
        expect_zone(q, 10, n.ZS_FULL)
        cpl = q.zone_append(ZNS_NS, Z(NR_ZONES), blocks(1, 0))
        c.soft(cpl.is_status(n.SC_LBA_RANGE), "append beyond the namespace: %s" % cpl.status_str())

    # -- report zones --------------------------------------------------------------------------------
    with tap.case("io: report zones with each filter (ZRASF 0-7)") as c:
        reset_all(q)
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(0), n.ZSA_FINISH), "finish zone 0")
        expect_ok(q.write(ZNS_NS, Z(1), blocks(1, 0)), "write zone 1")
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(2), n.ZSA_OPEN), "open zone 2")
        expect_ok(q.write(ZNS_NS, Z(3), blocks(3, 0)), "write zone 3")
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(3), n.ZSA_CLOSE), "close zone 3")
        want = {n.ZRASF_ALL: list(range(NR_ZONES)), n.ZRASF_EMPTY: list(range(4, NR_ZONES)),
                n.ZRASF_IMP_OPEN: [1], n.ZRASF_EXP_OPEN: [2], n.ZRASF_CLOSED: [3],
                n.ZRASF_FULL: [0], n.ZRASF_READ_ONLY: [], n.ZRASF_OFFLINE: []}
        for f, zones in want.items():
            rep = q.report_zones(ZNS_NS, zrasf=f, nbytes=64 + 64 * NR_ZONES)
            got = [z.zslba // ZONE_SIZE for z in rep.zones]
            c.soft(rep.nrz == len(zones) and got == zones,
                   "filter %d: NRZ %d zones %r, expected %r" % (f, rep.nrz, got, zones))
        rep = q.report_zones(ZNS_NS, nbytes=64 + 64 * NR_ZONES)
        wps = {1: Z(1) + 1, 2: Z(2), 3: Z(3) + 3}
        for i, z in enumerate(rep.zones):
            c.soft(z.zt == 2, "zone %d type %d" % (i, z.zt))
            c.soft(z.zcap == ZONE_CAP, "zone %d ZCAP %d" % (i, z.zcap))
            c.soft(z.zslba == Z(i), "zone %d ZSLBA %#x" % (i, z.zslba))
            if i >= 1:
                c.soft(z.wp == wps.get(i, Z(i)), "zone %d WP %#x" % (i, z.wp))
    with tap.case("io: report zones partial flag, NRZ, starting LBA, short buffers") as c:
        rep = q.report_zones(ZNS_NS, zrasf=n.ZRASF_EMPTY, nbytes=64 + 2 * 64)
        c.soft(rep.nrz == NR_ZONES - 4 and [z.zslba for z in rep.zones] == [Z(4), Z(5)],
               "non-partial, room for 2: NRZ %d zones %r" % (rep.nrz, rep.zones))
        rep = q.report_zones(ZNS_NS, zrasf=n.ZRASF_EMPTY, partial=True, nbytes=64 + 2 * 64)
        c.soft(rep.nrz == 2 and len(rep.zones) == 2, "partial, room for 2: NRZ %d" % rep.nrz)
        rep = q.report_zones(ZNS_NS, slba=Z(5) + 3, nbytes=4096)
        c.soft(rep.nrz == NR_ZONES - 5 and rep.zones and rep.zones[0].zslba == Z(5),
               "from zone 5 + 3: NRZ %d first %r" % (rep.nrz, rep.zones[:1]))
        rep = q.report_zones(ZNS_NS, nbytes=64)
        c.soft(rep.nrz == NR_ZONES, "header only, not partial: NRZ %d" % rep.nrz)
        rep = q.report_zones(ZNS_NS, nbytes=64, partial=True)
        c.soft(rep.nrz == 0, "header only, partial: NRZ %d" % rep.nrz)
        rep = q.report_zones(ZNS_NS, slba=Z(NR_ZONES - 1), zrasf=n.ZRASF_FULL)
        c.soft(rep.nrz == 0, "full zones from the last zone: NRZ %d" % rep.nrz)
    with tap.case("io: report zones errors (filter 8, extended report, beyond namespace)") as c:
        cpl = q.zone_mgmt_recv(ZNS_NS, 0, 4096, zrasf=8)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "ZRASF 8: %s" % cpl.status_str())
        cpl = q.zone_mgmt_recv(ZNS_NS, 0, 4096, zra=1)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "extended report without ZDES: %s" %
               cpl.status_str())
        cpl = q.zone_mgmt_recv(ZNS_NS, Z(NR_ZONES), 4096)
        c.soft(cpl.is_status(n.SC_LBA_RANGE), "SLBA beyond the namespace: %s" % cpl.status_str())

    # -- zeroes ---------------------------------------------------------------------------------------
    with tap.case("io: write zeroes reads back zeros (both namespaces)") as c:
        data = blocks(4, 77)
        expect_ok(q.write(NVM_NS, 500, data), "write 4 blocks")
        expect_ok(q.write_zeroes(NVM_NS, 501, 2), "write zeroes 2 blocks")
        got = expect_ok(q.read(NVM_NS, 500, 4), "read").data
        expect_data(got, data[:LBA] + bytes(2 * LBA) + data[3 * LBA:], "NVM after write zeroes")
        reset_all(q)
        expect_ok(q.write(ZNS_NS, Z(11), blocks(2, 5)), "write zone 11")
        expect_ok(q.write_zeroes(ZNS_NS, Z(11) + 2, 4), "write zeroes at wp")
        expect_zone(q, 11, n.ZS_IMP_OPEN, wp=Z(11) + 6, what="write zeroes advances wp")
        got = expect_ok(q.read(ZNS_NS, Z(11), 6), "read").data
        expect_data(got, blocks(2, 5) + bytes(4 * LBA), "zone 11")
        expect_status(q.write_zeroes(ZNS_NS, Z(11), 1), n.SC_ZONE_INVALID_WRITE,
                      "write zeroes below wp")
        cpl = q.write_zeroes(NVM_NS, CONV_BLOCKS - 1, 2)
        c.soft(cpl.is_status(n.SC_LBA_RANGE), "write zeroes across the end: %s" % cpl.status_str())
    with tap.case("io: reads after reset are zeros (single zone and select all)") as c:
        reset_all(q)
        data = blocks(8, 12)
        expect_ok(q.write(ZNS_NS, Z(12), data), "write zone 12")
        expect_ok(q.write(ZNS_NS, Z(13), data), "write zone 13")
        expect_data(expect_ok(q.read(ZNS_NS, Z(12), 8), "read").data, data, "before reset")
        expect_ok(q.zone_mgmt_send(ZNS_NS, Z(12), n.ZSA_RESET), "reset zone 12")
        expect_data(expect_ok(q.read(ZNS_NS, Z(12), 8), "read").data, bytes(8 * LBA),
                    "zone 12 after reset")
        expect_zone(q, 12, n.ZS_EMPTY, wp=Z(12))
        expect_data(expect_ok(q.read(ZNS_NS, Z(13), 8), "read").data, data,
                    "zone 13 untouched by zone 12's reset")
        reset_all(q)
        expect_data(expect_ok(q.read(ZNS_NS, Z(13), 8), "read").data, bytes(8 * LBA),
                    "zone 13 after select-all reset")
        expect_ok(q.write(ZNS_NS, Z(12), data[:LBA]), "rewrite zone 12")
        expect_data(expect_ok(q.read(ZNS_NS, Z(12), 2), "read").data, data[:LBA] + bytes(LBA),
                    "zone 12 rewritten: old data beyond wp")
    with tap.case("io: flush (nsid 1, 2, FFFFFFFFh)") as c:
        for nsid in (1, 2, 0xFFFFFFFF):
            cpl = q.flush(nsid)
            c.soft(cpl.ok, "flush nsid %#x: %s" % (nsid, cpl.status_str()))

    # -- queue behaviour --------------------------------------------------------------------------------
    with tap.case("io: 24 pipelined commands on one queue complete by CID") as c:
        cmds, want = [], {}
        for i in range(24):
            nb = (1, 2, 3, 5)[i % 4]
            data = blocks(nb, 5000 + i)
            cmd = q.submit_write(NVM_NS, 2000 + 8 * i, data)
            cmds.append(cmd)
            want[cmd.cid] = (2000 + 8 * i, nb, data)
        expect(len({cm.cid for cm in cmds}) == 24, "CIDs not distinct")
        for cmd in reversed(cmds):
            expect_ok(q.wait(cmd), "pipelined write CID %d" % cmd.cid)
        reads = [(q.submit_read(NVM_NS, lba, nb), data) for lba, nb, data in want.values()]
        for cmd, data in reads:
            expect_data(expect_ok(q.wait(cmd), "pipelined read").data, data,
                        "pipelined read CID %d" % cmd.cid)
    with tap.case("io: CQE SQID is the queue ID; SQHD counts consumed SQEs (Connect is entry 0)") as c:
        qh = ctx.track(n.Queue(ctx.addr, ctx.port, 5))
        qh.icreq()
        cpl = expect_ok(qh.connect(NQN, HOSTNQN, qid=5, sqsize=16, cntlid=ctl.cntlid), "Connect")
        heads = [cpl.sqhd]
        sqids = [cpl.sqid]
        for _ in range(20):
            cpl = expect_ok(qh.flush(NVM_NS), "flush")
            heads.append(cpl.sqhd)
            sqids.append(cpl.sqid)
        c.soft(set(sqids) == {5}, "SQIDs %r" % sorted(set(sqids)))
        want = [(i + 1) % 16 for i in range(21)]
        c.soft(heads == want, "SQHD sequence %r, expected %r" % (heads, want))
    with tap.case("io: Select All ignores the SLBA field") as c:
        expect_ok(q.zone_mgmt_send(ZNS_NS, 0xFFFFFFFFFFFF, n.ZSA_RESET, select_all=True),
                  "select-all reset with SLBA beyond the namespace")
    with tap.case("io: H2CData PDUs of two commands interleaved") as c:
        da, db = blocks(8, 61), blocks(6, 62)
        ca = q.submit_write(NVM_NS, 800, da, incapsule=False, auto_h2c=False)
        cb = q.submit_write(NVM_NS, 820, db, incapsule=False, auto_h2c=False)
        while not (ca.r2ts and cb.r2ts):
            q.process_one()
        ta, tb = ca.r2ts[0][0], cb.r2ts[0][0]
        c.soft(ta != tb, "both R2Ts carry TTAG %#x" % ta)
        for off in range(0, 8 * LBA, 8192):
            for cmd, ttag, data in ((ca, ta, da), (cb, tb, db)):
                if off < len(data):
                    end = min(off + 8192, len(data))
                    q.send_raw(q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, off, end - off),
                                     data[off:end], flags=n.F_LAST if end == len(data) else 0))
        expect_ok(q.wait(cb), "second write")
        expect_ok(q.wait(ca), "first write")
        expect_data(expect_ok(q.read(NVM_NS, 800, 8), "read").data, da, "first write")
        expect_data(expect_ok(q.read(NVM_NS, 820, 6), "read").data, db, "second write")
    with tap.case("io: 32 command capsules in one send are all answered") as c:
        wr = [(2400 + 4 * i, blocks(1 + i % 2, 300 + i)) for i in range(16)]
        buf, cmds = bytearray(), []
        real_send = q.send_raw
        q.send_raw = buf.extend		# collect instead of sending
        try:
            for lba, data in wr:
                cmds.append(q.submit_write(NVM_NS, lba, data, incapsule=True))
            for lba, data in wr:
                cmds.append(q.submit_read(NVM_NS, lba, len(data) // LBA))
        finally:
            q.send_raw = real_send
        q.send_raw(bytes(buf))
        cpls = q.wait_all(cmds)
        for cpl in cpls[:16]:
            expect_ok(cpl, "batched write")
        for cpl, (lba, data) in zip(cpls[16:], wr):
            expect_data(expect_ok(cpl, "batched read").data, data, "batched read at %d" % lba)
    with tap.case("io: PDUs trickled a few bytes at a time (ICReq, Connect, in-capsule, R2T)") as c:
        tq = ctx.track(TrickleQueue(ctx.addr, ctx.port, 10))
        tq.icreq(hdgst=True, ddgst=True)
        expect_ok(tq.connect(NQN, HOSTNQN, qid=4, cntlid=ctl.cntlid), "Connect")
        d1, d2 = blocks(2, 41), blocks(5, 42)
        expect_ok(tq.write(NVM_NS, 2600, d1, incapsule=True), "in-capsule write")
        expect_ok(tq.write(NVM_NS, 2610, d2, incapsule=False), "R2T write")
        expect_data(expect_ok(tq.read(NVM_NS, 2600, 2), "read").data, d1, "in-capsule data")
        expect_data(expect_ok(tq.read(NVM_NS, 2610, 5), "read").data, d2, "R2T data")
        c.soft(tq.sends > 1000, "only %d sends" % tq.sends)
    with tap.case("io: slow reader: 16 x 512 KiB reads in flight before the host reads") as c:
        nb = MDTS // LBA
        expect_ok(q.write(NVM_NS, 0, blocks(nb, 4321)), "write 512 KiB")
        cmds = [q.submit_read(NVM_NS, 0, nb) for _ in range(16)]
        time.sleep(0.5)
        for cpl in q.wait_all(cmds):
            expect_data(expect_ok(cpl, "read").data, blocks(nb, 4321), "slow-reader read")
    with tap.case("io: SQ flow control disabled: SQHD FFFFh, C2HData SUCCESS") as c:
        qf = ctl.io_queue(2, cattr=0x04)
        data = blocks(2, 31)
        cpl = expect_ok(qf.write(NVM_NS, 700, data), "write")
        c.soft(cpl.sqhd == 0xFFFF, "write CQE SQHD %#x" % cpl.sqhd)
        cpl = expect_ok(qf.read(NVM_NS, 700, 2), "read")
        expect_data(cpl.data, data, "read back")
        c.soft(cpl.via_success or cpl.sqhd == 0xFFFF, "read CQE SQHD %#x" % cpl.sqhd)
        tap.comment("read on the SQ-flow-control-off queue completed %s" %
                    ("by the C2HData SUCCESS flag" if cpl.via_success else "by a CapsuleResp"))
        cpl = expect_ok(q.write(NVM_NS, 702, data), "write on the flow-controlled queue")
        c.soft(cpl.sqhd != 0xFFFF, "SQHD FFFFh with SQ flow control enabled")
    with tap.case("io: Fabrics Disconnect on an I/O queue completes, then the queue closes") as c:
        qd = ctl.io_queue(3)
        expect_ok(qd.disconnect(), "Disconnect")
        c.soft(qd.wait_closed(3), "queue still open after Disconnect")
        expect_ok(q.read(NVM_NS, 0, 1), "other queue of the controller still works")
    ctx.close_all()


# =====================================================================================================
# digests
# =====================================================================================================

def group_digests(ctx):
    tap = ctx.tap
    with tap.case("digests: header+data digest controller: identify, write/read-verify, append") as c:
        ctl = ctx.ctrl(hdgst=True, ddgst=True)
        c.soft(ctl.id_ctrl["nn"] == 2, "Identify over digests: NN %d" % ctl.id_ctrl["nn"])
        q = ctl.io_queue(1)
        reset_all(q)
        for lba, nb in ((40, 1), (44, 2), (48, 3), (64, 64)):
            data = blocks(nb, 9000 + lba)
            expect_ok(q.write(NVM_NS, lba, data), "write %d blocks" % nb)
            expect_data(expect_ok(q.read(NVM_NS, lba, nb), "read").data, data, "%d blocks" % nb)
        q.h2c_chunk = 8192
        data = blocks(8, 9999)
        expect_ok(q.write(NVM_NS, 200, data), "write in 4 H2CData PDUs")
        expect_data(expect_ok(q.read(NVM_NS, 200, 8), "read").data, data, "split write")
        q.h2c_chunk = None
        cpl = expect_ok(q.zone_append(ZNS_NS, Z(5), blocks(3, 3)), "append")
        expect_data(expect_ok(q.read(ZNS_NS, cpl.result, 3), "read").data, blocks(3, 3), "append")
        rep = q.report_zones(ZNS_NS)
        c.soft(rep.nrz == NR_ZONES, "report over digests: NRZ %d" % rep.nrz)
    for dg in (False, True):
        with tap.case("digests: 512 KiB H2CData trickled in odd pieces lands whole (ddgst %s)"
                      % ("on" if dg else "off")) as c:
            # the daemon receives large H2C data straight into its buffer;
            # pieces of odd sizes with pauses make those receives short
            ctl = ctx.ctrl(hdgst=dg, ddgst=dg)
            q = ctl.io_queue(1)
            data = blocks(128, 777 + dg)
            cmd, wire = h2c_whole(q, 1500, data)
            rng = random.Random(5 + dg)
            off = 0
            while off < len(wire):
                k = rng.choice((1, 7, 4093, 17000, 65537, 100003))
                q.send_raw(wire[off:off + k])
                off += k
                time.sleep(0.001)
            expect_ok(q.wait(cmd), "trickled write")
            read_back(q, 1500, data)
            ctl.close()
    with tap.case("digests: a host gone half-way through a large H2CData costs the daemon nothing") as c:
        for i in range(20):
            ctl = ctx.ctrl()
            q = ctl.io_queue(1)
            _, wire = h2c_whole(q, 2500, blocks(128, 900 + i))
            q.send_raw(wire[:24 + 4096 * (i + 1)])
            time.sleep(0.002)
            ctl.close()
        ctl = ctx.ctrl()
        q = ctl.io_queue(1)
        data = blocks(128, 999)
        write_read_back(q, 2500, data, "write after 20 dropped hosts")
        ctl.close()
    with tap.case("digests: HPDA pads C2HData to the host's alignment") as c:
        for hpda, hd in ((7, False), (7, True), (31, True)):
            ctl = ctx.ctrl(hpda=hpda, hdgst=hd, ddgst=hd)
            q = ctl.io_queue(1)
            data = blocks(1, hpda)
            write_read_back(q, 90, data)
            align = (hpda + 1) * 4
            want = (24 + (4 if hd else 0) + align - 1) // align * align
            c.soft(q.stats["c2h_pdo"] == {want}, "HPDA %d hdgst %d: PDOs %r, expected {%d}" %
                   (hpda, hd, q.stats["c2h_pdo"], want))
            ctl.close()
    with tap.case("digests: data digest error fails the command, connection stays up") as c:
        ctl = ctx.ctrl(hdgst=True, ddgst=True)
        q = ctl.io_queue(1)
        old = blocks(2, 1)
        expect_ok(q.write(NVM_NS, 120, old), "write")
        ok_st = (n.SC_DATA_XFER_ERROR, n.SC_TRANSIENT_TRANSPORT)
        cpl = q.write(NVM_NS, 120, blocks(2, 2), incapsule=True, pdu_kw={"bad_ddgst": True})
        c.soft(any(cpl.is_status(s) for s in ok_st),
               "in-capsule data with a bad digest: %s (expected SC 04h or 22h)" % cpl.status_str())
        # H2CData with a bad digest: send it by hand
        cmd = q.submit_write(NVM_NS, 120, blocks(4, 3), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag, r2to, r2tl = cmd.r2ts[0]
        q.send_raw(q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, r2tl), bytes(cmd.data_out),
                         flags=n.F_LAST, bad_ddgst=True))
        cpl = q.wait(cmd)
        c.soft(any(cpl.is_status(s) for s in ok_st),
               "H2CData with a bad digest: %s (expected SC 04h or 22h)" % cpl.status_str())
        cmd = q.submit_write(NVM_NS, 120, blocks(4, 5), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag = cmd.r2ts[0][0]
        d = bytes(cmd.data_out)
        q.send_raw(q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, 8192), d[:8192],
                         bad_ddgst=True) +
                   q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 8192, 8192), d[8192:],
                         flags=n.F_LAST))
        cpl = q.wait(cmd)
        c.soft(any(cpl.is_status(s) for s in ok_st),
               "first of two H2CData PDUs with a bad digest: %s" % cpl.status_str())
        got = expect_ok(q.read(NVM_NS, 120, 2), "read after digest errors").data
        c.soft(got == old, "data with a bad digest was written")
        expect_ok(q.write(NVM_NS, 120, blocks(2, 4)), "write after digest errors")
    with tap.case("digests: wrong header digest -> C2HTermReq FES 3, connection closed") as c:
        q = ctx.raw(hdgst=True, ddgst=True)
        sqe = n.build_sqe(n.FABRICS)
        sqe[4] = n.FCTYPE_CONNECT
        struct.pack_into("<HHH", sqe, 40, 0, 0, 31)
        struct.pack_into("<H", sqe, 2, 1)
        sqe[24:40] = n.sgl_desc(n.SGL_INCAPSULE, 1024)
        q.send_raw(q.pdu(n.CMD, bytes(sqe), n.Queue.connect_data(NQN, HOSTNQN), bad_hdgst=True))
        t = q.expect_term()
        c.soft(t.fes == n.FES_HDGST_ERR, "FES %#x, expected 3" % t.fes)
        c.soft(q.wait_closed(3), "connection still open after the TermReq")
    ctx.close_all()


# =====================================================================================================
# concurrency
# =====================================================================================================

def group_concurrency(ctx):
    tap = ctx.tap
    NQ, PER = 4, 8
    sizes = (1, 2, 3, 1)		# blocks per append on each queue (3 needs an R2T)
    zone = 14
    results = {}
    with tap.case("concurrency: 4 I/O queues x 8 zone appends in flight get distinct LBAs") as c:
        ctl = ctx.ctrl()
        qs = [ctl.io_queue(i + 1, sqsize=32) for i in range(NQ)]
        reset_all(qs[0])
        barrier = threading.Barrier(NQ)
        errors = []

        def worker(i):
            q = qs[i]
            try:
                barrier.wait(5)
                cmds = []
                for j in range(PER):
                    data = blocks(sizes[i], 100 * i + j)
                    cmds.append((q.submit_append(ZNS_NS, Z(zone), data), data))
                for cmd, data in cmds:
                    cpl = q.wait(cmd)
                    if not cpl.ok:
                        errors.append("queue %d append %d: %s" % (i + 1, cmd.cid, cpl.status_str()))
                    else:
                        results[(i, cmd.cid)] = (cpl.result, data)
            except Exception as e:
                errors.append("queue %d: %s: %s" % (i + 1, type(e).__name__, e))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(NQ)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        expect(not errors, "; ".join(errors))
        expect(len(results) == NQ * PER, "%d completions" % len(results))
        lbas = sorted(r[0] for r in results.values())
        expect(len(set(lbas)) == len(lbas), "duplicate LBAs: %r" % lbas)
        ranges = sorted((lba, lba + len(d) // LBA) for lba, d in results.values())
        pos = Z(zone)
        for s, e in ranges:
            expect(s == pos, "append ranges overlap or leave a gap at %#x: %r" % (pos, ranges))
            pos = e
        total = PER * sum(sizes)
        expect_zone(qs[0], zone, n.ZS_IMP_OPEN, wp=Z(zone) + total,
                    what="write pointer after %d appended blocks" % total)
    with tap.case("concurrency: each append's data reads back at its LBA") as c:
        expect(results, "no appends to check")
        bad = []
        for (i, cid), (lba, data) in sorted(results.items()):
            got = expect_ok(qs[0].read(ZNS_NS, lba, len(data) // LBA), "read %#x" % lba).data
            if got != data:
                bad.append("queue %d cid %d at %#x" % (i + 1, cid, lba))
        expect(not bad, "data differs: %s" % ", ".join(bad))
    with tap.case("concurrency: 4 queues x 8 pipelined writes/reads on the NVM namespace") as c:
        errors = []

        def worker2(i):
            q = qs[i]
            try:
                cmds = []
                for j in range(PER):
                    lba = 3000 + 64 * i + 8 * j
                    data = blocks(1 + (j % 4), 7000 + 10 * i + j)
                    cmds.append((q.submit_write(NVM_NS, lba, data), lba, data))
                for cmd, lba, data in cmds:
                    if not q.wait(cmd).ok:
                        errors.append("queue %d write %#x failed" % (i + 1, lba))
                reads = [(q.submit_read(NVM_NS, lba, len(d) // LBA), lba, d) for _, lba, d in cmds]
                for cmd, lba, data in reads:
                    cpl = q.wait(cmd)
                    if not cpl.ok or cpl.data != data:
                        errors.append("queue %d read %#x: %s" % (i + 1, lba, cpl.status_str()))
            except Exception as e:
                errors.append("queue %d: %s: %s" % (i + 1, type(e).__name__, e))

        threads = [threading.Thread(target=worker2, args=(i,)) for i in range(NQ)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        expect(not errors, "; ".join(errors))
    ctx.close_all()


# =====================================================================================================
# keep alive
# =====================================================================================================

def group_keepalive(ctx):
    tap = ctx.tap
    silent = busy = None
    with tap.case("keep alive: controllers with KATO 1000 ms connect (one silent, one sending Keep Alive)") as c:
        busy = ctx.ctrl(kato=1000, hostnqn=HOSTNQN + "-busy")
        bq = busy.io_queue(1)
        reset_all(bq)
        silent = ctx.ctrl(kato=1000, hostnqn=HOSTNQN + "-silent")
        sq = silent.io_queue(1)
        expect_ok(sq.write(ZNS_NS, Z(15), blocks(1, 0)), "silent controller opens zone 15")
        off = ctx.ctrl(kato=1000, hostnqn=HOSTNQN + "-katooff")
        expect_ok(off.admin.set_features(0x0F, 0), "Set Features KATO 0")
    if silent is None or busy is None:
        return
    t0 = time.monotonic()
    closed = {}
    ka_errors = []
    socks = {"admin": silent.admin, "io": silent.io[1]}
    while time.monotonic() - t0 < 2.5 or (time.monotonic() - t0 < 3.0 and len(closed) < 2):
        try:
            expect_ok(busy.admin.keep_alive(), "keep alive")
        except Exception as e:
            ka_errors.append(str(e))
            break
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            left = [q for k, q in socks.items() if k not in closed]
            if not left:
                time.sleep(max(0, end - time.monotonic()))
                break
            r, _, _ = select.select([q.sock for q in left], [], [], max(0, end - time.monotonic()))
            for q in left:
                if q.sock in r:
                    k = [k for k, v in socks.items() if v is q][0]
                    try:
                        data = q.sock.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        closed[k] = time.monotonic() - t0
    with tap.case("keep alive: silent controller torn down: admin and I/O sockets closed within 3 s") as c:
        c.soft("admin" in closed, "admin socket still open after 3 s")
        c.soft("io" in closed, "I/O socket still open after 3 s")
        if closed:
            tap.comment("closed after: " + ", ".join("%s %.2f s" % kv for kv in sorted(closed.items())))
        c.soft(all(v >= 0.9 for v in closed.values()), "closed before KATO expired: %r" % closed)
    with tap.case("keep alive: controller sending Keep Alive every 300 ms stays up") as c:
        expect(not ka_errors, "; ".join(ka_errors))
        expect_ok(busy.admin.keep_alive(), "keep alive")
        data = blocks(1, 55)
        expect_ok(bq.write(NVM_NS, 900, data), "I/O queue write")
        expect_data(expect_ok(bq.read(NVM_NS, 900, 1), "read").data, data, "read back")
    with tap.case("keep alive: KATO set to 0 by Set Features: a silent controller stays up") as c:
        expect(time.monotonic() - t0 >= 2.0, "waited only %.1f s" % (time.monotonic() - t0))
        expect_ok(off.admin.get_features(0x0F), "Get Features KATO after %.1f s of silence" %
                  (time.monotonic() - t0))
    with tap.case("keep alive: closing the admin queue closes the controller's I/O queues") as c:
        ctl = ctx.ctrl(hostnqn=HOSTNQN + "-adminclose")
        iq = ctl.io_queue(1)
        expect_ok(iq.read(NVM_NS, 0, 1), "read")
        ctl.admin.close()
        c.soft(iq.wait_closed(3), "I/O queue still open 3 s after its admin queue closed")
    with tap.case("keep alive: the torn down controller's ID no longer accepts I/O queues") as c:
        q = ctx.raw()
        cpl = q.connect(NQN, HOSTNQN + "-silent", qid=2, cntlid=silent.cntlid)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM), "Connect qid 2 to dead controller %d: %s" %
               (silent.cntlid, cpl.status_str()))
    ctx.close_all()


# =====================================================================================================
# malformed input
# =====================================================================================================

class Healthy:
    """A well-behaved controller that must see no error while others misbehave."""

    def __init__(self, ctx):
        self.ctl = ctx.ctrl(hostnqn=HOSTNQN + "-healthy")
        self.q = self.ctl.io_queue(1)
        self.rounds = 0
        self.errors = []

    def check(self):
        self.rounds += 1
        lba = 1500 + (self.rounds % 32) * 8
        try:
            for nb, inc in ((1, True), (4, False)):
                data = os.urandom(nb * LBA)
                expect_ok(self.q.write(NVM_NS, lba, data, incapsule=inc), "healthy write")
                expect_data(expect_ok(self.q.read(NVM_NS, lba, nb), "healthy read").data, data,
                            "healthy read back")
            expect_ok(self.ctl.admin.keep_alive(), "healthy keep alive")
        except Exception as e:
            msg = "healthy connection (round %d): %s: %s" % (self.rounds, type(e).__name__, e)
            self.errors.append(msg)
            raise Fail(msg)


class TrickleQueue(n.Queue):
    """A queue that sends every PDU in pieces of 1-7 bytes."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.rng = random.Random(7)
        self.sends = 0

    def send_raw(self, data):
        pos = 0
        while pos < len(data):
            k = self.rng.randint(1, 7)
            super().send_raw(data[pos:pos + k])
            self.sends += 1
            pos += k
            if self.sends % 64 == 0:
                time.sleep(0.0005)


def connect_sqe(cid=1, qid=0, sqsize=32, kato=0):
    sqe = n.build_sqe(n.FABRICS, cid=cid)
    sqe[4] = n.FCTYPE_CONNECT
    struct.pack_into("<HHHBxI", sqe, 40, 0, qid, sqsize - 1, 0, kato)
    sqe[24:40] = n.sgl_desc(n.SGL_INCAPSULE, 1024)
    return sqe


def expect_term(c, q, fes, fei=None, sent=None, what=""):
    """The next thing on @q is a C2HTermReq with @fes (and @fei), then the close."""
    t = q.expect_term()
    c.soft(t.fes == fes, "%sFES %#x, expected %#x" % (what, t.fes, fes))
    if fei is not None:
        c.soft(t.fei == fei, "%sFEI %d, expected %d" % (what, t.fei, fei))
    c.soft(t.pdu.hlen == 24 and 24 <= t.pdu.plen <= 152, "TermReq HLEN %d PLEN %d" %
           (t.pdu.hlen, t.pdu.plen))
    if sent is not None:
        c.soft(t.offending[:8] == sent[:8], "%sTermReq carries %s, not the offending header %s" %
               (what, t.offending[:8].hex(), sent[:8].hex()))
    c.soft(q.wait_closed(3), "%sconnection not closed after the TermReq" % what)
    return t


def send_expect_term(c, q, pdu, fes, fei=None, what=""):
    """Send @pdu on @q; it must earn a C2HTermReq that quotes it (expect_term)."""
    q.send_raw(pdu)
    return expect_term(c, q, fes, fei=fei, sent=pdu, what=what)


def group_malformed(ctx):
    tap = ctx.tap
    h = None
    with tap.case("malformed: healthy controller connects and verifies I/O") as c:
        h = Healthy(ctx)
        h.check()
    if h is None:
        return

    def io_queue():
        """A fresh controller with one I/O queue, for cases that break an I/O queue."""
        ctl = ctx.ctrl()
        return ctl, ctl.io_queue(1)

    def case(name):
        return MalCase(tap, name, h)

    with case("malformed: first PDU not ICReq -> TermReq FES 2, closed") as c:
        q = ctx.raw(icreq=False)
        pdu = n.build_pdu(n.CMD, bytes(connect_sqe()), n.Queue.connect_data(NQN, HOSTNQN))
        send_expect_term(c, q, pdu, n.FES_SEQ_ERR)
    with case("malformed: ICReq with PLEN 64 -> TermReq FES 1 (FEI 4), closed") as c:
        q = ctx.raw(icreq=False)
        pdu = n.build_icreq(plen=64)[:64]
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=4)
    with case("malformed: ICReq with PLEN 4096 -> TermReq FES 1 (FEI 4), closed") as c:
        q = ctx.raw(icreq=False)
        pdu = n.build_icreq(plen=4096)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=4)
    with case("malformed: ICReq PFV 1 -> TermReq FES 6 (FEI 8), closed") as c:
        q = ctx.raw(icreq=False)
        pdu = n.build_icreq(pfv=1)
        send_expect_term(c, q, pdu, n.FES_UNSUPPORTED, fei=8)
    with case("malformed: ICReq HPDA 32 -> TermReq FES 6 (FEI 10), closed") as c:
        q = ctx.raw(icreq=False)
        pdu = n.build_icreq(hpda=32)
        send_expect_term(c, q, pdu, n.FES_UNSUPPORTED, fei=10)
    with case("malformed: ICReq HLEN 64 -> TermReq FES 1 (FEI 2), closed") as c:
        q = ctx.raw(icreq=False)
        pdu = n.build_icreq(hlen=64)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=2)
    with case("malformed: second ICReq -> TermReq FES 2, closed") as c:
        q = ctx.raw()
        pdu = n.build_icreq()
        send_expect_term(c, q, pdu, n.FES_SEQ_ERR)
    with case("malformed: CapsuleCmd HLEN 64 -> TermReq FES 1 (FEI 2), closed") as c:
        q = ctx.raw()
        pdu = n.build_pdu(n.CMD, bytes(connect_sqe()), n.Queue.connect_data(NQN, HOSTNQN), hlen=64)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=2)
    with case("malformed: CapsuleCmd PDO not dword aligned -> TermReq FES 1 (FEI 3), closed") as c:
        q = ctx.raw()
        pdu = n.build_pdu(n.CMD, bytes(connect_sqe()), n.Queue.connect_data(NQN, HOSTNQN), pdo=74)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=3)
    with case("malformed: CapsuleCmd PDO inside the header -> TermReq FES 1 (FEI 3), closed") as c:
        q = ctx.raw()
        pdu = n.build_pdu(n.CMD, bytes(connect_sqe()), n.Queue.connect_data(NQN, HOSTNQN), pdo=64)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=3)
    with case("malformed: CapsuleCmd PLEN smaller than the header -> TermReq FES 1 (FEI 4), closed") as c:
        q = ctx.raw()
        pdu = n.build_pdu(n.CMD, bytes(connect_sqe()), plen=40)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=4)
    with case("malformed: HDGSTF set without negotiation -> TermReq FES 1 (FEI 1), closed") as c:
        q = ctx.raw()
        pdu = n.build_pdu(n.CMD, bytes(connect_sqe()), n.Queue.connect_data(NQN, HOSTNQN),
                          flags=n.F_HDGST)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=1)
    with case("malformed: unknown PDU type 08h -> TermReq FES 1 (FEI 0), closed") as c:
        q = ctx.raw()
        pdu = n.common_hdr(0x08, 0, 24, 0, 24) + bytes(16)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=0)
    with case("malformed: host-only PDU type from the host (CapsuleResp) -> TermReq FES 1, closed") as c:
        q = ctx.raw()
        pdu = n.common_hdr(n.RSP, 0, 24, 0, 24) + bytes(16)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=0)
    with case("malformed: header digest mismatch -> TermReq FES 3, closed") as c:
        q = ctx.raw(hdgst=True)
        pdu = q.pdu(n.CMD, bytes(connect_sqe()), n.Queue.connect_data(NQN, HOSTNQN), bad_hdgst=True)
        send_expect_term(c, q, pdu, n.FES_HDGST_ERR)
    with case("malformed: in-capsule data larger than IOCCSZ allows -> TermReq FES 5, closed") as c:
        ctl, q = io_queue()
        data = blocks(3, 0)
        sqe = q.rw_sqe(n.IO_WRITE, NVM_NS, 0, 3)
        struct.pack_into("<H", sqe, 2, 99)
        sqe[24:40] = n.sgl_desc(n.SGL_INCAPSULE, len(data))
        pdu = q.pdu(n.CMD, bytes(sqe), data)
        send_expect_term(c, q, pdu, n.FES_LIMIT_EXCEEDED)
        ctl.close()
    with case("malformed: H2CData with unknown TTAG -> TermReq FES 1 (FEI 10), closed") as c:
        ctl, q = io_queue()
        cmd = q.submit_write(NVM_NS, 0, blocks(4, 0), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag, r2to, r2tl = cmd.r2ts[0]
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag ^ 0x7F00, 0, r2tl),
                    bytes(cmd.data_out), flags=n.F_LAST)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=10)
        ctl.close()
    with case("malformed: H2CData at an offset outside the R2T window -> TermReq FES 4, closed") as c:
        ctl, q = io_queue()
        cmd = q.submit_write(NVM_NS, 0, blocks(4, 0), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag, r2to, r2tl = cmd.r2ts[0]
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, r2tl, 4096), bytes(4096),
                    flags=n.F_LAST)
        send_expect_term(c, q, pdu, n.FES_OUT_OF_RANGE, fei=12)
        ctl.close()
    with case("malformed: H2CData longer than the R2T window -> TermReq FES 4, closed") as c:
        ctl, q = io_queue()
        cmd = q.submit_write(NVM_NS, 0, blocks(4, 0), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag, r2to, r2tl = cmd.r2ts[0]
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, r2tl + 4096),
                    bytes(r2tl + 4096), flags=n.F_LAST)
        send_expect_term(c, q, pdu, n.FES_OUT_OF_RANGE)
        ctl.close()
    with case("malformed: H2CData before any R2T -> TermReq FES 1, closed") as c:
        ctl, q = io_queue()
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(1, 0, 0, 4096), bytes(4096), flags=n.F_LAST)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=10)
        ctl.close()
    with case("malformed: H2CData with the CCCID of another command -> TermReq FES 1 (FEI 8), closed") as c:
        ctl, q = io_queue()
        cmd = q.submit_write(NVM_NS, 0, blocks(4, 0), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag, r2to, r2tl = cmd.r2ts[0]
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid + 1, ttag, 0, r2tl), bytes(cmd.data_out),
                    flags=n.F_LAST)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=8)
        ctl.close()
    with case("malformed: H2CData DATAL not matching PLEN -> TermReq FES 1 (FEI 16), closed") as c:
        ctl, q = io_queue()
        cmd = q.submit_write(NVM_NS, 0, blocks(4, 0), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag, r2to, r2tl = cmd.r2ts[0]
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, 8192), bytes(4096))
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=16)
        ctl.close()
    with case("malformed: last H2CData without LAST_PDU -> TermReq FES 1, closed") as c:
        ctl, q = io_queue()
        cmd = q.submit_write(NVM_NS, 0, blocks(4, 0), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag, r2to, r2tl = cmd.r2ts[0]
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, r2tl), bytes(cmd.data_out))
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=1)
        ctl.close()
    with case("malformed: half a PDU header, then close") as c:
        q = ctx.raw()
        q.send_raw(n.build_pdu(n.CMD, bytes(connect_sqe()))[:5])
        q.close()
        time.sleep(0.05)
    with case("malformed: half a PDU header, then silence (others unaffected)") as c:
        stalled = ctx.raw()
        stalled.send_raw(n.build_pdu(n.CMD, bytes(connect_sqe()))[:40])
        h.check()
        stalled.close()
    with case("malformed: H2CTermReq from the host closes the connection") as c:
        ctl, q = io_queue()
        q.send_raw(n.build_pdu(n.H2C_TERM, n.term_specific(n.FES_INVALID_HDR, 0)))
        c.soft(q.wait_closed(3), "connection still open after H2CTermReq")
        ctl.close()
    with case("malformed: I/O command before Connect -> Command Sequence Error, connection stays up") as c:
        q = ctx.raw()
        cpl = q.read(NVM_NS, 0, 1)
        expect_status(cpl, n.SC_CMD_SEQ_ERROR, "Read before Connect")
        cpl = q.identify(1)
        expect_status(cpl, n.SC_CMD_SEQ_ERROR, "Identify before Connect")
        expect_ok(q.connect(NQN, HOSTNQN), "Connect afterwards on the same connection")
    with case("malformed: Connect to an unknown subsystem NQN -> SCT 1h SC 82h (IATTR 1, IPO 256)") as c:
        q = ctx.raw()
        cpl = expect_status(q.connect("nqn.2024-11.io.znstcp:nope", HOSTNQN),
                            n.SC_CONNECT_INVALID_PARAM, "Connect")
        c.soft(cpl.dw0 == (1 << 16 | 256), "IATTR/IPO %#x, expected 10100h" % cpl.dw0)
        expect_ok(q.connect(NQN, HOSTNQN), "Connect afterwards on the same connection")
    with case("malformed: Connect with a malformed host NQN -> SCT 1h SC 82h (IPO 512)") as c:
        for bad in ("not an nqn", "nqn.\x01ctl", b"nqn." + b"x" * 252):
            q = ctx.raw()
            cpl = expect_status(q.connect(NQN, bad), n.SC_CONNECT_INVALID_PARAM,
                                "host NQN %r" % bad[:16])
            c.soft(cpl.dw0 == (1 << 16 | 512), "host NQN %r: IATTR/IPO %#x" % (bad[:16], cpl.dw0))
            q.close()
    with case("malformed: Connect I/O queue with an unknown cntlid -> SCT 1h SC 82h (IPO 16)") as c:
        q = ctx.raw()
        cpl = expect_status(q.connect(NQN, HOSTNQN, qid=1, cntlid=0xFFEE),
                            n.SC_CONNECT_INVALID_PARAM, "Connect cntlid FFEEh")
        c.soft(cpl.dw0 == (1 << 16 | 16), "IATTR/IPO %#x, expected 10010h" % cpl.dw0)
        # the right cntlid, wrong host
        q2 = ctx.raw()
        cpl = q2.connect(NQN, HOSTNQN + "-other", qid=1, cntlid=h.ctl.cntlid)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM),
               "another host's cntlid: %s" % cpl.status_str())
    with case("malformed: second Connect on a live queue -> Command Sequence Error") as c:
        ctl, q = io_queue()
        cpl = q.connect(NQN, HOSTNQN, qid=1, cntlid=ctl.cntlid)
        c.soft(cpl.is_status(n.SC_CMD_SEQ_ERROR), "second Connect: %s" % cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "queue still works")
        ctl.close()
    with case("malformed: Connect of an I/O queue ID already in use is refused") as c:
        ctl, q = io_queue()
        q2 = ctx.track(n.Queue(ctx.addr, ctx.port, 5))
        q2.icreq()
        cpl = q2.connect(NQN, HOSTNQN, qid=1, cntlid=ctl.cntlid)
        c.soft(not cpl.ok, "a second queue 1 of controller %d was accepted" % ctl.cntlid)
        ctl.close()
    with case("malformed: SGL descriptor of the wrong type -> SGL Descriptor Type Invalid (11h)") as c:
        ctl, q = io_queue()
        for t, inc in ((0x00, True), (0x40, False), (0x00, False)):
            data = blocks(1, 0)
            cpl = q.write(NVM_NS, 0, data, incapsule=inc,
                          sgl=n.sgl_desc(t, len(data)))
            c.soft(cpl.is_status(n.SC_SGL_TYPE_INVALID), "write SGL type %02xh: %s" %
                   (t, cpl.status_str()))
        cmd = q.submit(q.rw_sqe(n.IO_READ, NVM_NS, 0, 1), data_in=4096,
                       sgl=n.sgl_desc(n.SGL_INCAPSULE, 4096))
        cpl = q.wait(cmd)
        c.soft(cpl.is_status(n.SC_SGL_TYPE_INVALID), "read with an in-capsule SGL: %s" %
               cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "queue still works")
        ctl.close()
    with case("malformed: SGL length not matching NLB -> Data SGL Length Invalid (0Fh)") as c:
        ctl, q = io_queue()
        cpl = q.write(NVM_NS, 0, blocks(2, 0), incapsule=False,
                      sgl=n.sgl_desc(n.SGL_TRANSPORT, 4096))
        c.soft(cpl.is_status(n.SC_SGL_DATA_LEN_INVALID), "write 2 blocks, SGL 4096: %s" %
               cpl.status_str())
        cmd = q.submit(q.rw_sqe(n.IO_READ, NVM_NS, 0, 1), data_in=4096,
                       sgl=n.sgl_desc(n.SGL_TRANSPORT, 8192))
        cpl = q.wait(cmd)
        c.soft(cpl.is_status(n.SC_SGL_DATA_LEN_INVALID), "read 1 block, SGL 8192: %s" %
               cpl.status_str())
        cmd = q.submit(q.rw_sqe(n.IO_READ, NVM_NS, 0, 2), data_in=8192,
                       sgl=n.sgl_desc(n.SGL_TRANSPORT, 4096))
        cpl = q.wait(cmd)
        c.soft(cpl.is_status(n.SC_SGL_DATA_LEN_INVALID), "read 2 blocks, SGL 4096: %s" %
               cpl.status_str())
        cpl = q.write(NVM_NS, 0, blocks(1, 0), incapsule=True,
                      sgl=n.sgl_desc(n.SGL_INCAPSULE, 8192))
        c.soft(cpl.is_status(n.SC_SGL_DATA_LEN_INVALID),
               "in-capsule 4096 bytes, SGL says 8192: %s" % cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "queue still works")
        ctl.close()
    # Identify SGLS bit 18 (SGL longer than the transfer allowed) is clear, so a
    # data SGL that does not match the transfer is Data SGL Length Invalid, as
    # it already is for Read and Write; Linux nvmet checks it for every command.
    with case("malformed: SGL with a length on a command that moves no data -> Data SGL Length Invalid (0Fh)") as c:
        ctl, q = io_queue()
        for what, sqe in (("Flush", n.build_sqe(n.IO_FLUSH, nsid=NVM_NS)),
                          ("Write Zeroes", q.rw_sqe(n.IO_WRITE_ZEROES, NVM_NS, 0, 1)),
                          ("Zone Mgmt Send reset", n.build_sqe(n.IO_ZONE_SEND, nsid=ZNS_NS,
                                                               cdw13=n.ZSA_RESET))):
            cpl = q.execute(sqe, sgl=n.sgl_desc(n.SGL_TRANSPORT, 4096))
            c.soft(cpl.is_status(n.SC_SGL_DATA_LEN_INVALID),
                   "%s with a 4096-byte transport SGL: %s" % (what, cpl.status_str()))
        cpl = q.execute(n.build_sqe(n.IO_FLUSH, nsid=NVM_NS), data_out=bytes(512), incapsule=True)
        c.soft(cpl.is_status(n.SC_SGL_DATA_LEN_INVALID),
               "Flush with 512 bytes of in-capsule data: %s" % cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "queue still works")
        ctl.close()
    with case("malformed: PSDT 00b (PRPs) or FUSE set -> Invalid Field") as c:
        ctl, q = io_queue()
        sqe = q.rw_sqe(n.IO_READ, NVM_NS, 0, 1)
        sqe[1] = 0x00
        cpl = q.execute(sqe, data_in=4096)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "PSDT 00b: %s" % cpl.status_str())
        sqe = q.rw_sqe(n.IO_READ, NVM_NS, 0, 1)
        sqe[1] = 0x41
        cpl = q.execute(sqe, data_in=4096)
        c.soft(cpl.is_status(n.SC_INVALID_FIELD), "FUSE 01b: %s" % cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "queue still works")
        ctl.close()
    with case("malformed: H2CData above MAXH2CDATA -> TermReq FES 5, closed") as c:
        ctl, q = io_queue()
        cmd = q.submit_write(NVM_NS, 0, blocks(4, 0), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag = cmd.r2ts[0][0]
        big = q.maxh2cdata + 4096
        pdu = n.build_pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, big), b"\0", plen=24 + big,
                          flags=n.F_LAST)[:24]
        send_expect_term(c, q, pdu, n.FES_LIMIT_EXCEEDED)
        ctl.close()
    with case("malformed: Connect parameter checks (SQSIZE, RECFMT, static CNTLID on the admin queue)") as c:
        q = ctx.raw()
        cpl = q.connect(NQN, HOSTNQN, sqsize=1)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM) and cpl.dw0 == 44,
               "SQSIZE 0 (1 entry): %s IPO %#x" % (cpl.status_str(), cpl.dw0))
        cpl = q.connect(NQN, HOSTNQN, sqsize=4096)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM), "SQSIZE 4095: %s" % cpl.status_str())
        cpl = q.connect(NQN, HOSTNQN, recfmt=1)
        c.soft(cpl.is_status((1, 0x80)), "RECFMT 1: %s" % cpl.status_str())
        cpl = q.connect(NQN, HOSTNQN, cntlid=1)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM) and cpl.dw0 == (1 << 16 | 16),
               "admin Connect with CNTLID 1: %s IPO %#x" % (cpl.status_str(), cpl.dw0))
        expect_ok(q.connect(NQN, HOSTNQN), "valid Connect afterwards")
    # ---- out-of-order transfers, wrong queues, unconnected or disabled controllers ----
    def r2t_pending(q, nblk=4, seed=0):
        cmd = q.submit_write(NVM_NS, 0, blocks(nblk, seed), incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        return cmd, cmd.r2ts[0]

    with case("malformed: duplicate H2CData after the whole transfer -> TermReq FES 1 (FEI 10), closed") as c:
        ctl, q = io_queue()
        cmd, (ttag, r2to, r2tl) = r2t_pending(q)
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, r2tl), bytes(cmd.data_out),
                    flags=n.F_LAST)
        q.send_raw(pdu)
        expect_ok(q.wait(cmd), "the write itself")
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR, fei=10)
        ctl.close()
    with case("malformed: H2CData repeating an offset already received -> TermReq FES 4 (FEI 12), closed") as c:
        ctl, q = io_queue()
        cmd, (ttag, r2to, r2tl) = r2t_pending(q)
        first = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, 8192), bytes(8192))
        q.send_raw(first)
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 4096, 8192), bytes(8192))
        send_expect_term(c, q, pdu, n.FES_OUT_OF_RANGE, fei=12)
        ctl.close()
    with case("malformed: second H2CData running past the R2T length -> TermReq FES 4, closed") as c:
        ctl, q = io_queue()
        cmd, (ttag, r2to, r2tl) = r2t_pending(q)
        q.send_raw(q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 0, 8192), bytes(8192)))
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, ttag, 8192, 12288), bytes(12288),
                    flags=n.F_LAST)
        send_expect_term(c, q, pdu, n.FES_OUT_OF_RANGE)
        ctl.close()
    with case("malformed: unsolicited H2CData for a Read in flight -> TermReq FES 1, closed") as c:
        ctl, q = io_queue()
        cmd = q.submit_read(NVM_NS, 0, 64)
        pdu = q.pdu(n.H2C_DATA, n.h2c_specific(cmd.cid, 0, 0, 4096), bytes(4096), flags=n.F_LAST)
        send_expect_term(c, q, pdu, n.FES_INVALID_HDR)
        ctl.close()
    with case("malformed: write split over 3 H2CData PDUs in order is accepted (R2T window kept)") as c:
        ctl, q = io_queue()
        data = blocks(3, 9)
        cmd = q.submit_write(NVM_NS, 40, data, incapsule=False, auto_h2c=False)
        while not cmd.r2ts:
            q.process_one()
        ttag, r2to, r2tl = cmd.r2ts[0]
        c.soft(len(cmd.r2ts) == 1 and (r2to, r2tl) == (0, len(data)),
               "R2Ts %r for a %d-byte write" % (cmd.r2ts, len(data)))
        q.send_h2c(cmd, ttag, 0, len(data), chunk=4096)
        expect_ok(q.wait(cmd), "write by 3 H2CData PDUs")
        read_back(q, 40, data)
        ctl.close()
    with case("malformed: Property Get/Set and Disconnect before Connect -> Command Sequence Error") as c:
        q = ctx.raw()
        for what, cpl in (("Property Get CAP", q.prop_get(n.REG_CAP, size8=True)),
                          ("Property Set CC", q.prop_set(n.REG_CC, 1)),
                          ("Disconnect", q.disconnect())):
            c.soft(cpl.is_status(n.SC_CMD_SEQ_ERROR), "%s: %s" % (what, cpl.status_str()))
        expect_ok(q.connect(NQN, HOSTNQN), "Connect afterwards on the same connection")
    with case("malformed: admin commands before CC.EN -> Command Sequence Error; I/O queue Connect refused") as c:
        ctl = ctx.ctrl(enable=False)
        cpl = ctl.admin.identify(1)
        c.soft(cpl.is_status(n.SC_CMD_SEQ_ERROR), "Identify before CC.EN: %s" % cpl.status_str())
        cpl = ctl.admin.get_log(2, 512)
        c.soft(cpl.is_status(n.SC_CMD_SEQ_ERROR), "Get Log Page before CC.EN: %s" % cpl.status_str())
        q = ctx.raw()
        cpl = q.connect(NQN, HOSTNQN, qid=1, cntlid=ctl.cntlid)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM) and cpl.dw0 == 42,
               "I/O queue Connect before CC.EN: %s IPO %#x" % (cpl.status_str(), cpl.dw0))
        ctl.enable()
        expect_ok(ctl.admin.identify(1), "Identify after CC.EN")
        ctl.close()
    # With a valid NSID: like Linux nvmet, the I/O queue checks the namespace
    # before the opcode, so NSID 0 would be Invalid Namespace instead.
    with case("malformed: admin-only commands on an I/O queue -> Invalid Opcode") as c:
        ctl, q = io_queue()
        for what, sqe in (("Keep Alive", n.build_sqe(n.ADM_KEEP_ALIVE, nsid=NVM_NS)),
                          ("Async Event Request", n.build_sqe(n.ADM_AER, nsid=NVM_NS)),
                          ("Set Features", n.build_sqe(n.ADM_SET_FEAT, nsid=NVM_NS, cdw10=0x0F,
                                                       cdw11=1000))):
            cpl = q.execute(sqe)
            c.soft(cpl.is_status(n.SC_INVALID_OPCODE), "%s on I/O queue: %s" % (what, cpl.status_str()))
        pg = n.build_sqe(n.FABRICS)
        pg[4] = n.FCTYPE_PROP_GET
        cpl = q.execute(pg)
        c.soft(cpl.is_status(n.SC_INVALID_OPCODE), "Property Get on I/O queue: %s" % cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "queue still works")
        ctl.close()
    with case("malformed: I/O commands on the admin queue -> Invalid Opcode") as c:
        ctl = ctx.ctrl()
        for what, sqe in (("Write", n.build_sqe(n.IO_WRITE, nsid=NVM_NS)),
                          ("Zone Append", n.build_sqe(n.IO_ZONE_APPEND, nsid=ZNS_NS)),
                          ("Zone Mgmt Send", n.build_sqe(n.IO_ZONE_SEND, nsid=ZNS_NS,
                                                         cdw13=n.ZSA_RESET))):
            cpl = ctl.admin.execute(sqe)
            c.soft(cpl.is_status(n.SC_INVALID_OPCODE), "%s on the admin queue: %s" %
                   (what, cpl.status_str()))
        expect_ok(ctl.admin.keep_alive(), "admin queue still works")
        ctl.close()
    with case("malformed: unknown opcodes and Fabrics command type -> Invalid Opcode") as c:
        ctl, q = io_queue()
        for what, qq, sqe in (("I/O opcode FFh", q, n.build_sqe(0xFF, nsid=NVM_NS)),
                              ("admin opcode 55h", ctl.admin, n.build_sqe(0x55)),
                              ("vendor admin C0h", ctl.admin, n.build_sqe(0xC0))):
            cpl = qq.execute(sqe)
            c.soft(cpl.is_status(n.SC_INVALID_OPCODE), "%s: %s" % (what, cpl.status_str()))
        fx = n.build_sqe(n.FABRICS)
        fx[4] = 0x7E
        cpl = ctl.admin.execute(fx)
        c.soft(cpl.is_status(n.SC_INVALID_OPCODE), "FCTYPE 7Eh: %s" % cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "I/O queue still works")
        ctl.close()
    with case("malformed: I/O on NSID 0, 3 and FFFFFFFFh -> Invalid Namespace (0Bh)") as c:
        ctl, q = io_queue()
        for nsid in (0, 3, 0xFFFFFFFF):
            cpl = q.execute(q.rw_sqe(n.IO_READ, nsid, 0, 1), data_in=4096)
            c.soft(cpl.is_status(n.SC_INVALID_NS), "Read NSID %#x: %s" % (nsid, cpl.status_str()))
        cpl = q.write(3, 0, blocks(1, 0))
        c.soft(cpl.is_status(n.SC_INVALID_NS), "Write NSID 3: %s" % cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "queue still works")
        ctl.close()
    with case("malformed: I/O queue Connect to the discovery subsystem is refused (IPO 42)") as c:
        dc = ctx.ctrl(n.DISC_NQN)
        q = ctx.raw()
        cpl = q.connect(n.DISC_NQN, HOSTNQN, qid=1, cntlid=dc.cntlid)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM) and cpl.dw0 == 42,
               "discovery I/O queue: %s IPO %#x" % (cpl.status_str(), cpl.dw0))
        dc.close()
    with case("malformed: I/O queue ID above the granted number of queues is refused (IPO 42)") as c:
        ctl = ctx.ctrl()
        q = ctx.raw()
        cpl = q.connect(NQN, HOSTNQN, qid=9, cntlid=ctl.cntlid)
        c.soft(cpl.is_status(n.SC_CONNECT_INVALID_PARAM) and cpl.dw0 == 42,
               "Connect qid 9 of 8: %s IPO %#x" % (cpl.status_str(), cpl.dw0))
        ctl.close()
    with case("malformed: in-capsule data with a non-zero SGL offset -> SGL Offset Invalid (16h)") as c:
        ctl, q = io_queue()
        data = blocks(1, 3)
        cpl = q.write(NVM_NS, 0, data, incapsule=True,
                      sgl=n.sgl_desc(n.SGL_INCAPSULE, len(data), addr=64))
        c.soft(cpl.is_status((0, 0x16)), "offset 64: %s" % cpl.status_str())
        expect_ok(q.read(NVM_NS, 0, 1), "queue still works")
        ctl.close()
    with case("malformed: host closes with 8 MiB of reads in flight") as c:
        ctl, q = io_queue()
        for _ in range(16):
            q.submit_read(NVM_NS, 0, MDTS // LBA)
        time.sleep(0.1)
        ctl.close()
        time.sleep(0.1)
    with tap.case("malformed: the healthy connection never saw an error") as c:
        expect(not h.errors, "; ".join(h.errors))
        h.check()
    ctx.close_all()


class MalCase(Case):
    """A malformed-input case followed by the healthy connection's check."""

    def __init__(self, tap, name, healthy):
        super().__init__(tap, name)
        self.healthy = healthy

    def __exit__(self, et, ev, tb):
        try:
            self.healthy.check()
        except Exception as e:
            self.problems.append(str(e))
        return super().__exit__(et, ev, tb)


# =====================================================================================================
# fatal errors pipelined behind ICReq: each case on a daemon of its own,
# since a daemon that hangs here would poison every later case
# =====================================================================================================

def isolated_case(ctx, name, body):
    tap = ctx.tap
    with tap.case(name) as c:
        d = Daemon(ctx.daemon.path, ctx.daemon.extra, False)
        sub = Ctx(tap, d)
        try:
            body(c, sub)
            try:
                ctl = n.Controller(sub.addr, sub.port, NQN, timeout=3)
                q = ctl.io_queue(1)
                expect_ok(q.read(NVM_NS, 0, 1), "read")
                ctl.close()
            except Exception as e:
                c.soft(False, "daemon unresponsive afterwards: %s: %s" % (type(e).__name__, e))
            rc = d.stop(5)
            c.soft(rc == 0, "afterwards SIGTERM gave %s" % ("no exit within 5 s" if rc is None
                                                            else "exit %s" % rc))
            rep = d.sanitizer_report()
            c.soft(not rep, "sanitizer report in the daemon log: %s" % rep)
        finally:
            sub.close_all()
            d.kill()
            if not c.problems:
                os.unlink(d.log.name)
            else:
                tap.comment("log of that daemon: %s" % d.log.name)


def group_pipelined(ctx):
    def icreq_then(pdu, fes, fei):
        def body(c, sub):
            q = sub.raw(icreq=False)
            q.send_raw(n.build_icreq() + pdu)
            first = None
            try:
                first = q.recv_pdu()
            except n.TermReq as t:
                c.soft(False, "first PDU is a TermReq (FES %#x), not the ICResp" % t.fes)
            if first is not None:
                c.soft(first.type == n.ICRESP, "first PDU %r" % first)
                t = q.expect_term(3)
                c.soft(t.fes == fes and t.fei == fei, "TermReq FES %#x FEI %d, expected %#x/%d" %
                       (t.fes, t.fei, fes, fei))
            c.soft(q.wait_closed(3), "connection not closed")
        return body

    isolated_case(ctx, "pipelined: ICReq and a second ICReq in one segment -> ICResp, TermReq FES 2; "
                  "daemon stays responsive", icreq_then(n.build_icreq(), n.FES_SEQ_ERR, 0))
    bad = n.build_pdu(n.CMD, bytes(connect_sqe()), n.Queue.connect_data(NQN, HOSTNQN), hlen=64)
    isolated_case(ctx, "pipelined: ICReq and a CapsuleCmd with HLEN 64 in one segment -> ICResp, "
                  "TermReq FES 1; daemon stays responsive", icreq_then(bad, n.FES_INVALID_HDR, 2))
    unk = n.common_hdr(0x08, 0, 24, 0, 24) + bytes(16)
    isolated_case(ctx, "pipelined: ICReq and an unknown PDU type in one segment -> ICResp, "
                  "TermReq FES 1; daemon stays responsive", icreq_then(unk, n.FES_INVALID_HDR, 0))


# =====================================================================================================
# other configurations, each on a daemon of its own
# =====================================================================================================

def with_daemon(ctx, prefix, extra, fn):
    tap = ctx.tap
    try:
        d = Daemon(ctx.daemon.path, ctx.daemon.extra + extra, False)
    except Exception as e:
        tap.result("%s: daemon starts with %s" % (prefix, " ".join(extra)), False, e)
        return
    sub = Ctx(tap, d)
    try:
        fn(sub)
        sub.close_all()
        with tap.case("%s: daemon exits 0 on SIGTERM, no sanitizer report in its log" % prefix) as c:
            rc = d.stop(5)
            c.soft(rc == 0, "exit status %s" % ("none within 5 s" if rc is None else rc))
            rep = d.sanitizer_report()
            c.soft(not rep, "sanitizer report: %s" % rep)
    finally:
        sub.close_all()
        d.kill()
        if tap.failed:
            tap.comment("log of the %s daemon: %s" % (prefix, d.log.name))
        else:
            os.unlink(d.log.name)


def group_limits(ctx):
    def body(sub):
        tap = sub.tap
        with tap.case("limits: 64 controllers get distinct IDs; the 65th gets Controller Busy (81h); "
                      "a freed slot is reused") as c:
            qs = []
            for i in range(64):
                q = sub.raw()
                expect_ok(q.connect(NQN, HOSTNQN, sqsize=2), "Connect %d" % (i + 1))
                qs.append(q)
            ids = [q.cntlid for q in qs]
            c.soft(len(set(ids)) == 64, "controller IDs not distinct: %r" % ids)
            c.soft(all(1 <= i <= 0xFFEF for i in ids), "controller IDs out of range: %r" % ids)
            q = sub.raw()
            expect_status(q.connect(NQN, HOSTNQN), (1, 0x81), "65th Connect")
            qs[10].close()
            deadline = time.monotonic() + 3
            while True:
                cpl = q.connect(NQN, HOSTNQN)
                if cpl.ok or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            expect_ok(cpl, "Connect after a controller went away")
            c.soft(q.cntlid not in ids[:10] + ids[11:],
                   "new controller ID %d is still in use" % q.cntlid)
            disc = sub.raw()
            expect_ok(disc.connect(n.DISC_NQN, HOSTNQN), "discovery Connect with the NVM subsystem full")
    with_daemon(ctx, "limits", [], body)


def group_lba512(ctx):
    zsze = 1024 * 1024 // 512
    zcap = 768 * 1024 // 512

    def body(sub):
        tap = sub.tap
        q = None
        with tap.case("lba512: Identify reports 512-byte blocks, ZSZE 2048, NSZE") as c:
            ctl = sub.ctrl()
            a = ctl.admin
            for nsid, nsze in ((ZNS_NS, NR_ZONES * zsze), (NVM_NS, 16 * 1024 * 1024 // 512)):
                d = n.parse_id_ns(expect_ok(a.identify(0, nsid=nsid), "CNS 0").data)
                c.soft(d["lba_size"] == 512, "ns %d LBA size %d" % (nsid, d["lba_size"]))
                c.soft(d["nsze"] == nsze, "ns %d NSZE %d, expected %d" % (nsid, d["nsze"], nsze))
            z = n.parse_id_ns_zns(expect_ok(a.identify(5, nsid=ZNS_NS, csi=2), "CNS 5").data)
            c.soft(z["zsze"] == zsze, "ZSZE %d, expected %d" % (z["zsze"], zsze))
            zasl = expect_ok(a.identify(6, csi=2), "CNS 6").data[0]
            c.soft(4096 << zasl == ZASL_BYTES, "ZASL %d" % zasl)
            q = ctl.io_queue(1)
            q.lba_size = 512
            reset_all(q)
        if q is None:
            return
        with tap.case("lba512: write/read both namespaces, zone append at ZASL and above") as c:
            for nsid, lba in ((NVM_NS, 7), (ZNS_NS, 0)):
                data = pattern(512 * 3, nsid)
                expect_ok(q.write(nsid, lba, data), "ns %d write 3 blocks" % nsid)
                expect_data(expect_ok(q.read(nsid, lba, 3), "read").data, data, "ns %d" % nsid)
            data = pattern(ZASL_BYTES, 99)
            cpl = expect_ok(q.zone_append(ZNS_NS, zsze, data), "append 128 KiB")
            c.soft(cpl.result == zsze, "append LBA %#x" % cpl.result)
            expect_data(expect_ok(q.read(ZNS_NS, zsze, 256), "read").data, data, "appended")
            cpl = q.zone_append(ZNS_NS, zsze, pattern(ZASL_BYTES + 512, 0))
            c.soft(cpl.is_status(n.SC_INVALID_FIELD), "append above ZASL: %s" % cpl.status_str())
            rep = q.report_zones(ZNS_NS, partial=True, nbytes=64 + 2 * 64)
            c.soft([(z.zslba, z.zcap) for z in rep.zones] == [(0, zcap), (zsze, zcap)],
                   "zones %r" % rep.zones)
            c.soft(rep.zones[0].wp == 3 and rep.zones[1].wp == zsze + 256,
                   "write pointers %r" % rep.zones)
            cpl = q.read(NVM_NS, 16 * 1024 * 1024 // 512, 1)
            c.soft(cpl.is_status(n.SC_LBA_RANGE), "read beyond the end: %s" % cpl.status_str())
            cpl = q.read(NVM_NS, 0, MDTS // 512 + 1)
            c.soft(cpl.is_status(n.SC_INVALID_FIELD), "read above MDTS: %s" % cpl.status_str())
    with_daemon(ctx, "lba512", ["--lba-size", "512"], body)


# =====================================================================================================
# hostile peers and limits: a daemon of its own with small limits
# =====================================================================================================

HOSTILE_ARGS = ["--max-connections", "24", "--pdu-timeout", "1s", "--handshake-timeout", "2s",
                "--kato-min", "1s", "--kato-max", "3s", "--max-inflight-data", "1M"]


def log_has(d, text, timeout=2.0):
    """True once the daemon's log contains @text."""
    end = time.monotonic() + timeout
    while True:
        try:
            with open(d.log.name, errors="replace") as f:
                if text in f.read():
                    return True
        except OSError:
            pass
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


def closed_after(q, timeout):
    """Seconds until the daemon closed @q, or None if it did not within @timeout."""
    t0 = time.monotonic()
    return time.monotonic() - t0 if q.wait_closed(timeout) else None


def group_hostile(ctx):
    def body(sub):
        tap, d = sub.tap, sub.daemon
        with tap.case("hostile: --max-connections 24: the 25th connection is closed at once with "
                      "one log line; a freed slot is usable again") as c:
            qs = [sub.raw() for _ in range(24)]
            extra = sub.raw(icreq=False)
            c.soft(extra.wait_closed(1.5), "25th connection still open")
            c.soft(log_has(d, "connection refused: --max-connections 24 reached"),
                   "no log line for the refused connection")
            qs[0].close()
            time.sleep(0.3)
            again = sub.raw()		# ICReq answered: it was accepted
            c.soft(again.hdgst is False, "ICResp")
            for q in qs + [again]:
                q.close()
            time.sleep(0.3)
        with tap.case("hostile: half a PDU header then silence: dropped after --pdu-timeout (1 s)") as c:
            ctl = sub.ctrl()
            ctl.admin.send_raw(n.build_pdu(n.CMD, bytes(n.build_sqe(n.ADM_KEEP_ALIVE)))[:5])
            t = closed_after(ctl.admin, 3)
            expect(t is not None, "still open 3 s after half a header")
            tap.comment("closed %.2f s after the last byte" % t)
            c.soft(0.8 <= t <= 2.5, "closed after %.2f s, expected 1-1.4 s" % t)
            c.soft(log_has(d, "(--pdu-timeout)"), "no log line naming --pdu-timeout")
            ctl.close()
        with tap.case("hostile: in-capsule data that stops half way: dropped after --pdu-timeout") as c:
            ctl = sub.ctrl()
            q = ctl.io_queue(1)
            pdu = q.pdu(n.CMD, bytes(q.rw_sqe(n.IO_WRITE, NVM_NS, 0, 1)[:24] +
                                     n.sgl_desc(n.SGL_INCAPSULE, 4096) +
                                     q.rw_sqe(n.IO_WRITE, NVM_NS, 0, 1)[40:]), blocks(1, 0))
            q.send_raw(pdu[:72 + 1000])
            t = closed_after(q, 3)
            c.soft(t is not None and t >= 0.8, "closed after %r s" % t)
            ctl.close()
        with tap.case("hostile: a PDU trickled one byte every 0.25 s is dropped: the time counts "
                      "from its first byte") as c:
            ctl = sub.ctrl()
            pdu = n.build_pdu(n.CMD, bytes(n.build_sqe(n.ADM_KEEP_ALIVE)))
            t0 = time.monotonic()
            closed = False
            for i in range(len(pdu)):
                try:
                    ctl.admin.send_raw(pdu[i:i + 1])
                except n.TransportError:
                    closed = True
                    break
                if ctl.admin.wait_closed(0.25):
                    closed = True
                    break
            t = time.monotonic() - t0
            c.soft(closed and t < 2.5, "closed %s after %.2f s" % (closed, t))
            ctl.close()
        with tap.case("hostile: ICReq but no Connect: closed after --handshake-timeout (2 s), logged") as c:
            q = sub.raw()
            t = closed_after(q, 4)
            c.soft(t is not None and t >= 1.7, "closed after %r s" % t)
            c.soft(log_has(d, "no Connect within 2000 ms (--handshake-timeout)"), "no log line")
        with tap.case("hostile: KATO 0 is lowered to --kato-max (3 s) and enforced; KATO 100 ms is "
                      "raised to --kato-min (1 s)") as c:
            lazy = sub.ctrl(kato=0, hostnqn=HOSTNQN + "-lazy")
            c.soft(lazy.admin.get_features(0x0F).dw0 == 3000, "KATO 0 became %d ms" %
                   lazy.admin.get_features(0x0F).dw0)
            quick = sub.ctrl(kato=100, hostnqn=HOSTNQN + "-quick")
            c.soft(quick.admin.get_features(0x0F).dw0 == 1000, "KATO 100 became %d ms" %
                   quick.admin.get_features(0x0F).dw0)
            quick.close()
            t = closed_after(lazy.admin, 5)
            c.soft(t is not None and t >= 2.5, "controller with KATO 0 closed after %r s" % t)
            lazy.close()
        with tap.case("hostile: --max-inflight-data 1M: 512K writes beyond it wait for buffers, "
                      "then all complete") as c:
            ctl = sub.ctrl()
            q = ctl.io_queue(1)
            datas = [blocks(128, 70 + i) for i in range(4)]
            cmds = [q.submit_write(NVM_NS, 256 * i, datas[i], incapsule=False, auto_h2c=False)
                    for i in range(4)]
            end = time.monotonic() + 0.5
            q.sock.settimeout(0.1)
            while time.monotonic() < end:
                try:
                    q.process_one()
                except n.Timeout:
                    pass
            q.sock.settimeout(q.timeout)
            early = sum(len(cm.r2ts) for cm in cmds)
            c.soft(early == 2, "%d R2Ts before any data was sent, expected 2 (1 MiB)" % early)
            c.soft(log_has(d, "(--max-inflight-data)"), "no log line")
            sent = set()
            deadline = time.monotonic() + 10
            while any(cm.completion is None for cm in cmds) and time.monotonic() < deadline:
                for i, cm in enumerate(cmds):
                    if cm.r2ts and i not in sent:
                        ttag, r2to, r2tl = cm.r2ts[0]
                        q.send_h2c(cm, ttag, r2to, r2tl)
                        sent.add(i)
                if all(cm.completion is not None for cm in cmds):
                    break
                q.process_one()
            for i, cm in enumerate(cmds):
                expect(cm.completion is not None, "write %d never completed" % i)
                expect_ok(cm.completion, "write %d" % i)
            expect_data(expect_ok(q.read(NVM_NS, 256 * 3, 128), "read").data, datas[3],
                        "last write read back")
            ctl.close()
        with tap.case("hostile: more commands than --queue-depth (+8) outstanding -> TermReq FES 2, "
                      "closed; the daemon stays responsive") as c:
            ctl = sub.ctrl()
            q = ctl.io_queue(1)
            # 512K reads: past 1M in flight they wait, holding their slots
            burst = capsule_burst(q, n.IO_READ, 1000, 140, MDTS // LBA - 1, MDTS)
            q.send_raw(burst)
            t = q.expect_term(10)
            c.soft(t.fes == n.FES_SEQ_ERR, "FES %#x, expected 2" % t.fes)
            c.soft(q.wait_closed(3), "not closed after the TermReq")
            ctl.close()
            ctl = sub.ctrl()
            expect_ok(ctl.io_queue(1).read(NVM_NS, 0, 1), "a new controller reads")
            ctl.close()
        with tap.case("hostile: more commands outstanding than the SQSIZE the queue connected "
                      "with -> TermReq FES 2, closed") as c:
            ctl = sub.ctrl()
            q = ctl.io_queue(1, sqsize=16)
            # writes announced with a transport SGL and never given their
            # data stay outstanding: 16 fit, the 17th is one too many
            burst = capsule_burst(q, n.IO_WRITE, 2000, 17, 0, LBA)
            q.send_raw(burst)
            t = q.expect_term(10)
            c.soft(t.fes == n.FES_SEQ_ERR, "FES %#x, expected 2" % t.fes)
            c.soft(q.wait_closed(3), "not closed after the TermReq")
            ctl.close()
            ctl = sub.ctrl()
            q = ctl.io_queue(1, sqsize=16)
            # exactly SQSIZE outstanding is allowed
            burst = capsule_burst(q, n.IO_WRITE, 3000, 16, 0, LBA)
            q.send_raw(burst)
            expect_ok(ctl.admin.keep_alive(), "admin queue still answers")
            c.soft(not q.wait_closed(1), "a queue with exactly SQSIZE outstanding was closed")
            ctl.close()
        with tap.case("hostile: a host that stops sending Keep Alive is torn down after KATO and "
                      "the zones it opened are closed; another host can open zones again") as c:
            other = sub.ctrl(kato=3000, hostnqn=HOSTNQN + "-other")
            oq = other.io_queue(1)
            reset_all(oq)
            gone = sub.ctrl(kato=1000, hostnqn=HOSTNQN + "-gone")
            gq = gone.io_queue(1)
            # explicitly opened: the controller may not close them to make room
            expect_ok(gq.write(ZNS_NS, Z(0), blocks(1, 1)), "write zone 0")
            expect_ok(gq.write(ZNS_NS, Z(1), blocks(1, 2)), "write zone 1")
            for i in range(3):
                expect_ok(gq.zone_mgmt_send(ZNS_NS, Z(i), n.ZSA_OPEN), "open zone %d" % i)
            st = zone_states(oq)
            expect([st[0], st[1], st[2]] == [n.ZS_EXP_OPEN] * 3,
                   "zones 0-2 before: %r" % [st[0], st[1], st[2]])
            # all MAX_OPEN (3) open resources are taken: an explicit open must fail
            expect_status(oq.zone_mgmt_send(ZNS_NS, Z(3), n.ZSA_OPEN), n.SC_ZONE_TOO_MANY_OPEN,
                          "open zone 3 while the other host holds 3 open zones")
            t0 = time.monotonic()
            while time.monotonic() - t0 < 4 and not gone.admin.wait_closed(0.3):
                expect_ok(other.admin.keep_alive(), "keep alive")
            c.soft(gone.admin.closed or time.monotonic() - t0 < 4, "silent host not torn down")
            time.sleep(0.3)
            expect_zone(oq, 0, n.ZS_CLOSED, Z(0) + 1, "after teardown")
            expect_zone(oq, 1, n.ZS_CLOSED, Z(1) + 1, "after teardown")
            z2 = zone_desc(oq, 2)
            c.soft(z2.zs in (n.ZS_CLOSED, n.ZS_EMPTY), "zone 2 (opened, never written) is %s" %
                   z2.state)
            c.soft(log_has(d, "it had opened, releasing their open resources"), "no log line")
            expect_ok(oq.zone_mgmt_send(ZNS_NS, Z(3), n.ZSA_OPEN), "open zone 3 afterwards")
            expect_ok(oq.write(ZNS_NS, Z(0) + 1, blocks(1, 3)), "write zone 0 at its write pointer")
            reset_all(oq)
            other.close()
            gone.close()
    with_daemon(ctx, "hostile", HOSTILE_ARGS, body)


# =====================================================================================================
# resources: 1,000 connections opened and dropped leave fds and RSS where they were
# =====================================================================================================

def proc_figures(pid):
    fds = len(os.listdir("/proc/%d/fd" % pid))
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return fds, rss


def churn_one(sub, kind):
    """Open one connection and leave it in the state @kind names (closed by the caller)."""
    if kind == 0:		# TCP only
        return socket.create_connection((sub.addr, sub.port), timeout=5)
    q = n.Queue(sub.addr, sub.port, timeout=5)
    try:
        q.icreq()
        if kind == 1:		# after ICReq
            pass
        elif kind == 2:		# mid-PDU: 40 bytes of a Connect capsule
            q.send_raw(n.build_pdu(n.CMD, bytes(connect_sqe()),
                                   n.Queue.connect_data(NQN, HOSTNQN))[:40])
        elif kind == 3:		# mid-transfer: Connect data by R2T, half of it sent
            sqe = connect_sqe()
            sqe[24:40] = n.sgl_desc(n.SGL_TRANSPORT, 1024)
            q.send_raw(n.build_pdu(n.CMD, bytes(sqe)))
            r2t = q.recv_pdu()
            expect(r2t.type == n.R2T, "expected R2T, got %r" % r2t)
            data = n.Queue.connect_data(NQN, HOSTNQN)
            q.send_raw(n.build_pdu(n.H2C_DATA, n.h2c_specific(1, r2t.u16(10), 0, 1024), data,
                                   flags=n.F_LAST)[:24 + 300])
        elif kind == 4:		# connected, C2H data in flight: Identify x 8 unread
            expect_ok(q.connect(NQN, HOSTNQN), "Connect")
            for i in range(8):
                q.send_raw(n.build_pdu(n.CMD, bytes(n.build_sqe(
                    n.ADM_IDENTIFY, cid=100 + i, cdw10=1, sgl=n.sgl_desc(n.SGL_TRANSPORT, 4096)))))
        elif kind == 5:		# connected, reset mid-PDU
            expect_ok(q.connect(NQN, HOSTNQN), "Connect")
            q.send_raw(n.build_pdu(n.CMD, bytes(n.build_sqe(n.ADM_KEEP_ALIVE)))[:30])
            q.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except Exception:
        q.close()
        raise
    return q


def group_resources(ctx):
    def body(sub):
        tap = sub.tap
        pid = sub.daemon.proc.pid
        with tap.case("resources: 1,000 connections opened and dropped (TCP only, after ICReq, "
                      "mid-PDU, mid-R2T transfer, C2H data in flight, reset) leave the fd count "
                      "and RSS where they were") as c:
            # warm up: every reactor, the largest buffers
            for i in range(4):
                ctl = sub.ctrl()
                q = ctl.io_queue(1)
                expect_ok(q.write(NVM_NS, 0, blocks(MDTS // LBA, i), incapsule=False), "write")
                expect_ok(q.read(NVM_NS, 0, MDTS // LBA), "read")
                ctl.close()
            for i in range(60):
                churn_one(sub, i % 6).close()
            time.sleep(0.5)
            fd0, rss0 = proc_figures(pid)
            peak_fd = peak_rss = 0
            t0 = time.monotonic()
            total = 0
            for batch in range(20):
                held = [churn_one(sub, (batch * 50 + i) % 6) for i in range(50)]
                total += len(held)
                time.sleep(0.05)
                fd, rss = proc_figures(pid)
                peak_fd, peak_rss = max(peak_fd, fd), max(peak_rss, rss)
                for h in held:
                    h.close()
            elapsed = time.monotonic() - t0
            deadline = time.monotonic() + 5
            while True:
                fd1, rss1 = proc_figures(pid)
                if fd1 <= fd0 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            tap.comment("churn: %d connections in %.1f s; fds %d -> peak %d -> %d; "
                        "VmRSS %.1f -> peak %.1f -> %.1f MiB" %
                        (total, elapsed, fd0, peak_fd, fd1, rss0 / 2**20, peak_rss / 2**20,
                         rss1 / 2**20))
            c.soft(total == 1000, "%d connections" % total)
            c.soft(peak_fd >= fd0 + 40, "fd count never rose (%d -> %d): connections not held?" %
                   (fd0, peak_fd))
            c.soft(fd1 == fd0, "fd count %d, was %d before the churn" % (fd1, fd0))
            # ASan keeps freed memory in quarantine, so RSS says nothing
            # there; its leak check at exit does the job instead.
            with open("/proc/%d/maps" % pid) as f:
                asan = "asan" in f.read()
            if asan:
                tap.comment("churn: AddressSanitizer build, RSS bound not checked")
            else:
                c.soft(rss1 <= rss0 + 16 * 2**20, "VmRSS %.1f MiB, was %.1f MiB" %
                       (rss1 / 2**20, rss0 / 2**20))
        with tap.case("resources: the daemon serves I/O after the churn") as c:
            ctl = sub.ctrl()
            q = ctl.io_queue(1)
            data = blocks(4, 5)
            write_read_back(q, 64, data)
            ctl.close()
    with_daemon(ctx, "resources", [], body)


# =====================================================================================================

GROUPS = [("discovery", group_discovery), ("admin", group_admin), ("io", group_io),
          ("digests", group_digests), ("concurrency", group_concurrency),
          ("keepalive", group_keepalive), ("malformed", group_malformed),
          ("pipelined", group_pipelined), ("limits", group_limits),
          ("lba512", group_lba512), ("hostile", group_hostile),
          ("resources", group_resources)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--daemon", default=os.path.join(HERE, "..", "..", "build", "target", "znstcpd"),
                    help="path to znstcpd (default build/target/znstcpd)")
    ap.add_argument("--only", default="", help="comma-separated groups: " +
                    ",".join(g for g, _ in GROUPS))
    ap.add_argument("--daemon-arg", action="append", default=[],
                    help="extra daemon argument (repeatable)")
    ap.add_argument("--verbose", action="store_true", help="run the daemon with -v")
    ap.add_argument("--keep-log", action="store_true", help="keep the daemon log file")
    args = ap.parse_args()

    only = [g for g in args.only.split(",") if g]
    unknown = set(only) - {g for g, _ in GROUPS}
    if unknown:
        ap.error("unknown group(s): %s" % ", ".join(sorted(unknown)))
    if not os.access(args.daemon, os.X_OK):
        print("1..0 # SKIP no daemon at %s (build it with ninja -C build)" % args.daemon)
        return 77

    tap = Tap()
    try:
        daemon = Daemon(args.daemon, args.daemon_arg, args.verbose)
    except Exception as e:
        tap.result("daemon: starts and prints 'listening on'", False, e)
        print("1..%d" % tap.count)
        return 1
    tap.comment("znstcpd pid %d on 127.0.0.1:%d, log %s" % (daemon.proc.pid, daemon.port,
                                                             daemon.log.name))
    ctx = Ctx(tap, daemon)
    # Opened now, checked at the end: a socket that never sends ICReq must
    # be dropped by the daemon's handshake timeout (10 s).
    idle = n.Queue("127.0.0.1", daemon.port, timeout=5)
    idle_t0 = time.monotonic()
    try:
        for name, fn in GROUPS:
            if only and name not in only:
                continue
            if not daemon.alive():
                tap.result("%s: daemon alive before the group" % name, False,
                           "znstcpd exited with %s" % daemon.proc.returncode)
                break
            try:
                fn(ctx)
            except Exception as e:
                tap.result("%s: group ran to completion" % name, False,
                           "%s: %s" % (type(e).__name__, e))
                tap.comment(traceback.format_exc())
            finally:
                ctx.close_all()
        if not only:
            with tap.case("handshake: a connection that sends no ICReq is closed after ~10 s") as c:
                left = 13 - (time.monotonic() - idle_t0)
                expect(idle.wait_closed(max(0.1, left)),
                       "still open %.1f s after connecting" % (time.monotonic() - idle_t0))
        idle.close()
        with tap.case("daemon: still running after all cases") as c:
            expect(daemon.alive(), "znstcpd exited with status %s" % daemon.proc.returncode)
        with tap.case("daemon: exits 0 on SIGTERM") as c:
            rc = daemon.stop()
            expect(rc == 0, "exit status %s" % ("killed after 10 s" if rc is None else rc))
        with tap.case("daemon: no sanitizer report in its log") as c:
            rep = daemon.sanitizer_report()
            expect(not rep, "report:\n%s" % rep)
    finally:
        daemon.kill()
        ctx.close_all()
    print("1..%d" % tap.count)
    if tap.failed:
        tap.comment("%d of %d failed; daemon log tail (%s):" % (len(tap.failed), tap.count,
                                                                 daemon.log.name))
        tap.comment(daemon.log_tail())
    elif not args.keep_log:
        os.unlink(daemon.log.name)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
