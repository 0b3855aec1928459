"""A minimal Kafka client in the Python standard library, for the chaos suite only.

It speaks just enough of the wire protocol to
  * find partition leaders (Metadata),
  * produce arbitrary records, null keys and non-UTF-8 bytes included (Produce, record batch v2,
    no idempotence: the junk producer must be able to write what no real client would),
  * read a partition back from its log start (Fetch), with the broker's timestamps,
  * create a topic with given configs (CreateTopics) and delete a partition's records up to an
    offset (DeleteRecords, what kafka-delete-records.sh does),
so the runner needs neither a JVM start per lookup nor a Rust build for the junk producer, and
the checker can replay the real log. Plaintext, no compression, no transactions.
"""
import socket
import struct

API_PRODUCE = 0
API_FETCH = 1
API_LIST_OFFSETS = 2
API_METADATA = 3
API_VERSIONS = 18
API_CREATE_TOPICS = 19
API_DELETE_RECORDS = 21
ERR_OFFSET_OUT_OF_RANGE = 1
CLIENT_ID = b"kafka_lock-chaos"


class KafkaError(Exception):
    pass


# ---- encoding helpers --------------------------------------------------------------------
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


def zigzag(n):
    return uvarint((n << 1) ^ (n >> 63))


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(b)) + b


def compact_string(s):
    if s is None:
        return b"\x00"
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def record_batch(records, timestamp_ms):
    """records: list of (key bytes|None, value bytes|None). Magic 2, no producer id."""
    body = bytearray()
    for i, (key, value) in enumerate(records):
        r = bytearray(b"\x00")  # attributes
        r += zigzag(0)  # timestamp delta
        r += zigzag(i)  # offset delta
        r += zigzag(-1) if key is None else zigzag(len(key)) + key
        r += zigzag(-1) if value is None else zigzag(len(value)) + value
        r += zigzag(0)  # headers
        body += zigzag(len(r)) + r
    after_crc = struct.pack(">hiqqqhii", 0, len(records) - 1, timestamp_ms, timestamp_ms, -1, -1, -1, len(records))
    after_crc += body
    head = struct.pack(">i", 0) + struct.pack(">b", 2)  # partition leader epoch, magic
    crc = struct.pack(">I", crc32c(after_crc))
    batch_len = len(head) + len(crc) + len(after_crc)
    return struct.pack(">qi", 0, batch_len) + head + crc + after_crc


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise KafkaError("short response")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def remaining(self):
        return len(self.data) - self.pos

    def int8(self):
        return struct.unpack(">b", self.take(1))[0]

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uint32(self):
        return struct.unpack(">I", self.take(4))[0]

    def int64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self):
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    def varint(self):
        v = self.uvarint()
        return (v >> 1) ^ -(v & 1)

    def string(self):
        n = self.int16()
        return None if n < 0 else self.take(n).decode()

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


