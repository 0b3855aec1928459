"""Private Kafka brokers for the chaos suite: one single node and one three-node cluster.

They are separate from `make kafka-start` / `make cluster-start` (other people's tests and
benchmarks use those on this machine, and this suite kills, pauses and restarts brokers), but
are made the same way: the same jars (.cache/kafka/libs), the same template
(kafka/server.properties.in), the same JVM options and log4j configuration as scripts/kafka.sh.

Ports (base B, default 9192):
  single node   broker B, controller B+1, and a second listener "CUT" on B+2 advertised as
                B+3, where chaos/run.py runs a TCP proxy it can cut (scenario 6: one client
                cut off from a live broker). Clients bootstrapping through B+3 get B+3 back
                as the broker's address, so all their traffic goes through the proxy.
  cluster       node n (1..3): broker n*10000+B, controller n*10000+B+1, and the same "CUT"
                listener on n*10000+B+2 advertised as n*10000+B+3 (the `skew` scenario cuts
                one client off from all three nodes through three proxies)
Data and logs: .run/chaos/single/, .run/chaos/cluster/nodeN/ (server.log, stdout.log).

A cluster node can run with its wall clock ahead (Cluster.start(skew={node: seconds})):
libfaketime (Debian package `faketime`) preloaded into its JVM with FAKETIME="+Ns", the
monotonic clock left alone (the JVM's timers and System.nanoTime stay real), so the
LogAppendTime it stamps as partition leader is that much ahead of the other nodes'.
"""
import base64
import os
import signal
import subprocess
import time
import uuid

import kafkaproto

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBS = os.path.join(ROOT, ".cache", "kafka", "libs")
TEMPLATE = os.path.join(ROOT, "kafka", "server.properties.in")
LOG4J = os.path.join(ROOT, "kafka", "log4j2.properties")
RUN = os.path.join(ROOT, ".run", "chaos")
RETENTION_CHECK_MS = 1000
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def faketime_env(seconds):
    """The environment that sets a JVM's wall clock `seconds` ahead (libfaketime 0.9.10). Only
    CLOCK_REALTIME (System.currentTimeMillis, hence LogAppendTime) is faked: with the monotonic
    clock faked too the JVM hangs (libfaketime's README). FAKETIME_FORCE_MONOTONIC_FIX=0: with
    the fix (on by default with this glibc) every timed wait of the JVM (parkNanos,
    Object.wait: pthread_cond_timedwait on CLOCK_MONOTONIC) returns at once, and a broker
    spins on all its threads (measured: 10,000 times as many wake-ups; load average 30 on 2
    cores, the node never joined the cluster)."""
    if not seconds:
        return {}
    return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": "%+gs" % seconds, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_FORCE_MONOTONIC_FIX": "0"}

HEAP = os.environ.get("KAFKA_HEAP_OPTS", "-Xms128m -Xmx256m").split()
JVM = os.environ.get("KAFKA_JVM_OPTS", "-XX:+UseSerialGC -XX:-UsePerfData -Xss512k -XX:+ExitOnOutOfMemoryError").split()


def java_cmd(logs):
    return ["java"] + HEAP + JVM + ["-Djava.awt.headless=true", "-Dlog4j2.configurationFile=" + LOG4J,
                                    "-Dkafka.logs.dir=" + logs]


def port_answers(port):
    import socket
    s = socket.socket()
    s.settimeout(0.5)
    try:
        return s.connect_ex(("localhost", port)) == 0
    finally:
        s.close()


