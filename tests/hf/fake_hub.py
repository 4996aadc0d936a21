#!/usr/bin/env python3
"""A stand-in for a Hugging Face-compatible hub, for the pull tests.

Serves the repos given as ORG/NAME=FOLDER on 127.0.0.1 only, with the parts
of the hub's file API that `starfire pull` uses:
  GET  /api/models/ORG/NAME[/revision/REV]   -> {"id", "sha", "siblings": [...]}
  HEAD /ORG/NAME/resolve/REV/FILE             -> 302 with X-Linked-Etag (sha256) and
                                                 X-Linked-Size for "LFS" files (*.safetensors,
                                                 *.gguf); 200 with ETag = git blob sha1 otherwise
  GET  /ORG/NAME/resolve/REV/FILE             -> the bytes; Range: bytes=N- answered with 206
Faults for the tests:
  --drop FILE     the first GET of FILE sends half the body, then closes the connection
  --bad-sha FILE  FILE is advertised with a wrong sha256
Prints the port on its first line, then logs "METHOD PATH RANGE" lines to --log.
Stops by itself after --lifetime seconds.
"""
import argparse
import hashlib
import http.server
import json
import os
import sys
import threading

LFS_SUFFIXES = (".safetensors", ".gguf", ".bin")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repos", nargs="+", help="ORG/NAME=FOLDER")
    ap.add_argument("--drop", action="append", default=[])
    ap.add_argument("--bad-sha", action="append", default=[])
    ap.add_argument("--log", default=os.devnull)
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    repos = dict(r.split("=", 1) for r in args.repos)
    dropped = set()
    log = open(args.log, "a", buffering=1)
    lock = threading.Lock()

    def files_of(folder):
        out = []
        for root, _, names in os.walk(folder):
            for n in sorted(names):
                p = os.path.join(root, n)
                out.append(os.path.relpath(p, folder))
        return sorted(out)

    def sha256(p, name):
        h = hashlib.sha256(open(p, "rb").read()).hexdigest()
        return "0" * 64 if name in args.bad_sha else h

    def git_sha1(p):
        data = open(p, "rb").read()
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body=b"", headers=()):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def route(self):
            path = self.path.split("?", 1)[0]
            with lock:
                log.write("%s %s %s\n" % (self.command, path, self.headers.get("Range", "-")))
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) >= 4:
                repo = "/".join(parts[2:4])
                if repo not in repos:
                    return self.send(404, b'{"error": "Repository not found"}')
                folder = repos[repo]
                sib = []
                for f in files_of(folder):
                    p = os.path.join(folder, f)
                    e = {"rfilename": f, "size": os.path.getsize(p)}
                    if f.endswith(LFS_SUFFIXES):
                        e["lfs"] = {"sha256": sha256(p, f), "size": os.path.getsize(p)}
                    sib.append(e)
                body = json.dumps({"id": repo, "sha": "0123456789abcdef0123456789abcdef01234567",
                                   "siblings": sib}).encode()
                return self.send(200, body, [("Content-Type", "application/json")])
            if len(parts) >= 5 and parts[2] == "resolve":
                repo, name = "/".join(parts[:2]), "/".join(parts[4:])
                p = os.path.join(repos.get(repo, "/nonexistent"), name)
                if repo not in repos or not os.path.isfile(p) or ".." in name:
                    return self.send(404, b"Entry not found")
                size = os.path.getsize(p)
                lfs = name.endswith(LFS_SUFFIXES)
                if self.command == "HEAD":
                    if lfs:
                        return self.send(302, b"", [("X-Linked-Etag", '"%s"' % sha256(p, name)),
                                                    ("X-Linked-Size", str(size)),
                                                    ("Location", "/cdn/" + repo + "/" + name)])
                    return self.send(200, b"", [("ETag", '"%s"' % git_sha1(p))])
                return self.serve_file(p, name, size)
            if parts[:1] == ["cdn"] and len(parts) >= 4:
                repo, name = "/".join(parts[1:3]), "/".join(parts[3:])
                p = os.path.join(repos.get(repo, "/nonexistent"), name)
                if not os.path.isfile(p):
                    return self.send(404, b"")
                return self.serve_file(p, name, os.path.getsize(p))
            return self.send(404, b"")

        def serve_file(self, p, name, size):
            data = open(p, "rb").read()
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0])
                if start >= size:
                    return self.send(416, b"", [("Content-Range", "bytes */%d" % size)])
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
            else:
                self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(size - start))
            self.end_headers()
            body = data[start:]
            if name in args.drop and name not in dropped:
                dropped.add(name)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

        do_GET = route
        do_HEAD = route

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    threading.Timer(args.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