# ---- connection --------------------------------------------------------------------------
class Connection:
    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.corr = 0
        self.versions = self._api_versions()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise KafkaError("connection closed by the broker")
            buf += chunk
        return bytes(buf)

    def call(self, api, version, body, flexible=False):
        self.corr += 1
        header = struct.pack(">hhi", api, version, self.corr) + string(CLIENT_ID)
        if flexible:
            header += b"\x00"
        msg = header + body
        self.sock.sendall(struct.pack(">i", len(msg)) + msg)
        size = struct.unpack(">i", self._recv(4))[0]
        r = Reader(self._recv(size))
        if r.int32() != self.corr:
            raise KafkaError("correlation id mismatch")
        if flexible:
            r.tagged_fields()
        return r

    def _api_versions(self):
        r = self.call(API_VERSIONS, 0, b"")
        err = r.int16()
        if err:
            raise KafkaError("ApiVersions error %d" % err)
        out = {}
        for _ in range(r.int32()):
            key, lo, hi = r.int16(), r.int16(), r.int16()
            out[key] = (lo, hi)
        return out

    def pick(self, api, wanted):
        lo, hi = self.versions.get(api, (1, 0))
        for v in wanted:
            if lo <= v <= hi:
                return v
        raise KafkaError("no supported version of api %d in %s (broker: %d..%d)" % (api, wanted, lo, hi))

    # -- Metadata (v12, flexible) --
    def metadata(self, topic):
        """-> {"brokers": {id: (host, port)}, "partitions": {p: {"leader", "replicas", "isr", "error"}}, "error"}"""
        v = self.pick(API_METADATA, [12, 11, 10, 9])
        body = uvarint(2)  # one topic
        if v >= 10:
            body += b"\x00" * 16  # topic id: zero uuid
        body += compact_string(topic) + b"\x00"  # name, tags
        body += b"\x00"  # allow_auto_topic_creation
        if v <= 10:
            body += b"\x00"  # include_cluster_authorized_operations
        body += b"\x00\x00"  # include_topic_authorized_operations, tags
        r = self.call(API_METADATA, v, body, flexible=True)
        r.int32()  # throttle
        brokers = {}
        for _ in range(r.uvarint() - 1):
            node, host, port = r.int32(), r.compact_string(), r.int32()
            r.compact_string()
            r.tagged_fields()
            brokers[node] = (host, port)
        r.compact_string()  # cluster id
        r.int32()  # controller
        out = {"brokers": brokers, "partitions": {}, "error": 0}
        for _ in range(r.uvarint() - 1):
            err = r.int16()
            name = r.compact_string()
            if v >= 10:
                r.take(16)
            r.int8()  # is_internal
            parts = {}
            for _ in range(r.uvarint() - 1):
                perr, idx, leader, _epoch = r.int16(), r.int32(), r.int32(), r.int32()
                replicas = [r.int32() for _ in range(r.uvarint() - 1)]
                isr = [r.int32() for _ in range(r.uvarint() - 1)]
                [r.int32() for _ in range(r.uvarint() - 1)]  # offline
                r.tagged_fields()
                parts[idx] = {"leader": leader, "replicas": replicas, "isr": isr, "error": perr}
            r.int32()  # authorized operations
            r.tagged_fields()
            if name == topic:
                out["error"] = err
                out["partitions"] = parts
        return out

    # -- Produce (v3..v8, non-flexible) --
    def produce(self, topic, partition, records, acks=-1, timeout_ms=10000, timestamp_ms=0):
        """records: [(key|None, value|None)] as bytes. -> (error_code, base_offset, log_append_time)"""
        v = self.pick(API_PRODUCE, [8, 7, 6, 5, 4, 3])
        batch = record_batch(records, timestamp_ms)
        body = struct.pack(">h", -1)  # transactional id: null
        body += struct.pack(">hi", acks, timeout_ms)
        body += struct.pack(">i", 1) + string(topic)
        body += struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(batch)) + batch
        r = self.call(API_PRODUCE, v, body)
        result = None
        for _ in range(r.int32()):
            r.string()
            for _ in range(r.int32()):
                _idx, err, base, t = r.int32(), r.int16(), r.int64(), r.int64()
                if v >= 5:
                    r.int64()  # log start offset
                if v >= 8:
                    for _ in range(r.int32()):
                        r.int32()
                        r.string()
                    r.string()
                result = (err, base, t)
        return result

    # -- Fetch (v4..v11, non-flexible) --
    def fetch(self, topic, partition, offset, max_bytes=4 << 20, max_wait_ms=0):
        """-> (error_code, high_watermark, [records]) ; record = dict(offset, timestamp, ts_type, key, value)"""
        err, hw, _log_start, recs = self.fetch_ex(topic, partition, offset, max_bytes, max_wait_ms)
        return err, hw, recs

    def fetch_ex(self, topic, partition, offset, max_bytes=4 << 20, max_wait_ms=0):
        """fetch, and the partition's log start offset: -> (error, high watermark, log start,
        [records]). An offset below the log start gives ERR_OFFSET_OUT_OF_RANGE (records deleted)."""
        v = self.pick(API_FETCH, [11, 10, 9, 8, 7, 6, 5, 4])
        body = struct.pack(">iiii", -1, max_wait_ms, 1, max_bytes)
        body += struct.pack(">b", 0)  # read uncommitted (no transactions here)
        if v >= 7:
            body += struct.pack(">ii", 0, -1)  # session id, epoch: full fetch, no session
        body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1)
        body += struct.pack(">i", partition)
        if v >= 9:
            body += struct.pack(">i", -1)  # current leader epoch
        body += struct.pack(">q", offset)
        if v >= 5:
            body += struct.pack(">q", -1)  # log start offset
        body += struct.pack(">i", max_bytes)
        if v >= 7:
            body += struct.pack(">i", 0)  # forgotten topics
        if v >= 11:
            body += string("")  # rack id
        r = self.call(API_FETCH, v, body)
        r.int32()  # throttle
        if v >= 7:
            err = r.int16()
            r.int32()  # session id
            if err:
                return err, -1, -1, []
        out = (0, -1, -1, [])
        for _ in range(r.int32()):
            r.string()
            for _ in range(r.int32()):
                _idx, err, hw = r.int32(), r.int16(), r.int64()
                r.int64()  # last stable offset
                log_start = r.int64() if v >= 5 else -1
                n = r.int32()
                for _ in range(max(n, 0)):
                    r.int64()
                    r.int64()
                if v >= 11:
                    r.int32()  # preferred read replica
                size = r.int32()
                data = r.take(size) if size > 0 else b""
                out = (err, hw, log_start, decode_batches(data, offset))
        return out

    # -- ListOffsets (v2, non-flexible) --
    def log_start(self, topic, partition):
        """The partition's log start offset (ListOffsets, EARLIEST)."""
        v = self.pick(API_LIST_OFFSETS, [2])
        body = struct.pack(">ib", -1, 0) + struct.pack(">i", 1) + string(topic)
        body += struct.pack(">i", 1) + struct.pack(">iq", partition, -2)
        r = self.call(API_LIST_OFFSETS, v, body)
        r.int32()  # throttle
        for _ in range(r.int32()):
            r.string()
            for _ in range(r.int32()):
                _idx, err, _ts, off = r.int32(), r.int16(), r.int64(), r.int64()
                if err:
                    raise KafkaError("ListOffsets %s-%d: error %d" % (topic, partition, err))
                return off
        raise KafkaError("ListOffsets %s-%d: no answer" % (topic, partition))

    # -- CreateTopics (v4, non-flexible) --
    def create_topic(self, topic, partitions, replication_factor, configs, timeout_ms=10000):
        """-> (error_code, error_message). configs: {name: value}."""
        v = self.pick(API_CREATE_TOPICS, [4])
        body = struct.pack(">i", 1) + string(topic) + struct.pack(">ih", partitions, replication_factor)
        body += struct.pack(">i", 0)  # no manual assignment
        body += struct.pack(">i", len(configs))
        for k, val in configs.items():
            body += string(k) + string(str(val))
        body += struct.pack(">ib", timeout_ms, 0)  # timeout, validate_only false
        r = self.call(API_CREATE_TOPICS, v, body)
        r.int32()  # throttle
        result = (-1, "no answer for the topic")
        for _ in range(r.int32()):
            name, err, msg = r.string(), r.int16(), r.string()
            if name == topic:
                result = (err, msg)
        return result

    # -- DeleteRecords (v1, non-flexible) --
    def delete_records(self, topic, offsets, timeout_ms=10000):
        """Deletes every record below offsets[partition] (this broker must lead each partition).
        -> {partition: (error_code, low_watermark)}"""
        v = self.pick(API_DELETE_RECORDS, [1])
        body = struct.pack(">i", 1) + string(topic) + struct.pack(">i", len(offsets))
        for part, off in sorted(offsets.items()):
            body += struct.pack(">iq", part, off)
        body += struct.pack(">i", timeout_ms)
        r = self.call(API_DELETE_RECORDS, v, body)
        r.int32()  # throttle
        out = {}
        for _ in range(r.int32()):
            r.string()
            for _ in range(r.int32()):
                part, low, err = r.int32(), r.int64(), r.int16()
                out[part] = (err, low)
        return out


