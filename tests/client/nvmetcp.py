# SPDX-License-Identifier: MIT
"""
A small NVMe/TCP host for tests: enough of the transport (NVMe TCP 1.0),
NVMe over Fabrics and the admin, NVM and Zoned Namespace command sets to
drive znstcpd from userspace, plus a raw mode for malformed input.

Standard library only.  Layers, bottom up:

  crc32c()                   digests (pure Python, table driven)
  build_*() / Pdu            PDU wire images and the parsed form of one PDU
  Queue                      one TCP connection = one NVMe queue: ICReq,
                             capsules, R2T/H2CData, C2HData reassembly,
                             several commands in flight, matched by CID
  Queue.connect() ...        Fabrics and admin/I/O commands; each returns a
                             Completion and never raises on an NVMe status
  Controller                 admin queue + Connect + CC.EN + I/O queues

Transport problems (TermReq, closed socket, malformed PDU from the target,
timeouts) raise TransportError subclasses; NVMe status codes do not raise
unless Completion.check() is called.
"""
import os
import socket
import struct
import time

# ---- Constants -------------------------------------------------------------------

ICREQ, ICRESP, H2C_TERM, C2H_TERM = 0x00, 0x01, 0x02, 0x03
CMD, RSP, H2C_DATA, C2H_DATA, R2T = 0x04, 0x05, 0x06, 0x07, 0x09
PDU_NAMES = {ICREQ: "ICReq", ICRESP: "ICResp", H2C_TERM: "H2CTermReq",
             C2H_TERM: "C2HTermReq", CMD: "CapsuleCmd", RSP: "CapsuleResp",
             H2C_DATA: "H2CData", C2H_DATA: "C2HData", R2T: "R2T"}
HLEN = {ICREQ: 128, ICRESP: 128, H2C_TERM: 24, C2H_TERM: 24, CMD: 72,
        RSP: 24, H2C_DATA: 24, C2H_DATA: 24, R2T: 24}

F_HDGST, F_DDGST, F_LAST, F_SUCCESS = 0x01, 0x02, 0x04, 0x08

FES_INVALID_HDR = 0x01
FES_SEQ_ERR = 0x02
FES_HDGST_ERR = 0x03
FES_OUT_OF_RANGE = 0x04
FES_LIMIT_EXCEEDED = 0x05
FES_UNSUPPORTED = 0x06

SGL_INCAPSULE = 0x01		# Data Block, Offset subtype
SGL_TRANSPORT = 0x5A		# Transport SGL Data Block, transport specific
PSDT_SGL = 0x40

DISC_NQN = "nqn.2014-08.org.nvmexpress.discovery"
DEFAULT_HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:7a1c0d2e-0000-4000-8000-7a5ec1e27e57"

# opcodes
ADM_GET_LOG, ADM_IDENTIFY, ADM_ABORT = 0x02, 0x06, 0x08
ADM_SET_FEAT, ADM_GET_FEAT, ADM_AER, ADM_KEEP_ALIVE = 0x09, 0x0A, 0x0C, 0x18
FABRICS = 0x7F
IO_FLUSH, IO_WRITE, IO_READ, IO_WRITE_ZEROES = 0x00, 0x01, 0x02, 0x08
IO_ZONE_SEND, IO_ZONE_RECV, IO_ZONE_APPEND = 0x79, 0x7A, 0x7D
FCTYPE_PROP_SET, FCTYPE_CONNECT, FCTYPE_PROP_GET, FCTYPE_DISCONNECT = 0x00, 0x01, 0x04, 0x08

# properties
REG_CAP, REG_VS, REG_CC, REG_CSTS = 0x00, 0x08, 0x14, 0x1C

# CSI, zone actions, report filters, zone states (descriptor ZS >> 4)
CSI_NVM, CSI_ZNS = 0, 2
ZSA_CLOSE, ZSA_FINISH, ZSA_OPEN, ZSA_RESET, ZSA_OFFLINE = 1, 2, 3, 4, 5
ZRASF_ALL, ZRASF_EMPTY, ZRASF_IMP_OPEN, ZRASF_EXP_OPEN = 0, 1, 2, 3
ZRASF_CLOSED, ZRASF_FULL, ZRASF_READ_ONLY, ZRASF_OFFLINE = 4, 5, 6, 7
ZS_EMPTY, ZS_IMP_OPEN, ZS_EXP_OPEN, ZS_CLOSED = 0x1, 0x2, 0x3, 0x4
ZS_READ_ONLY, ZS_FULL, ZS_OFFLINE = 0xD, 0xE, 0xF
ZS_NAMES = {ZS_EMPTY: "empty", ZS_IMP_OPEN: "imp_open", ZS_EXP_OPEN: "exp_open",
            ZS_CLOSED: "closed", ZS_READ_ONLY: "read_only", ZS_FULL: "full",
            ZS_OFFLINE: "offline"}

