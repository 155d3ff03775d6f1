"""connect_proxy.py - a small HTTP CONNECT proxy on loopback for the tests.

Standard library only.  It tunnels CONNECT host:port to loopback addresses
only (403 otherwise), optionally demands Basic credentials (407), and can
map a port that nothing listens on to the real one, so that a client
configured with the unused port reaches the server only through the proxy:
any request that goes around it fails.  Every tunnel is recorded.
"""
import base64
import select
import socket
import socketserver
import threading

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        px = self.server.proxy
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 16384:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        parts = lines[0].split()
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if len(parts) != 3 or parts[0] != "CONNECT":
            return self.reply(405, "only CONNECT")
        host, _, port = parts[1].rpartition(":")
        host = host.strip("[]")
        if host not in LOOPBACK or not port.isdigit():
            return self.reply(403, "loopback only")
        if px.credentials is not None:
            want = "Basic " + base64.b64encode(("%s:%s" % px.credentials).encode()).decode()
            if headers.get("proxy-authorization") != want:
                with px.lock:
                    px.refused += 1
                return self.reply(407, "credentials", 'Proxy-Authenticate: Basic realm="test"\r\n')
        port = px.port_map.get(int(port), int(port))
        try:
            up = socket.create_connection((host, port), timeout=10)
        except OSError:
            return self.reply(502, "upstream")
        with px.lock:
            px.tunnels.append((parts[1], port))
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.pump(up)

    def reply(self, code, text, extra=""):
        self.request.sendall(("HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n"
                              % (code, text, extra)).encode())

    def pump(self, up):
        a, b = self.request, up
        try:
            while True:
                r, _, _ = select.select([a, b], [], [], 30)
                if not r:
                    return
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            up.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ConnectProxy:
    def __init__(self, credentials=None, port_map=None):
        self.credentials = credentials
        self.port_map = dict(port_map or {})
        self.tunnels = []
        self.refused = 0
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.proxy = self
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def count(self):
        with self.lock:
            return len(self.tunnels)