def decode_batches(data, min_offset):
    r = Reader(data)
    out = []
    while r.remaining() >= 12:
        base = r.int64()
        blen = r.int32()
        if blen > r.remaining():
            break  # partial batch at the end of a fetch
        b = Reader(r.take(blen))
        b.int32()  # leader epoch
        magic = b.int8()
        if magic != 2:
            raise KafkaError("record batch magic %d" % magic)
        b.uint32()
        attrs = b.int16()
        last_delta = b.int32()
        base_ts = b.int64()
        max_ts = b.int64()
        b.int64()
        b.int16()
        b.int32()
        count = b.int32()
        if attrs & 0x07:
            # Compressed: not decoded here; reported so the caller can see it and go on.
            out.append({"offset": base + last_delta, "first_offset": base, "undecodable": "codec %d" % (attrs & 7),
                        "count": count, "timestamp": max_ts, "key": None, "value": None, "log_append": bool(attrs & 8)})
            continue
        if attrs & 0x20:
            continue  # control batch
        log_append = bool(attrs & 0x08)
        for _ in range(count):
            b.varint()  # length
            b.int8()
            ts_delta = b.varint()
            off_delta = b.varint()
            klen = b.varint()
            key = None if klen < 0 else b.take(klen)
            vlen = b.varint()
            value = None if vlen < 0 else b.take(vlen)
            for _ in range(b.varint()):
                b.take(b.varint())
                hv = b.varint()
                if hv > 0:
                    b.take(hv)
            off = base + off_delta
            if off < min_offset:
                continue
            out.append({
                "offset": off,
                "timestamp": max_ts if log_append else base_ts + ts_delta,
                "log_append": log_append,
                "key": key,
                "value": value,
            })
    return out