class Node:
    def __init__(self, name, folder, node_id, port, cport, voters, rf, min_isr, extra=""):
        self.name, self.dir, self.node_id = name, folder, node_id
        self.port, self.cport, self.voters = port, cport, voters
        self.rf, self.min_isr, self.extra = rf, min_isr, extra
        self.props = os.path.join(folder, "server.properties")
        self.logs = os.path.join(folder, "logs")
        self.paused = False
        self.env = {}  # extra environment of the JVM (faketime_env)

    @property
    def address(self):
        return "localhost:%d" % self.port

    def rendered(self):
        with open(TEMPLATE) as f:
            text = f.read()
        for k, v in {"@NODE_ID@": str(self.node_id), "@BROKER_PORT@": str(self.port),
                     "@CONTROLLER_PORT@": str(self.cport), "@VOTERS@": self.voters, "@RF@": str(self.rf),
                     "@MIN_ISR@": str(self.min_isr), "@LOG_DIR@": os.path.join(self.dir, "data")}.items():
            text = text.replace(k, v)
        # java.util.Properties: a key given again later wins.
        return text + "\n# chaos suite overrides\n" + self.extra

    def render(self):
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(self.logs, exist_ok=True)
        text = self.rendered()
        with open(self.props + ".new", "w") as f:
            f.write(text)
        os.replace(self.props + ".new", self.props)

    def format(self, cluster_id):
        if os.path.exists(os.path.join(self.dir, "data", "meta.properties")):
            return
        with open(os.path.join(self.logs, "format.log"), "w") as log:
            rc = subprocess.call(java_cmd(self.logs) + ["-cp", LIBS + "/*", "kafka.tools.StorageTool", "format",
                                                       "--cluster-id=" + cluster_id, "-c", self.props],
                                 stdout=log, stderr=log)
        if rc != 0:
            raise RuntimeError("formatting %s failed (see %s/format.log)" % (self.name, self.logs))

    def pid(self):
        try:
            with open(os.path.join(self.dir, "pid")) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if self.props.encode() in f.read():
                    return pid
        except (OSError, ValueError):
            pass
        return None

    def running(self):
        return self.pid() is not None

    def stale(self):
        """A running node whose configuration or clock is not what is wanted now (a cluster
        kept from an earlier run, or started for another scenario): it must be restarted."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            with open(self.props) as f:
                if f.read() != self.rendered():
                    return True
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = dict(x.split(b"=", 1) for x in f.read().split(b"\0") if b"=" in x)
        except OSError:
            return True
        want = {k.encode(): v.encode() for k, v in self.env.items()}
        return any(env.get(k) != want.get(k) for k in set(want) | {b"FAKETIME", b"LD_PRELOAD"})

    def launch(self):
        for p in (self.port, self.cport):
            if port_answers(p):
                raise RuntimeError("port %d is in use by another process" % p)
        for n in ("server.log", "stdout.log"):
            p = os.path.join(self.logs, n)
            if os.path.exists(p):
                os.replace(p, p + ".prev")
        out = open(os.path.join(self.logs, "stdout.log"), "wb")
        env = dict(os.environ)
        for k in [k for k in env if k == "LD_PRELOAD" or k.startswith("FAKETIME")]:
            env.pop(k, None)
        env.update(self.env)
        if self.env.get("LD_PRELOAD") and not os.path.exists(self.env["LD_PRELOAD"]):
            raise RuntimeError("%s is missing: install the Debian package faketime (scripts/setup.sh)"
                               % self.env["LD_PRELOAD"])
        proc = subprocess.Popen(java_cmd(self.logs) + ["-cp", LIBS + "/*", "kafka.Kafka", self.props],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
        out.close()
        with open(os.path.join(self.dir, "pid"), "w") as f:
            f.write(str(proc.pid))
        self.proc = proc
        self.paused = False

    def ready(self, timeout=90.0, min_brokers=1):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            proc = getattr(self, "proc", None)
            if (proc is not None and proc.poll() is not None) or (proc is None and not self.running()):
                raise RuntimeError("%s exited while starting (see %s)" % (self.name, self.logs))
            try:
                with kafkaproto.Connection("localhost", self.port, timeout=3.0) as c:
                    md = c.metadata("__chaos_probe")
                if self.node_id in md["brokers"] and len(md["brokers"]) >= min_brokers:
                    return True
                last = "brokers %s" % sorted(md["brokers"])
            except Exception as e:  # noqa: BLE001 (any failure means: not yet)
                last = e
            time.sleep(0.1)
        raise RuntimeError("%s not ready after %.0f s: %s" % (self.name, timeout, last))

    def send_signal(self, sig):
        pid = self.pid()
        if pid:
            os.kill(pid, sig)
        return pid

    def pause(self):
        self.paused = True
        return self.send_signal(signal.SIGSTOP)

    def resume(self):
        self.paused = False
        return self.send_signal(signal.SIGCONT)

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        pid = self.pid()
        if not pid:
            return
        if self.paused:
            self.resume()
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            self._reap(pid)
            time.sleep(0.05)
        if os.path.exists("/proc/%d" % pid):
            os.kill(pid, signal.SIGKILL)
            while os.path.exists("/proc/%d" % pid):
                self._reap(pid)
                time.sleep(0.05)
        try:
            os.unlink(os.path.join(self.dir, "pid"))
        except OSError:
            pass

    @staticmethod
    def _reap(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    def kill(self):
        self.stop(signal.SIGKILL)


def new_cluster_id(randbytes=os.urandom):
    """A cluster id as Kafka's Uuid.randomUuid() makes one: a version 4 UUID as URL-safe base64
    without padding, drawn again while it starts with '-' (one draw in 64 does; Kafka never
    hands out such an id, and `StorageTool format -t -xyz` fails: "argument --cluster-id/-t:
    expected one argument"). scripts/kafka.sh uses this too (`brokers.py cluster-id`)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.UUID(bytes=randbytes(16), version=4).bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def cluster_id(folder):
    path = os.path.join(folder, "cluster.id")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        with open(path, "w") as f:
            f.write(new_cluster_id())
    with open(path) as f:
        return f.read().strip()


class Single:
    def __init__(self, base=9192):
        self.base = base
        folder = os.path.join(RUN, "single")
        self.cut_port, self.proxy_port = base + 2, base + 3
        extra = ("listeners=PLAINTEXT://localhost:%d,CONTROLLER://localhost:%d,CUT://localhost:%d\n"
                 "advertised.listeners=PLAINTEXT://localhost:%d,CUT://localhost:%d\n"
                 "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CUT:PLAINTEXT\n"
                 # The `retention` scenario's topic deletes records by size while locks are
                 # held: the broker applies retention every second, not every minute.
                 "log.retention.check.interval.ms=%d\n"
                 % (base, base + 1, self.cut_port, base, self.proxy_port, RETENTION_CHECK_MS))
        self.node = Node("chaos single node", folder, 1, base, base + 1, "1@localhost:%d" % (base + 1), 1, 1, extra)
        self.folder = folder

    @property
    def bootstrap(self):
        return self.node.address

    @property
    def proxied_bootstrap(self):
        return "localhost:%d" % self.proxy_port

    def start(self):
        n = self.node
        if n.running():
            if n.paused:
                n.resume()
            n.ready(timeout=60)
            return False
        n.render()
        n.format(cluster_id(self.folder))
        n.launch()
        n.ready()
        return True

    def stop(self):
        self.node.stop()


class Cluster:
    def __init__(self, base=9192):
        folder = os.path.join(RUN, "cluster")
        voters = ",".join("%d@localhost:%d" % (n, n * 10000 + base + 1) for n in (1, 2, 3))
        self.nodes = {}
        self.cut_ports, self.proxy_ports = {}, {}
        for n in (1, 2, 3):
            b = n * 10000 + base
            self.cut_ports[n], self.proxy_ports[n] = b + 2, b + 3
            extra = ("listeners=PLAINTEXT://localhost:%d,CONTROLLER://localhost:%d,CUT://localhost:%d\n"
                     "advertised.listeners=PLAINTEXT://localhost:%d,CUT://localhost:%d\n"
                     "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CUT:PLAINTEXT\n"
                     % (b, b + 1, b + 2, b, b + 3))
            self.nodes[n] = Node("chaos cluster node %d" % n, os.path.join(folder, "node%d" % n), n, b, b + 1,
                                 voters, 3, 2, extra)
        self.folder = folder

    @property
    def bootstrap(self):
        return ",".join(n.address for n in self.nodes.values())

    @property
    def proxied_bootstrap(self):
        """Bootstrap through the CUT listeners: clients get the proxies' ports as the brokers'."""
        return ",".join("localhost:%d" % self.proxy_ports[n] for n in sorted(self.nodes))

    def skewed(self):
        """-> {node: the FAKETIME offset its JVM was started with} (what runs now)."""
        return {n: node.env.get("FAKETIME") for n, node in self.nodes.items() if node.env.get("FAKETIME")}

    def start(self, skew=None):
        """Starts the nodes that are not running; skew: {node: seconds its wall clock is ahead}
        (faketime). A running node whose clock or configuration differs is restarted."""
        cid = cluster_id(self.folder)
        started = False
        for n, node in self.nodes.items():
            node.env = faketime_env((skew or {}).get(n))
            if node.stale():
                node.stop()
                started = True
        for n in self.nodes.values():
            if not n.running():
                n.render()
                n.format(cid)
        for n in self.nodes.values():
            if not n.running():
                n.launch()
                started = True
            elif n.paused:
                n.resume()
        for n in self.nodes.values():
            n.ready(min_brokers=3)
        return started

    def stop(self):
        import threading
        ts = [threading.Thread(target=n.stop) for n in self.nodes.values()]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def start_node(self, n):
        node = self.nodes[n]
        if not node.running():
            node.launch()
        node.ready()


if __name__ == "__main__":
    import sys
    if sys.argv[1:] != ["cluster-id"]:
        sys.exit("usage: brokers.py cluster-id   (prints a fresh Kafka cluster id)")
    print(new_cluster_id())
