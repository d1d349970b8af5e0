#!/usr/bin/env python3
"""Client workload of the multi-point capture lab (docs/lab.md).

One worker thread per client address makes HTTP and HTTPS requests (with a
request id in the URL and in an X-Request-ID header), several on kept-alive
connections, each connection preceded by a DNS query for the service name
through the NATs; with --udp-only it makes DNS queries only.

Everything it does is logged as JSON lines (--log), with wall-clock times in
ns (time.time_ns, the same clock the captures use) and, per request, the
TCP stream offsets of the request and of the response on the wire:

  c2s_off / c2s_len  bytes of the client->server stream carrying the request
  s2c_off / s2c_len  bytes of the server->client stream carrying the response

Offsets count from the first payload byte of the connection (relative TCP
sequence number = offset + 1).  For HTTPS they are ciphertext offsets: the
client runs TLS over memory BIOs and feeds the server's records one at a time,
so it knows which TLS records carried the request and the response.

Also: --make-files DIR writes the lab's deterministic content (1 KB .. 1 MB).
Standard library only.
"""

import argparse
import json
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

SIZES = [("1k", 1024), ("4k", 4096), ("16k", 16384), ("64k", 65536), ("256k", 262144), ("1m", 1048576)]


def parse_size(s):
    s = s.strip().lower()
    mult = {"k": 1024, "m": 1048576}.get(s[-1:], 1)
    return int(s[:-1] if s[-1:] in "km" else s) * mult


def file_content(name, size):
    """Deterministic, incompressible bytes: the same for every run."""
    return random.Random("mpl-lab:" + name).randbytes(size)


def make_files(directory, max_size):
    os.makedirs(directory, exist_ok=True)
    for label, size in SIZES:
        if size <= max_size:
            with open(os.path.join(directory, label + ".bin"), "wb") as f:
                f.write(file_content(label + ".bin", size))
            print(label, size)


# ---------------------------------------------------------------- logging

class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, rec):
        with self.lock:
            self.f.write(json.dumps(rec, sort_keys=True) + "\n")


# ---------------------------------------------------------------- DNS

QTYPES = {"A": 1, "AAAA": 28, "TXT": 16, "MX": 15, "CNAME": 5}
QTYPE_NAMES = {v: k for k, v in QTYPES.items()}


class DnsIds:
    """Run-wide unique DNS ids (the truth keys DNS packets by id + question)."""

    def __init__(self, rng):
        self.rng = rng
        self.used = set()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            while True:
                q = self.rng.randrange(1, 65536)
                if q not in self.used:
                    self.used.add(q)
                    return q