def murmur2(data):
    """Kafka's murmur2 (the Java client's default partitioner; the extension's too)."""
    m, length = 0x5BD1E995, len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail, rest = length & ~3, length % 4
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key, partitions):
    """The partition of a lock: (murmur2(identifier) & 0x7fffffff) % partitions."""
    return (murmur2(key.encode() if isinstance(key, str) else key) & 0x7FFFFFFF) % partitions


def split(address):
    host, _, port = address.rpartition(":")
    return host or "localhost", int(port)


def cluster_metadata(bootstrap, topic, timeout=5.0):
    """Metadata from the first bootstrap address that answers."""
    last = None
    for addr in bootstrap.split(","):
        try:
            with Connection(*split(addr), timeout=timeout) as c:
                return c.metadata(topic)
        except (OSError, KafkaError, struct.error) as e:
            last = e
    raise KafkaError("no broker of %s answered: %s" % (bootstrap, last))


def leader_of(bootstrap, topic, partition, timeout=5.0):
    md = cluster_metadata(bootstrap, topic, timeout)
    p = md["partitions"].get(partition)
    if p is None:
        raise KafkaError("topic %s partition %d unknown" % (topic, partition))
    return p["leader"], p, md["brokers"]


def read_partition(bootstrap, topic, partition, timeout=10.0, start=0, info=None):
    """Every record of a partition, from `start` (or its log start, when records below were
    deleted) to the high watermark, from its leader. info (a dict), if given, gets the
    partition's "log_start" and "high_watermark"."""
    leader, _p, brokers = leader_of(bootstrap, topic, partition, timeout)
    if leader < 0 or leader not in brokers:
        raise KafkaError("partition %s-%d has no leader" % (topic, partition))
    host, port = brokers[leader]
    out = []
    with Connection(host, port, timeout=timeout) as c:
        offset = start
        while True:
            err, hw, log_start, recs = c.fetch_ex(topic, partition, offset)
            if err == ERR_OFFSET_OUT_OF_RANGE:
                first = c.log_start(topic, partition)
                if offset < first:
                    offset = first
                    continue
            if err:
                raise KafkaError("fetch %s-%d at %d: error %d" % (topic, partition, offset, err))
            if info is not None:
                info["log_start"], info["high_watermark"] = log_start, hw
            out.extend(recs)
            if recs:
                offset = recs[-1]["offset"] + 1
            if offset >= hw or not recs:
                if offset < hw and not recs:
                    # Only control batches or a gap: step over it.
                    offset += 1
                    continue
                break
    return out