# status values as (SCT, SC)
SC_SUCCESS = (0, 0x00)
SC_INVALID_OPCODE = (0, 0x01)
SC_INVALID_FIELD = (0, 0x02)
SC_DATA_XFER_ERROR = (0, 0x04)
SC_INVALID_NS = (0, 0x0B)
SC_CMD_SEQ_ERROR = (0, 0x0C)
SC_SGL_DATA_LEN_INVALID = (0, 0x0F)
SC_SGL_TYPE_INVALID = (0, 0x11)
SC_TRANSIENT_TRANSPORT = (0, 0x22)
SC_LBA_RANGE = (0, 0x80)
SC_INVALID_LOG_PAGE = (1, 0x09)
SC_CONNECT_INVALID_PARAM = (1, 0x82)
SC_ZONE_BOUNDARY = (1, 0xB8)
SC_ZONE_FULL = (1, 0xB9)
SC_ZONE_READ_ONLY = (1, 0xBA)
SC_ZONE_OFFLINE = (1, 0xBB)
SC_ZONE_INVALID_WRITE = (1, 0xBC)
SC_ZONE_TOO_MANY_ACTIVE = (1, 0xBD)
SC_ZONE_TOO_MANY_OPEN = (1, 0xBE)
SC_ZONE_INVALID_TRANSITION = (1, 0xBF)


# ---- CRC32C (Castagnoli, reflected 0x82F63B78) ----------------------------------------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    """CRC32C of @data; pass a previous result as @crc to continue it."""
    t = _CRC_TABLE
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# ---- Errors ----------------------------------------------------------------------------

class TransportError(Exception):
    """The connection cannot be used as NVMe/TCP any more."""


class ConnectionClosed(TransportError):
    """The target closed (or reset) the connection."""


class Timeout(TransportError):
    """Nothing arrived in time."""


class ProtocolError(TransportError):
    """The target sent something this host does not accept."""


class DigestError(ProtocolError):
    pass


class TermReq(TransportError):
    """The target sent a C2HTermReq."""

    def __init__(self, pdu):
        self.pdu = pdu
        self.fes = struct.unpack_from("<H", pdu.hdr, 8)[0]
        self.fei = struct.unpack_from("<I", pdu.hdr, 10)[0]
        self.offending = pdu.data
        super().__init__("C2HTermReq FES %#x FEI %#x (offending header %s)" %
                         (self.fes, self.fei, self.offending[:8].hex()))


class NvmeError(Exception):
    """An NVMe status where success was required (Completion.check())."""

    def __init__(self, cpl, what=""):
        self.cpl = cpl
        super().__init__("%s%s" % (what + ": " if what else "", cpl.status_str()))


# ---- Status ----------------------------------------------------------------------------

def status_sct(st):
    return (st >> 8) & 0x7


def status_sc(st):
    return st & 0xFF


def status_dnr(st):
    return bool(st & 0x4000)


def status_more(st):
    return bool(st & 0x2000)


def status_str(st):
    if st & 0x7FF == 0:
        return "success"
    return "SCT %xh SC %02xh%s%s" % (status_sct(st), status_sc(st),
                                     " DNR" if status_dnr(st) else "",
                                     " M" if status_more(st) else "")


class Completion:
    """One finished command: the CQE (status is the CQE status >> 1) and data."""

    def __init__(self, cid, status, result=0, sqhd=0, sqid=0, data=None,
                 via_success=False):
        self.cid = cid
        self.status = status
        self.result = result
        self.sqhd = sqhd
        self.sqid = sqid
        self.data = data
        self.via_success = via_success	# C2HData SUCCESS flag, no CapsuleResp

    sct = property(lambda self: status_sct(self.status))
    sc = property(lambda self: status_sc(self.status))
    dnr = property(lambda self: status_dnr(self.status))
    ok = property(lambda self: self.status & 0x7FF == 0)
    dw0 = property(lambda self: self.result & 0xFFFFFFFF)
    dw1 = property(lambda self: self.result >> 32)

    def is_status(self, sct_sc):
        return (self.sct, self.sc) == tuple(sct_sc)

    def status_str(self):
        return status_str(self.status)

    def check(self, what=""):
        if not self.ok:
            raise NvmeError(self, what)
        return self

    def __repr__(self):
        return "Completion(cid=%d, %s, result=%#x)" % (self.cid, self.status_str(),
                                                       self.result)


# ---- Wire images -----------------------------------------------------------------------

def sgl_desc(sgl_type, length=0, addr=0):
    return struct.pack("<QI3xB", addr, length, sgl_type)


def build_sqe(opcode, cid=0, nsid=0, cdw10=0, cdw11=0, cdw12=0, cdw13=0,
              cdw14=0, cdw15=0, sgl=None, flags=PSDT_SGL, cdw2=0, cdw3=0, mptr=0):
    """A 64-byte submission queue entry (little endian)."""
    if sgl is None:
        sgl = sgl_desc(SGL_TRANSPORT, 0)
    return bytearray(struct.pack("<BBHIIIQ16sIIIIII", opcode, flags, cid, nsid,
                                 cdw2, cdw3, mptr, sgl, cdw10 & 0xFFFFFFFF,
                                 cdw11 & 0xFFFFFFFF, cdw12 & 0xFFFFFFFF,
                                 cdw13 & 0xFFFFFFFF, cdw14 & 0xFFFFFFFF,
                                 cdw15 & 0xFFFFFFFF))


def common_hdr(ptype, flags, hlen, pdo, plen):
    return struct.pack("<BBBBI", ptype, flags, hlen, pdo, plen)


