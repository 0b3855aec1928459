"""A TCP proxy that can be cut: while cut, it forwards nothing in either direction and keeps
every connection open (a black hole, as a network partition looks to TCP: no reset, requests
just time out). Healing delivers what was held back, like a partition that heals."""
import select
import socket
import threading
import time


class Proxy:
    def __init__(self, listen_port, target_port, host="localhost"):
        self.listen_port, self.target_port, self.host = listen_port, target_port, host
        self.cut = threading.Event()
        self.stop = threading.Event()
        self.conns = []
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((host, listen_port))
        self.srv.listen(64)
        self.srv.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                u = socket.create_connection((self.host, self.target_port), timeout=5)
            except OSError:
                c.close()
                continue
            self.conns.append((c, u))
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while not self.stop.is_set():
                if self.cut.is_set():
                    time.sleep(0.005)
                    continue
                r, _, _ = select.select([src], [], [], 0.05)
                if not r:
                    continue
                data = src.recv(65536)
                if not data:
                    break
                while self.cut.is_set() and not self.stop.is_set():
                    time.sleep(0.005)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        try:
            self.srv.close()
        except OSError:
            pass
        for c, u in self.conns:
            for s in (c, u):
                try:
                    s.close()
                except OSError:
                    pass