def partition_leaders(bootstrap, topic, timeout=5.0):
    """-> {partition: (host, port) of its leader}"""
    md = cluster_metadata(bootstrap, topic, timeout)
    out = {}
    for part, p in md["partitions"].items():
        if p["leader"] < 0 or p["leader"] not in md["brokers"]:
            raise KafkaError("partition %s-%d has no leader" % (topic, part))
        out[part] = md["brokers"][p["leader"]]
    return out


def create_topic(bootstrap, topic, partitions, configs, replication_factor=-1, timeout=10.0):
    """Creates `topic` with `configs` ({name: value}) and waits until every partition has a
    leader. Raises KafkaError if the broker refuses."""
    with Connection(*split(bootstrap.split(",")[0]), timeout=timeout) as c:
        err, msg = c.create_topic(topic, partitions, replication_factor, configs, int(timeout * 1000))
    if err:
        raise KafkaError("CreateTopics %s: error %d %s" % (topic, err, msg))
    import time
    deadline = time.monotonic() + timeout
    while True:
        md = cluster_metadata(bootstrap, topic, timeout)
        parts = md["partitions"]
        if len(parts) == partitions and all(p["leader"] >= 0 for p in parts.values()):
            return
        if time.monotonic() > deadline:
            raise KafkaError("topic %s has no leaders after %.0f s" % (topic, timeout))
        time.sleep(0.05)


def delete_records(bootstrap, topic, offsets, timeout=10.0):
    """DeleteRecords: every record of partition p below offsets[p]. -> {partition: (error,
    low watermark)}."""
    leaders = partition_leaders(bootstrap, topic, timeout)
    by_leader = {}
    for part, off in offsets.items():
        by_leader.setdefault(leaders[part], {})[part] = off
    out = {}
    for addr, offs in by_leader.items():
        with Connection(*addr, timeout=timeout) as c:
            out.update(c.delete_records(topic, offs, int(timeout * 1000)))
    return out


class Producer:
    """Produces to the partition's leader; reconnects (and re-finds the leader) on error."""

    def __init__(self, bootstrap, topic, timeout=5.0):
        self.bootstrap, self.topic, self.timeout = bootstrap, topic, timeout
        self.conns = {}

    def send(self, partition, records):
        try:
            c = self.conns.get(partition)
            if c is None:
                leader, _p, brokers = leader_of(self.bootstrap, self.topic, partition, self.timeout)
                c = Connection(*brokers[leader], timeout=self.timeout)
                self.conns[partition] = c
            res = c.produce(self.topic, partition, records)
            if res is None or res[0] != 0:
                self.drop(partition)
            return res
        except (OSError, KafkaError, struct.error, KeyError) as e:
            self.drop(partition)
            return (-1, -1, str(e))

    def drop(self, partition):
        c = self.conns.pop(partition, None)
        if c:
            c.close()

    def close(self):
        for p in list(self.conns):
            self.drop(p)