def dns_build(qid, qname, qtype):
    q = b"".join(bytes([len(p)]) + p.encode() for p in qname.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", QTYPES[qtype], 1)


def dns_skip_name(data, off):
    while True:
        n = data[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def dns_parse(data):
    qid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", data[:12])
    off = 12
    for _ in range(qd):
        off = dns_skip_name(data, off) + 4
    answers = []
    for _ in range(an):
        off = dns_skip_name(data, off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[off:off + 10])
        off += 10
        rdata = data[off:off + rdlen]
        off += rdlen
        if rtype == 1 and rdlen == 4:
            answers.append(socket.inet_ntop(socket.AF_INET, rdata))
        elif rtype == 28 and rdlen == 16:
            answers.append(socket.inet_ntop(socket.AF_INET6, rdata))
        else:
            answers.append(QTYPE_NAMES.get(rtype, str(rtype)))
    return qid, flags & 0xF, answers


def dns_query(ctx, worker, qname, qtype, tries=3, timeout=1.0):
    """One query; on time-out retried with a NEW id (each id is sent once)."""
    fam = socket.AF_INET6 if ":" in ctx.dns else socket.AF_INET
    for attempt in range(1, tries + 1):
        qid = ctx.ids.take()
        s = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            s.bind((worker.addr, 0))
            s.settimeout(timeout)
            sport = s.getsockname()[1]
            t0 = time.time_ns()
            s.sendto(dns_build(qid, qname, qtype), (ctx.dns, 53))
            rec = {"type": "dns", "worker": worker.index, "src": worker.addr, "sport": sport,
                   "dst": ctx.dns, "dport": 53, "qid": qid, "qname": qname, "qtype": qtype,
                   "attempt": attempt, "start_ns": t0}
            try:
                while True:
                    data, _ = s.recvfrom(4096)
                    rid, rcode, answers = dns_parse(data)
                    if rid == qid:
                        break
                rec.update(end_ns=time.time_ns(), ok=True, rcode=rcode, answers=answers)
                ctx.log.write(rec)
                return answers
            except socket.timeout:
                rec.update(end_ns=time.time_ns(), ok=False, error="timeout")
                ctx.log.write(rec)
        finally:
            s.close()
    return None


# ---------------------------------------------------------------- HTTP(S) over a socket we control

class Conn:
    """One TCP connection, plain or TLS (memory BIOs), with wire offsets."""

    def __init__(self, ctx, worker, scheme, dst, tls_max=None):
        self.ctx, self.worker, self.scheme = ctx, worker, scheme
        fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
        self.port = 443 if scheme == "https" else 80
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.bind((worker.addr, 0))
        self.sock.settimeout(15)
        self.local_port = self.sock.getsockname()[1]
        self.dst = dst
        self.sent = 0          # wire bytes sent (c2s stream offset of the next byte)
        self.recvd = 0         # wire bytes consumed (s2c stream offset of the next record/byte)
        self.rbuf = b""        # TLS: received wire bytes not yet fed
        self.pending = []      # (wire_start, wire_end, plaintext)
        self.tls = None
        self.tls_version = None
        self.t_connect = time.time_ns()
        self.sock.connect((dst, self.port))
        self.t_connected = time.time_ns()
        if scheme == "https":
            sctx = ssl.create_default_context(cafile=ctx.cafile)
            if tls_max is not None:
                sctx.maximum_version = tls_max
            self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = sctx.wrap_bio(self.inc, self.out, server_hostname=ctx.name)
            while True:
                try:
                    self.tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    self._flush()
                    if not self._feed_one_record(allow_plain=False):
                        raise ConnectionError("TLS handshake: connection closed")
            self._flush()
            self.tls_version = self.tls.version()
        self.t_ready = time.time_ns()

    def _flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)
            self.sent += len(data)
        return len(data)

    def _recv_more(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            return False
        self.rbuf += chunk
        return True

    def _feed_one_record(self, allow_plain=True):
        """TLS: feed exactly one complete record; decrypted bytes go to pending."""
        while len(self.rbuf) < 5 or len(self.rbuf) < 5 + struct.unpack(">H", self.rbuf[3:5])[0]:
            if not self._recv_more():
                return False
        n = 5 + struct.unpack(">H", self.rbuf[3:5])[0]
        rec, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        start = self.recvd
        self.recvd += n
        self.inc.write(rec)
        if allow_plain:
            plain = b""
            while True:
                try:
                    p = self.tls.read(1 << 20)
                except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                    break
                if not p:
                    break
                plain += p
            if plain:
                self.pending.append((start, self.recvd, plain))
            self._flush()   # e.g. a KeyUpdate answer
        return True

    def send(self, data):
        """Returns (wire offset, wire length) of what carried data."""
        start = self.sent
        if self.tls is None:
            self.sock.sendall(data)
            self.sent += len(data)
        else:
            self.tls.write(data)
            self._flush()
        return start, self.sent - start

    def _next_plain(self):
        if self.pending:
            return self.pending.pop(0)
        while not self.pending:
            if self.tls is None:
                chunk = self.sock.recv(262144)
                if not chunk:
                    raise ConnectionError("connection closed by server")
                start = self.recvd
                self.recvd += len(chunk)
                return start, self.recvd, chunk
            if not self._feed_one_record():
                raise ConnectionError("connection closed by server")
        return self.pending.pop(0)

    def read_response(self):
        """Returns (status, body_len, wire_start, wire_end)."""
        buf = b""
        wire_start = None
        # pieces: (wire_start, wire_end, plain_len) to map the response end to the wire
        pieces = []
        header_end = None
        total = None
        status = None
        while True:
            ws, we, plain = self._next_plain()
            if wire_start is None:
                wire_start = ws
            pieces.append((ws, we, len(buf), len(plain)))
            buf += plain
            if header_end is None:
                i = buf.find(b"\r\n\r\n")
                if i >= 0:
                    header_end = i + 4
                    head = buf[:i].decode("latin-1").split("\r\n")
                    status = int(head[0].split()[1])
                    clen = 0
                    for h in head[1:]:
                        k, _, v = h.partition(":")
                        if k.strip().lower() == "content-length":
                            clen = int(v.strip())
                    total = header_end + clen
            if total is not None and len(buf) >= total:
                break
        if len(buf) > total:
            raise ConnectionError("unexpected bytes after the response")
        # The wire byte that carried the last response byte.
        last = total - 1
        for ws, we, pstart, plen in pieces:
            if pstart <= last < pstart + plen:
                wire_end = (ws + (last - pstart) + 1) if self.tls is None else we
                break
        return status, total - header_end, wire_start, wire_end, buf[header_end:]

    def close(self):
        if self.tls is not None:
            try:
                self.tls.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
            try:
                self._flush()
            except OSError:
                pass
        self.sock.close()


# ---------------------------------------------------------------- workers

class Worker:
    def __init__(self, index, addr):
        self.index, self.addr = index, addr


class Ctx:
    pass


def http_worker(ctx, worker):
    rng = random.Random("%s-%d" % (ctx.seed, worker.index))
    n = 0
    conn_no = 0
    pattern = [1, 3, 2, 1, 4, 2]          # requests per connection
    failures = 0
    while n < ctx.requests:
        per_conn = min(pattern[conn_no % len(pattern)], ctx.requests - n)
        scheme = "https" if (conn_no + worker.index) % 3 != 0 else "http"
        tls_max = None
        if scheme == "https":
            tls_max = ssl.TLSVersion.TLSv1_2 if (conn_no // 3) % 2 else None
        conn_id = "w%02dk%03d" % (worker.index, conn_no)
        conn_no += 1
        qtype = "AAAA" if ctx.family == 6 else "A"
        answers = dns_query(ctx, worker, ctx.name, qtype)
        dst = answers[0] if answers else ctx.vip
        crec = {"type": "conn", "conn": conn_id, "worker": worker.index, "scheme": scheme,
                "src": worker.addr, "dst": dst}
        try:
            c = Conn(ctx, worker, scheme, dst, tls_max)
        except (OSError, ssl.SSLError, ConnectionError) as e:
            crec.update(ok=False, error=repr(e), t_ns=time.time_ns())
            ctx.log.write(crec)
            failures += 1
            n += per_conn
            continue
        crec.update(sport=c.local_port, dport=c.port, connect_start_ns=c.t_connect,
                    connected_ns=c.t_connected, ready_ns=c.t_ready, tls=c.tls_version)
        for k in range(per_conn):
            label, size = ctx.sizes[(n + worker.index * 2) % len(ctx.sizes)]
            rid = "c%02dr%04d" % (worker.index, n)
            path = "/f/%s.bin?rid=%s" % (label, rid)
            req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mpl-lab-client/1\r\n"
                   "X-Request-ID: %s\r\nAccept: */*\r\n\r\n" % (path, ctx.name, rid)).encode()
            rec = {"type": "http", "rid": rid, "conn": conn_id, "worker": worker.index,
                   "scheme": scheme, "tls": c.tls_version, "src": worker.addr, "sport": c.local_port,
                   "dst": dst, "dport": c.port, "req_on_conn": k, "path": path, "size": size}
            t0 = time.time_ns()
            try:
                off, ln = c.send(req)
                status, blen, ws, we, body = c.read_response()
                rec.update(start_ns=t0, end_ns=time.time_ns(), status=status, body_bytes=blen,
                           c2s_off=off, c2s_len=ln, req_plain_len=len(req), s2c_off=ws, s2c_len=we - ws,
                           ok=(status == 200 and blen == size
                               and body == ctx.content[label]))
            except (OSError, ssl.SSLError, ConnectionError) as e:
                rec.update(start_ns=t0, end_ns=time.time_ns(), ok=False, error=repr(e))
                ctx.log.write(rec)
                failures += 1
                n += per_conn - k
                break
            ctx.log.write(rec)
            failures += 0 if rec["ok"] else 1
            n += 1
            time.sleep(rng.uniform(0.0, 0.03) + ctx.pause)
        crec.update(close_ns=time.time_ns(), c2s_bytes=c.sent, s2c_bytes=c.recvd, ok=True)
        c.close()
        ctx.log.write(crec)
        time.sleep(rng.uniform(0.0, 0.05))
    return failures


def dns_worker(ctx, worker):
    rng = random.Random("%s-dns-%d" % (ctx.seed, worker.index))
    names = [(ctx.name, "A"), (ctx.name, "AAAA"), ("api.example.test", "A"),
             ("txt.example.test", "TXT"), ("example.test", "MX"), ("nx.example.test", "A")]
    failures = 0
    for n in range(ctx.requests):
        qname, qtype = names[(n + worker.index) % len(names)]
        if dns_query(ctx, worker, qname, qtype) is None:
            failures += 1
        time.sleep(rng.uniform(0.0, 0.02) + ctx.pause)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--make-files", metavar="DIR")
    ap.add_argument("--max-size", default="1m")
    ap.add_argument("--log")
    ap.add_argument("--addrs", help="comma-separated client source addresses, one worker each")
    ap.add_argument("--requests", type=int, default=12, help="per worker")
    ap.add_argument("--name", default="shop.example.test")
    ap.add_argument("--dns", help="DNS server (public VIP)")
    ap.add_argument("--vip", help="fallback if DNS fails (default: none, the request fails)")
    ap.add_argument("--cafile")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--udp-only", action="store_true")
    ap.add_argument("--pause-ms", type=float, default=0.0,
                    help="extra pause after each request or query (a longer workload)")
    args = ap.parse_args()
    max_size = parse_size(args.max_size)
    if args.make_files:
        make_files(args.make_files, max_size)
        return 0
    ctx = Ctx()
    ctx.log = Log(args.log)
    ctx.requests, ctx.name, ctx.dns, ctx.cafile = args.requests, args.name, args.dns, args.cafile
    ctx.seed = args.seed
    ctx.pause = args.pause_ms / 1000.0
    ctx.vip = args.vip
    ctx.family = 6 if ":" in args.dns else 4
    ctx.ids = DnsIds(random.Random("ids-" + args.seed))
    ctx.sizes = [(l, s) for l, s in SIZES if s <= max_size]
    ctx.content = {l: file_content(l + ".bin", s) for l, s in ctx.sizes}
    workers = [Worker(i, a) for i, a in enumerate(args.addrs.split(","))]
    results = {}

    def run(w):
        try:
            results[w.index] = (dns_worker if args.udp_only else http_worker)(ctx, w)
        except Exception as e:            # keep the others going; reported below
            results[w.index] = "crash: %r" % (e,)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = {k: v for k, v in results.items() if v != 0}
    print("client: %d worker(s), %.2f s, failures: %s" % (len(workers), time.time() - t0, bad or "none"))
    return 1 if any(isinstance(v, str) for v in bad.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