def build_icreq(pfv=0, hpda=0, hdgst=False, ddgst=False, maxr2t=0, plen=128,
                hlen=128, pdo=0, ptype=ICREQ):
    dgst = (1 if hdgst else 0) | (2 if ddgst else 0)
    body = struct.pack("<HBBI", pfv, hpda, dgst, maxr2t)
    return common_hdr(ptype, 0, hlen, pdo, plen) + body + bytes(112)


def build_pdu(ptype, specific, data=b"", *, hdgst=False, ddgst=False, cpda=0,
              flags=0, hlen=None, pdo=None, plen=None, bad_hdgst=False,
              bad_ddgst=False, set_digest_flags=True):
    """
    Wire image of a header + optional data PDU.  @specific is the header after
    the 8 common bytes.  Digests and padding follow the negotiated @hdgst,
    @ddgst and @cpda; every computed field can be overridden for malformed
    input (@hlen/@pdo/@plen; @bad_* corrupt a digest).
    """
    real_hlen = 8 + len(specific)
    hd = 4 if hdgst else 0
    dd = 4 if (ddgst and data) else 0
    if set_digest_flags:
        flags |= (F_HDGST if hdgst else 0) | (F_DDGST if dd else 0)
    if data:
        align = (cpda + 1) * 4
        calc_pdo = (real_hlen + hd + align - 1) // align * align
    else:
        calc_pdo = 0
    pdo = calc_pdo if pdo is None else pdo
    hlen = real_hlen if hlen is None else hlen
    calc_plen = (calc_pdo + len(data) + dd) if data else real_hlen + hd
    plen = calc_plen if plen is None else plen
    hdr = common_hdr(ptype, flags, hlen, pdo, plen) + specific
    out = bytearray(hdr)
    if hd:
        d = crc32c(hdr)
        if bad_hdgst:
            d ^= 0xDEADBEEF
        out += struct.pack("<I", d)
    if data:
        out += bytes(max(0, calc_pdo - len(out)))
        out += data
        if dd:
            d = crc32c(data)
            if bad_ddgst:
                d ^= 0x5A5A5A5A
            out += struct.pack("<I", d)
    return bytes(out)


def capsule_specific(sqe):
    return bytes(sqe)


def h2c_specific(cccid, ttag, datao, datal):
    return struct.pack("<HHII4x", cccid, ttag, datao, datal)


def term_specific(fes, fei):
    return struct.pack("<HI10x", fes, fei)


class Pdu:
    """One received PDU: common header fields, the header (HLEN bytes) and data."""

    def __init__(self, raw_hdr, data=b"", hdgst=None, ddgst=None):
        self.type, self.flags, self.hlen, self.pdo, self.plen = \
            struct.unpack_from("<BBBBI", raw_hdr, 0)
        self.hdr = bytes(raw_hdr)
        self.data = data
        self.hdgst = hdgst
        self.ddgst = ddgst

    name = property(lambda self: PDU_NAMES.get(self.type, "type %#x" % self.type))

    def u16(self, off):
        return struct.unpack_from("<H", self.hdr, off)[0]

    def u32(self, off):
        return struct.unpack_from("<I", self.hdr, off)[0]

    def u64(self, off):
        return struct.unpack_from("<Q", self.hdr, off)[0]

    def __repr__(self):
        return "<%s flags=%#x hlen=%d pdo=%d plen=%d>" % (self.name, self.flags,
                                                          self.hlen, self.pdo, self.plen)


# ---- Commands in flight --------------------------------------------------------------------

class Command:
    """A submitted command waiting for its completion."""

    def __init__(self, cid, sqe, data_out=None, data_in=0, auto_h2c=True):
        self.cid = cid
        self.sqe = sqe
        self.opcode = sqe[0]
        self.data_out = data_out
        self.data_in = bytearray(data_in)
        self.c2h_rcvd = 0
        self.r2ts = []			# (ttag, r2to, r2tl) seen
        self.c2h_pdus = []		# (datao, datal, flags, pdo) seen
        self.auto_h2c = auto_h2c
        self.completion = None


# ---- One queue = one TCP connection ----------------------------------------------------------

