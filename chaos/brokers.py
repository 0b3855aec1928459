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
  cluster       node n (1..3): broker n*10000+B, controller n*10000+B+1
Data and logs: .run/chaos/single/, .run/chaos/cluster/nodeN/ (server.log, stdout.log).
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

    @property
    def address(self):
        return "localhost:%d" % self.port

    def render(self):
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(self.logs, exist_ok=True)
        with open(TEMPLATE) as f:
            text = f.read()
        for k, v in {"@NODE_ID@": str(self.node_id), "@BROKER_PORT@": str(self.port),
                     "@CONTROLLER_PORT@": str(self.cport), "@VOTERS@": self.voters, "@RF@": str(self.rf),
                     "@MIN_ISR@": str(self.min_isr), "@LOG_DIR@": os.path.join(self.dir, "data")}.items():
            text = text.replace(k, v)
        # java.util.Properties: a key given again later wins.
        text += "\n# chaos suite overrides\n" + self.extra
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

    def launch(self):
        for p in (self.port, self.cport):
            if port_answers(p):
                raise RuntimeError("port %d is in use by another process" % p)
        for n in ("server.log", "stdout.log"):
            p = os.path.join(self.logs, n)
            if os.path.exists(p):
                os.replace(p, p + ".prev")
        out = open(os.path.join(self.logs, "stdout.log"), "wb")
        proc = subprocess.Popen(java_cmd(self.logs) + ["-cp", LIBS + "/*", "kafka.Kafka", self.props],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
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
        self.nodes = {n: Node("chaos cluster node %d" % n, os.path.join(folder, "node%d" % n), n,
                              n * 10000 + base, n * 10000 + base + 1, voters, 3, 2) for n in (1, 2, 3)}
        self.folder = folder

    @property
    def bootstrap(self):
        return ",".join(n.address for n in self.nodes.values())

    def start(self):
        cid = cluster_id(self.folder)
        started = False
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
