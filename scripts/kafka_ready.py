#!/usr/bin/env python3
"""Wait until a Kafka broker answers a Metadata request (no dependencies).

Readiness is not a TCP connect: the broker must answer ApiVersions and then a
Metadata request whose response lists at least --min-brokers brokers.

usage: kafka_ready.py [--timeout 60] [--min-brokers 1] [--node-id N] [--log FILE]...
                      [--pid PID] [--quiet] [--tls-ca CA.pem [--tls-cert C.pem --tls-key K.pem]]
                      HOST:PORT

With --tls-ca the listener is spoken to over TLS (an SSL listener), verifying the broker's
certificate against CA.pem and, with --tls-cert/--tls-key, showing that client certificate
(a listener that requires one).

Exit 0 when ready, 1 on timeout (printing the last error and, with --log, the
tail of the broker's log to stderr).
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import time

API_METADATA = 3
API_VERSIONS = 18
CLIENT_ID = b"kafka_lock-ready"


class ProtocolError(Exception):
    pass


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ProtocolError("short response")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        shift = 0
        value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    def string(self):  # nullable STRING
        n = self.int16()
        return None if n < 0 else self.take(n).decode()

    def compact_string(self):  # nullable COMPACT_STRING
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ProtocolError("connection closed by the broker")
        buf += chunk
    return bytes(buf)


def call(sock, api_key, version, correlation_id, body, flexible):
    header = struct.pack(">hhi", api_key, version, correlation_id)
    header += struct.pack(">h", len(CLIENT_ID)) + CLIENT_ID
    if flexible:
        header += b"\x00"  # request header v2: empty tagged fields
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    r = Reader(recv_exact(sock, size))
    if r.int32() != correlation_id:
        raise ProtocolError("correlation id mismatch")
    return r


def metadata_version_range(sock):
    # ApiVersions v0: empty body, non-flexible response, understood by every broker.
    r = call(sock, API_VERSIONS, 0, 1, b"", flexible=False)
    err = r.int16()
    if err != 0:
        raise ProtocolError("ApiVersions error code %d" % err)
    for _ in range(r.int32()):
        key, lo, hi = r.int16(), r.int16(), r.int16()
        if key == API_METADATA:
            return lo, hi
    raise ProtocolError("broker does not list the Metadata API")


def metadata_brokers(sock, lo, hi):
    """Send a Metadata request for no topics; return [(node_id, host, port)]."""
    flexible_ok = [v for v in range(9, 13) if lo <= v <= hi]
    plain_ok = [v for v in range(1, 9) if lo <= v <= hi]
    if flexible_ok:
        v = max(flexible_ok)
        body = uvarint(1)  # topics: empty compact array (no topics)
        body += b"\x00"  # allow_auto_topic_creation = false
        if v <= 10:
            body += b"\x00"  # include_cluster_authorized_operations
        body += b"\x00"  # include_topic_authorized_operations
        body += b"\x00"  # tagged fields
        r = call(sock, API_METADATA, v, 2, body, flexible=True)
        r.tagged_fields()  # response header v1
        r.int32()  # throttle_time_ms
        brokers = []
        for _ in range(r.uvarint() - 1):
            node_id = r.int32()
            host = r.compact_string()
            port = r.int32()
            r.compact_string()  # rack
            r.tagged_fields()
            brokers.append((node_id, host, port))
        return brokers
    if plain_ok:
        v = max(plain_ok)
        body = struct.pack(">i", 0)  # topics: empty array (no topics)
        if v >= 4:
            body += b"\x00"  # allow_auto_topic_creation
        if v >= 8:
            body += b"\x00\x00"  # include cluster/topic authorized operations
        r = call(sock, API_METADATA, v, 2, body, flexible=False)
        if v >= 3:
            r.int32()  # throttle_time_ms
        brokers = []
        for _ in range(r.int32()):
            node_id = r.int32()
            host = r.string()
            port = r.int32()
            r.string()  # rack (v1+)
            brokers.append((node_id, host, port))
        return brokers
    raise ProtocolError("no supported Metadata version in [%d, %d]" % (lo, hi))


def probe(host, port, timeout, tls=None):
    with socket.create_connection((host, port), timeout=timeout) as raw:
        raw.settimeout(timeout)
        sock = tls.wrap_socket(raw, server_hostname=host) if tls else raw
        lo, hi = metadata_version_range(sock)
        return metadata_brokers(sock, lo, hi)


def tls_context(ca, cert, key):
    """A client TLS context trusting only CA (and showing CERT/KEY when given)."""
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read()[-64 * 1024:]
        return b"\n".join(data.splitlines()[-lines:]).decode(errors="replace")
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("address", help="HOST:PORT of a broker listener")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--min-brokers", type=int, default=1)
    ap.add_argument("--node-id", type=int,
                    help="also require this broker id in the list (the node itself is unfenced)")
    ap.add_argument("--log", action="append", default=[],
                    help="log file whose tail is printed on failure (repeatable)")
    ap.add_argument("--pid", type=int, help="give up early if this process dies")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--tls-ca", help="speak TLS, trusting this CA (PEM)")
    ap.add_argument("--tls-cert", help="client certificate (PEM), with --tls-ca")
    ap.add_argument("--tls-key", help="its private key (PEM)")
    args = ap.parse_args()
    if (args.tls_cert or args.tls_key) and not (args.tls_ca and args.tls_cert and args.tls_key):
        ap.error("--tls-cert and --tls-key go together, and need --tls-ca")
    tls = tls_context(args.tls_ca, args.tls_cert, args.tls_key) if args.tls_ca else None
    host, _, port = args.address.rpartition(":")
    host, port = host or "localhost", int(port)

    deadline = time.monotonic() + args.timeout
    last = "no attempt"
    while True:
        try:
            brokers = probe(host, port, timeout=5.0, tls=tls)
            ids = [b[0] for b in brokers]
            if args.node_id is not None and args.node_id not in ids:
                last = "broker %d not (yet) in the metadata (brokers %s)" % (args.node_id, ids)
            elif len(brokers) >= args.min_brokers:
                if not args.quiet:
                    print("ready: %s:%d lists %d broker(s): %s" % (
                        host, port, len(brokers),
                        ", ".join("%d@%s:%d" % b for b in sorted(brokers))))
                return 0
            else:
                last = "metadata lists %d broker(s), want %d" % (len(brokers), args.min_brokers)
        except (OSError, ProtocolError, struct.error) as e:  # ssl.SSLError is an OSError
            last = "%s: %s" % (type(e).__name__, e)
        if args.pid is not None:
            try:
                os.kill(args.pid, 0)
            except ProcessLookupError:
                last = "broker process %d exited (%s)" % (args.pid, last)
                break
            except PermissionError:
                pass
        if time.monotonic() >= deadline:
            last = "timeout after %.0f s (%s)" % (args.timeout, last)
            break
        time.sleep(0.1)

    print("kafka_ready: %s:%d not ready: %s" % (host, port, last), file=sys.stderr)
    for path in args.log:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            print("---- tail of %s ----" % path, file=sys.stderr)
            print(tail(path), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