class Queue:
    """
    One NVMe/TCP connection.  Commands may be pipelined: submit() returns a
    Command immediately, wait() processes PDUs (answering R2Ts, collecting
    C2HData) until that command completes.  execute() is submit + wait.
    """

    def __init__(self, addr="127.0.0.1", port=4420, timeout=10.0, sock=None):
        self.addr, self.port = addr, port
        self.timeout = timeout
        self.sock = sock or socket.create_connection((addr, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.hdgst = self.ddgst = False
        self.hpda = 0
        self.cpda = 0
        self.maxh2cdata = 4096
        self.h2c_chunk = None		# force H2CData PDUs smaller than MAXH2CDATA
        self.inline_max = 8192		# in-capsule bytes allowed (IOCCSZ*16 - 64)
        self.lba_size = 4096
        self.qid = None
        self.cntlid = None
        self.sqflow_off = False
        self.pending = {}
        self.orphans = []		# completions nobody asked for
        self._next_cid = 1
        self.stats = {"c2h_pdo": set(), "h2c_pdus": 0, "r2t": 0}
        self.closed = False

    # -- raw socket --------------------------------------------------------------------

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise ConnectionClosed("send: %s" % e)
        except socket.timeout:
            raise Timeout("send timed out")

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise Timeout("timed out waiting for %d bytes (have %d)" % (n, len(buf)))
            except ConnectionResetError:
                raise ConnectionClosed("connection reset")
            if not chunk:
                raise ConnectionClosed("connection closed by peer (%d of %d bytes)" %
                                       (len(buf), n))
            buf += chunk
        return bytes(buf)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    def wait_closed(self, timeout=3.0):
        """True if the peer closes the connection within @timeout (data is drained)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            finally:
                self.sock.settimeout(self.timeout)
            if not chunk:
                return True

    def recv_pdu(self):
        """Receive and check one PDU (digests as negotiated)."""
        ch = self.recv_exact(8)
        ptype, flags, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        if plen < 8 or plen > 64 * 1024 * 1024:
            raise ProtocolError("implausible PLEN %d in %s" % (plen, ch.hex()))
        if ptype in (ICRESP, C2H_TERM):
            rest = self.recv_exact(plen - 8)
            if ptype == C2H_TERM:
                hl = max(8, min(hlen, plen))
                pdu = Pdu((ch + rest)[:hl], (ch + rest)[hl:])
                raise TermReq(pdu)
            return Pdu(ch + rest)
        if hlen < 8 or hlen > plen:
            raise ProtocolError("bad HLEN %d (PLEN %d) for %s" % (hlen, plen, ptype))
        hdr = ch + self.recv_exact(hlen - 8)
        hd = None
        if flags & F_HDGST:
            if not self.hdgst:
                raise ProtocolError("HDGSTF set but header digest not negotiated")
            hd = struct.unpack("<I", self.recv_exact(4))[0]
            if hd != crc32c(hdr):
                raise DigestError("header digest mismatch in %s" % PDU_NAMES.get(ptype))
        elif self.hdgst:
            raise ProtocolError("%s without header digest" % PDU_NAMES.get(ptype))
        got = hlen + (4 if hd is not None else 0)
        data, dd = b"", None
        if plen > got:
            if pdo < got or pdo > plen:
                raise ProtocolError("bad PDO %d (header %d, PLEN %d)" % (pdo, got, plen))
            if pdo > got:
                self.recv_exact(pdo - got)
            ddl = 4 if flags & F_DDGST else 0
            if ddl and not self.ddgst:
                raise ProtocolError("DDGSTF set but data digest not negotiated")
            if self.ddgst and not ddl:
                raise ProtocolError("data without data digest")
            data = self.recv_exact(plen - pdo - ddl)
            if ddl:
                dd = struct.unpack("<I", self.recv_exact(4))[0]
                if dd != crc32c(data):
                    raise DigestError("data digest mismatch in %s" % PDU_NAMES.get(ptype))
        return Pdu(hdr, data, hd, dd)

    def expect_term(self, timeout=3.0):
        """Read PDUs until a C2HTermReq; returns the TermReq (or raises)."""
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            while True:
                self.recv_pdu()
        except TermReq as t:
            return t
        finally:
            self.sock.settimeout(old)

    # -- connection set-up ---------------------------------------------------------------

    def icreq(self, hdgst=False, ddgst=False, hpda=0, maxr2t=0, pfv=0):
        """Initialize Connection: returns the ICResp PDU, adopts its parameters."""
        self.send_raw(build_icreq(pfv=pfv, hpda=hpda, hdgst=hdgst, ddgst=ddgst,
                                  maxr2t=maxr2t))
        rsp = self.recv_pdu()
        if rsp.type != ICRESP or rsp.hlen != 128 or rsp.plen != 128:
            raise ProtocolError("expected ICResp, got %r" % rsp)
        pfv_r = rsp.u16(8)
        cpda, dgst, maxdata = rsp.hdr[10], rsp.hdr[11], rsp.u32(12)
        if pfv_r != 0:
            raise ProtocolError("ICResp PFV %d" % pfv_r)
        if maxdata < 4096 or maxdata % 4:
            raise ProtocolError("ICResp MAXH2CDATA %d invalid" % maxdata)
        if bool(dgst & 1) != hdgst or bool(dgst & 2) != ddgst:
            raise ProtocolError("ICResp DGST %#x does not match ICReq" % dgst)
        self.hdgst, self.ddgst = hdgst, ddgst
        self.hpda = hpda
        self.cpda = cpda
        self.maxh2cdata = maxdata
        return rsp

    # -- PDUs out ----------------------------------------------------------------------------

    def pdu(self, ptype, specific, data=b"", **kw):
        """Wire image of a PDU with this connection's digests and CPDA."""
        kw.setdefault("hdgst", self.hdgst)
        kw.setdefault("ddgst", self.ddgst)
        kw.setdefault("cpda", self.cpda)
        return build_pdu(ptype, specific, data, **kw)

    def alloc_cid(self):
        while True:
            cid = self._next_cid
            self._next_cid = (self._next_cid % 0xFFFE) + 1
            if cid not in self.pending:
                return cid

    def submit(self, sqe, data_out=None, data_in=0, incapsule=None, sgl=None,
               auto_h2c=True, pdu_kw=None):
        """
        Send one command.  @sqe: a build_sqe() image (its CID and SGL are
        filled here unless @sgl is given).  @data_out goes in the capsule
        (@incapsule True, or None and small enough) or by R2T; @data_in bytes
        are expected back by C2HData.  Returns the Command.
        """
        sqe = bytearray(sqe)
        cid = self.alloc_cid()
        struct.pack_into("<H", sqe, 2, cid)
        inline = b""
        if data_out is not None and len(data_out):
            if incapsule is None:
                incapsule = len(data_out) <= self.inline_max
            if incapsule:
                inline = bytes(data_out)
                desc = sgl_desc(SGL_INCAPSULE, len(inline), 0)
            else:
                desc = sgl_desc(SGL_TRANSPORT, len(data_out))
        elif data_in:
            desc = sgl_desc(SGL_TRANSPORT, data_in)
        else:
            desc = sgl_desc(SGL_TRANSPORT, 0)
        sqe[24:40] = desc if sgl is None else sgl
        cmd = Command(cid, sqe, None if inline else data_out, data_in, auto_h2c)
        self.pending[cid] = cmd
        self.send_raw(self.pdu(CMD, bytes(sqe), inline, **(pdu_kw or {})))
        return cmd

    def send_h2c(self, cmd, ttag, offset, length, chunk=None, last_flag=True):
        """Send @length bytes of @cmd's data from @offset as H2CData PDUs."""
        data = cmd.data_out
        chunk = chunk or min(self.maxh2cdata, self.h2c_chunk or self.maxh2cdata)
        end = offset + length
        pos = offset
        out = bytearray()
        while pos < end:
            n = min(chunk, end - pos)
            flags = F_LAST if (pos + n == end and last_flag) else 0
            out += self.pdu(H2C_DATA, h2c_specific(cmd.cid, ttag, pos, n),
                            bytes(data[pos:pos + n]), flags=flags)
            self.stats["h2c_pdus"] += 1
            pos += n
        self.send_raw(out)

    # -- PDUs in -------------------------------------------------------------------------------

    def _complete(self, cmd, cpl):
        cmd.completion = cpl
        del self.pending[cmd.cid]

    def process_one(self):
        """Receive one PDU and act on it."""
        pdu = self.recv_pdu()
        if pdu.type == RSP:
            if pdu.hlen != 24 or pdu.data:
                raise ProtocolError("malformed CapsuleResp %r" % pdu)
            result, sqhd, sqid, cid, st = struct.unpack_from("<QHHHH", pdu.hdr, 8)
            cpl = Completion(cid, st >> 1, result, sqhd, sqid)
            cmd = self.pending.get(cid)
            if cmd is None:
                self.orphans.append(cpl)
                raise ProtocolError("CapsuleResp for unknown CID %d" % cid)
            if cpl.ok and cmd.data_in is not None and len(cmd.data_in):
                if cmd.c2h_rcvd != len(cmd.data_in):
                    raise ProtocolError("CID %d completed after %d of %d data bytes" %
                                        (cid, cmd.c2h_rcvd, len(cmd.data_in)))
            cpl.data = bytes(cmd.data_in)
            self._complete(cmd, cpl)
        elif pdu.type == C2H_DATA:
            cccid, datao, datal = pdu.u16(8), pdu.u32(12), pdu.u32(16)
            cmd = self.pending.get(cccid)
            if cmd is None:
                raise ProtocolError("C2HData for unknown CID %d" % cccid)
            if datal != len(pdu.data):
                raise ProtocolError("C2HData DATAL %d but %d bytes" % (datal, len(pdu.data)))
            if datao != cmd.c2h_rcvd or datao + datal > len(cmd.data_in):
                raise ProtocolError("C2HData DATAO %d DATAL %d outside the transfer "
                                    "(%d of %d received)" % (datao, datal, cmd.c2h_rcvd,
                                                             len(cmd.data_in)))
            align = (self.hpda + 1) * 4
            if pdu.pdo % align:
                raise ProtocolError("C2HData PDO %d not a multiple of HPDA %d" %
                                    (pdu.pdo, align))
            self.stats["c2h_pdo"].add(pdu.pdo)
            cmd.data_in[datao:datao + datal] = pdu.data
            cmd.c2h_rcvd += datal
            cmd.c2h_pdus.append((datao, datal, pdu.flags, pdu.pdo))
            if pdu.flags & F_SUCCESS:
                if not pdu.flags & F_LAST:
                    raise ProtocolError("C2HData SUCCESS without LAST_PDU")
                if not self.sqflow_off:
                    raise ProtocolError("C2HData SUCCESS with SQ flow control on")
                if cmd.c2h_rcvd != len(cmd.data_in):
                    raise ProtocolError("SUCCESS before all data")
                self._complete(cmd, Completion(cccid, 0, 0, 0xFFFF, self.qid or 0,
                                               bytes(cmd.data_in), via_success=True))
        elif pdu.type == R2T:
            cccid, ttag, r2to, r2tl = pdu.u16(8), pdu.u16(10), pdu.u32(12), pdu.u32(16)
            cmd = self.pending.get(cccid)
            self.stats["r2t"] += 1
            if cmd is None or cmd.data_out is None:
                raise ProtocolError("R2T for CID %d that has no data to send" % cccid)
            if r2tl == 0 or r2to + r2tl > len(cmd.data_out):
                raise ProtocolError("R2T R2TO %d R2TL %d outside %d bytes" %
                                    (r2to, r2tl, len(cmd.data_out)))
            cmd.r2ts.append((ttag, r2to, r2tl))
            if cmd.auto_h2c:
                self.send_h2c(cmd, ttag, r2to, r2tl)
        else:
            raise ProtocolError("unexpected %r" % pdu)
        return pdu

    def wait(self, cmd, timeout=None):
        """Process PDUs until @cmd has completed; returns its Completion."""
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            while cmd.completion is None:
                self.process_one()
        finally:
            self.sock.settimeout(old)
        return cmd.completion

    def wait_all(self, cmds, timeout=None):
        return [self.wait(c, timeout) for c in cmds]

    def execute(self, sqe, data_out=None, data_in=0, **kw):
        return self.wait(self.submit(sqe, data_out, data_in, **kw))

    # -- Fabrics -----------------------------------------------------------------------------

    @staticmethod
    def connect_data(subnqn, hostnqn, cntlid=0xFFFF, hostid=None):
        def field(v):
            v = v.encode() if isinstance(v, str) else bytes(v)
            return v[:256].ljust(256, b"\0")
        hostid = hostid if hostid is not None else bytes(range(0x10, 0x20))
        d = bytearray(1024)
        d[0:16] = hostid
        struct.pack_into("<H", d, 16, cntlid)
        d[256:512] = field(subnqn)
        d[512:768] = field(hostnqn)
        return bytes(d)

    def connect(self, subnqn, hostnqn=DEFAULT_HOSTNQN, qid=0, sqsize=32, kato=0,
                cntlid=0xFFFF, hostid=None, cattr=0, recfmt=0, incapsule=True):
        """Fabrics Connect; @sqsize is the number of entries (sent 0's based)."""
        sqe = build_sqe(FABRICS)
        sqe[4] = FCTYPE_CONNECT
        struct.pack_into("<HHHBxI", sqe, 40, recfmt, qid, sqsize - 1, cattr, kato)
        cpl = self.execute(sqe, self.connect_data(subnqn, hostnqn, cntlid, hostid),
                           incapsule=incapsule)
        if cpl.ok:
            self.qid = qid
            self.cntlid = cpl.dw0 & 0xFFFF
            self.sqflow_off = bool(cattr & 0x4)
        return cpl

    def prop_get(self, ofst, size8=False):
        sqe = build_sqe(FABRICS)
        sqe[4] = FCTYPE_PROP_GET
        sqe[40] = 1 if size8 else 0
        struct.pack_into("<I", sqe, 44, ofst)
        return self.execute(sqe)

    def prop_set(self, ofst, value, size8=False):
        sqe = build_sqe(FABRICS)
        sqe[4] = FCTYPE_PROP_SET
        sqe[40] = 1 if size8 else 0
        struct.pack_into("<IQ", sqe, 44, ofst, value)
        return self.execute(sqe)

    def disconnect(self):
        sqe = build_sqe(FABRICS)
        sqe[4] = FCTYPE_DISCONNECT
        return self.execute(sqe)

    # -- Admin ------------------------------------------------------------------------------------

    def identify(self, cns, nsid=0, csi=0, cntid=0):
        return self.execute(build_sqe(ADM_IDENTIFY, nsid=nsid,
                                      cdw10=cns | cntid << 16, cdw11=csi << 24),
                            data_in=4096)

    def get_log(self, lid, length, nsid=0xFFFFFFFF, offset=0, lsp=0, rae=False, csi=0):
        numd = length // 4 - 1
        return self.execute(build_sqe(ADM_GET_LOG, nsid=nsid,
                                      cdw10=lid | lsp << 8 | (1 << 15 if rae else 0) |
                                      (numd & 0xFFFF) << 16,
                                      cdw11=numd >> 16, cdw12=offset & 0xFFFFFFFF,
                                      cdw13=offset >> 32, cdw14=csi << 24),
                            data_in=length)

    def set_features(self, fid, cdw11=0, sv=False, nsid=0):
        return self.execute(build_sqe(ADM_SET_FEAT, nsid=nsid,
                                      cdw10=fid | (1 << 31 if sv else 0), cdw11=cdw11))

    def get_features(self, fid, sel=0, cdw11=0, nsid=0, data_in=0):
        return self.execute(build_sqe(ADM_GET_FEAT, nsid=nsid, cdw10=fid | sel << 8,
                                      cdw11=cdw11), data_in=data_in)

    def keep_alive(self):
        return self.execute(build_sqe(ADM_KEEP_ALIVE))

    # -- I/O ----------------------------------------------------------------------------------------

    def _nlb(self, nbytes):
        if nbytes % self.lba_size or not nbytes:
            raise ValueError("%d bytes is not a whole number of %d-byte blocks" %
                             (nbytes, self.lba_size))
        return nbytes // self.lba_size

    def rw_sqe(self, opcode, nsid, slba, nlb, cdw13=0):
        return build_sqe(opcode, nsid=nsid, cdw10=slba & 0xFFFFFFFF, cdw11=slba >> 32,
                         cdw12=(nlb - 1) & 0xFFFF, cdw13=cdw13)

    def submit_read(self, nsid, slba, nlb):
        return self.submit(self.rw_sqe(IO_READ, nsid, slba, nlb),
                           data_in=nlb * self.lba_size)

    def read(self, nsid, slba, nlb):
        return self.wait(self.submit_read(nsid, slba, nlb))

    def submit_write(self, nsid, slba, data, incapsule=None, **kw):
        return self.submit(self.rw_sqe(IO_WRITE, nsid, slba, self._nlb(len(data))),
                           data_out=data, incapsule=incapsule, **kw)

    def write(self, nsid, slba, data, incapsule=None, **kw):
        return self.wait(self.submit_write(nsid, slba, data, incapsule, **kw))

    def write_zeroes(self, nsid, slba, nlb):
        return self.execute(self.rw_sqe(IO_WRITE_ZEROES, nsid, slba, nlb))

    def flush(self, nsid):
        return self.execute(build_sqe(IO_FLUSH, nsid=nsid))

    def submit_append(self, nsid, zslba, data, incapsule=None):
        return self.submit(self.rw_sqe(IO_ZONE_APPEND, nsid, zslba, self._nlb(len(data))),
                           data_out=data, incapsule=incapsule)

    def zone_append(self, nsid, zslba, data, incapsule=None):
        """Zone Append; the assigned LBA is Completion.result (64 bits)."""
        return self.wait(self.submit_append(nsid, zslba, data, incapsule))

    def zone_mgmt_send(self, nsid, slba, zsa, select_all=False, zsaso=False):
        return self.execute(build_sqe(IO_ZONE_SEND, nsid=nsid, cdw10=slba & 0xFFFFFFFF,
                                      cdw11=slba >> 32,
                                      cdw13=zsa | (1 << 8 if select_all else 0) |
                                      (1 << 9 if zsaso else 0)))

    def zone_mgmt_recv(self, nsid, slba=0, nbytes=4096, zra=0, zrasf=0, partial=False):
        """Zone Management Receive; Completion.report is the parsed report."""
        cpl = self.execute(build_sqe(IO_ZONE_RECV, nsid=nsid, cdw10=slba & 0xFFFFFFFF,
                                     cdw11=slba >> 32, cdw12=nbytes // 4 - 1,
                                     cdw13=zra | zrasf << 8 | (1 << 16 if partial else 0)),
                           data_in=nbytes)
        cpl.report = parse_zone_report(cpl.data) if cpl.ok else None
        return cpl

    def report_zones(self, nsid, slba=0, zrasf=0, partial=False, nbytes=4096):
        """(NRZ, [ZoneDesc]) or NvmeError."""
        cpl = self.zone_mgmt_recv(nsid, slba, nbytes, 0, zrasf, partial).check("report zones")
        return cpl.report


# ---- Parsers ---------------------------------------------------------------------------------------

def cstr(b):
    """An ASCII field: up to the first NUL, trailing spaces removed."""
    return bytes(b).split(b"\0", 1)[0].decode("ascii", "replace").rstrip(" ")


def parse_id_ctrl(d):
    u16 = lambda o: struct.unpack_from("<H", d, o)[0]
    u32 = lambda o: struct.unpack_from("<I", d, o)[0]
    return {
        "vid": u16(0), "sn": cstr(d[4:24]), "mn": cstr(d[24:64]), "fr": cstr(d[64:72]),
        "mdts": d[77], "cntlid": u16(78), "ver": u32(80), "ctratt": u32(96),
        "cntrltype": d[111], "oacs": u16(256), "acl": d[258], "aerl": d[259],
        "frmw": d[260], "lpa": d[261], "elpe": d[262], "kas": u16(320),
        "sqes": d[512], "cqes": d[513], "maxcmd": u16(514), "nn": u32(516),
        "oncs": u16(520), "vwc": d[525], "sgls": u32(536), "subnqn": cstr(d[768:1024]),
        "ioccsz": u32(1792), "iorcsz": u32(1796), "icdoff": u16(1800),
        "fcatt": d[1802], "msdbd": d[1803],
    }


def parse_id_ns(d):
    nsze, ncap, nuse = struct.unpack_from("<QQQ", d, 0)
    flbas = d[26]
    lbaf = [struct.unpack_from("<HBB", d, 128 + 4 * i) for i in range(d[25] + 1)]
    ds = lbaf[flbas & 0xF][1]
    return {"nsze": nsze, "ncap": ncap, "nuse": nuse, "nlbaf": d[25], "flbas": flbas,
            "dlfeat": d[33], "nguid": bytes(d[104:120]), "lbaf": lbaf,
            "lba_size": 1 << ds if ds else 0}


def parse_id_ns_zns(d):
    zoc, ozcs, mar, mor, rrl, frl = struct.unpack_from("<HHIIII", d, 0)
    zsze, zdes = struct.unpack_from("<QB", d, 2816)
    return {"zoc": zoc, "ozcs": ozcs, "mar": mar, "mor": mor, "rrl": rrl, "frl": frl,
            "zsze": zsze, "zdes": zdes}


def parse_desc_list(d):
    """[(nidt, value bytes)] of a Namespace Identification Descriptor list."""
    out, off = [], 0
    while off + 4 <= len(d):
        nidt, nidl = d[off], d[off + 1]
        if nidt == 0:
            break
        out.append((nidt, bytes(d[off + 4:off + 4 + nidl])))
        off += 4 + nidl
    return out


def parse_ns_list(d):
    out = []
    for i in range(0, len(d), 4):
        nsid = struct.unpack_from("<I", d, i)[0]
        if not nsid:
            break
        out.append(nsid)
    return out


class ZoneDesc:
    def __init__(self, raw):
        self.zt = raw[0] & 0xF
        self.zs = raw[1] >> 4
        self.za = raw[2]
        self.zai = raw[3]
        self.zcap, self.zslba, self.wp = struct.unpack_from("<QQQ", raw, 8)

    state = property(lambda self: ZS_NAMES.get(self.zs, "zs%#x" % self.zs))

    def __repr__(self):
        return "<zone %#x %s wp=%#x cap=%d>" % (self.zslba, self.state, self.wp, self.zcap)


class ZoneReport:
    def __init__(self, nrz, zones):
        self.nrz = nrz
        self.zones = zones

    def __iter__(self):		# nrz, zones = report
        return iter((self.nrz, self.zones))


def parse_zone_report(d):
    nrz = struct.unpack_from("<Q", d, 0)[0]
    n = min(nrz, (len(d) - 64) // 64)
    return ZoneReport(nrz, [ZoneDesc(d[64 + 64 * i:128 + 64 * i]) for i in range(n)])


def parse_disc_log(d):
    genctr, numrec, recfmt = struct.unpack_from("<QQH", d, 0)
    entries = []
    for i in range(numrec):
        e = d[1024 + 1024 * i:2048 + 1024 * i]
        if len(e) < 1024:
            break
        entries.append({
            "trtype": e[0], "adrfam": e[1], "subtype": e[2], "treq": e[3],
            "portid": struct.unpack_from("<H", e, 4)[0],
            "cntlid": struct.unpack_from("<H", e, 6)[0],
            "asqsz": struct.unpack_from("<H", e, 8)[0],
            "trsvcid": cstr(e[32:64]), "subnqn": cstr(e[256:512]),
            "traddr": cstr(e[512:768]), "tsas": bytes(e[768:1024]),
        })
    return {"genctr": genctr, "numrec": numrec, "recfmt": recfmt, "entries": entries}


# ---- Controller --------------------------------------------------------------------------------------

class Controller:
    """
    A host's view of one controller: the admin queue (ICReq, Connect with a
    dynamic controller ID), optional enable, and I/O queues bound to it.
    """

    def __init__(self, addr, port, subnqn, hostnqn=DEFAULT_HOSTNQN, kato=0,
                 hdgst=False, ddgst=False, hpda=0, sqsize=32, enable=True,
                 timeout=10.0, hostid=None):
        self.addr, self.port = addr, port
        self.subnqn, self.hostnqn, self.hostid = subnqn, hostnqn, hostid
        self.qopts = dict(hdgst=hdgst, ddgst=ddgst, hpda=hpda)
        self.timeout = timeout
        self.io = {}
        self.admin = Queue(addr, port, timeout)
        try:
            self.admin.icreq(**self.qopts)
            self.admin.connect(subnqn, hostnqn, qid=0, sqsize=sqsize, kato=kato,
                               hostid=hostid).check("Connect admin queue")
        except Exception:
            self.admin.close()
            raise
        self.cntlid = self.admin.cntlid
        self.cap = None
        self.id_ctrl = None
        if enable:
            self.enable()

    def enable(self, css=None):
        """CC.EN = 1 (CSS 110b when CAP.CSS bit 43 says so), wait for CSTS.RDY."""
        a = self.admin
        self.cap = a.prop_get(REG_CAP, size8=True).check("Property Get CAP").result
        if css is None:
            css = 6 if self.cap >> 43 & 1 else 0
        cc = 1 | css << 4 | 6 << 16 | 4 << 20
        a.prop_set(REG_CC, cc).check("Property Set CC")
        deadline = time.monotonic() + max(1, (self.cap >> 24 & 0xFF) * 0.5)
        while True:
            csts = a.prop_get(REG_CSTS).check("Property Get CSTS").dw0
            if csts & 2:
                raise NvmeError(Completion(0, 0), "CSTS.CFS set after CC.EN (CC %#x)" % cc)
            if csts & 1:
                break
            if time.monotonic() > deadline:
                raise TransportError("CSTS.RDY not set within CAP.TO")
            time.sleep(0.01)
        cpl = a.identify(1).check("Identify Controller")
        self.id_ctrl = parse_id_ctrl(cpl.data)
        return cc

    def io_queue(self, qid, sqsize=32, cattr=0, **qopts):
        opts = dict(self.qopts)
        opts.update(qopts)
        q = Queue(self.addr, self.port, self.timeout)
        try:
            q.icreq(**opts)
            if self.id_ctrl:
                q.inline_max = self.id_ctrl["ioccsz"] * 16 - 64
            q.connect(self.subnqn, self.hostnqn, qid=qid, sqsize=sqsize,
                      cntlid=self.cntlid, cattr=cattr,
                      hostid=self.hostid).check("Connect I/O queue %d" % qid)
        except Exception:
            q.close()
            raise
        self.io[qid] = q
        return q

    def close(self):
        for q in self.io.values():
            q.close()
        self.admin.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def random_bytes(n, seed=None):
    """Test data: random, or a recognisable pattern from @seed."""
    if seed is None:
        return os.urandom(n)
    pat = struct.pack("<IQ", seed & 0xFFFFFFFF, seed * 0x9E3779B97F4A7C15 & (2**64 - 1))
    pat = (pat * ((n // len(pat)) + 1))[:n]
    return pat
