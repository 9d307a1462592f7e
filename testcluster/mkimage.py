#!/usr/bin/env python3
"""Write a single-layer container image as a docker-archive tarball.

The result is what `docker save` produces and what
`ctr images import` reads: manifest.json, an image config and one layer.
Only local files go in; nothing is downloaded. Output is reproducible
(fixed mtimes and owners), so an unchanged recipe gives the same image ID.

Usage:
  mkimage.py --ref registry.example/name:tag --out image.tar \
      [--entrypoint '["/bin/x"]'] [--cmd '["sh"]'] [--env K=V]... \
      [--file SRC:DST]... [--symlink TARGET:LINK]... [--dir PATH]...
"""
import argparse
import hashlib
import io
import json
import os
import tarfile


def _parents(path):
    parts = path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        yield "/".join(parts[:i])


def build_layer(files, symlinks, dirs):
    """Return the uncompressed layer tar as bytes."""
    entries = {}  # path inside the image (no leading slash) -> TarInfo (+ data)

    def add_dir(path):
        path = path.strip("/")
        if path and path not in entries:
            info = tarfile.TarInfo(path)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if path == "tmp" else 0o755
            entries[path] = (info, None)

    for d in dirs:
        for p in _parents(d + "/x"):
            add_dir(p)
    for src, dst in files:
        for p in _parents(dst):
            add_dir(p)
        with open(src, "rb") as f:
            data = f.read()
        info = tarfile.TarInfo(dst.strip("/"))
        info.size = len(data)
        info.mode = os.stat(src).st_mode & 0o7777
        entries[dst.strip("/")] = (info, data)
    for target, link in symlinks:
        for p in _parents(link):
            add_dir(p)
        info = tarfile.TarInfo(link.strip("/"))
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
        entries[link.strip("/")] = (info, None)

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            info, data = entries[path]
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", required=True, help="full image reference, e.g. docker.io/library/busybox:1.36.1")
    ap.add_argument("--out", required=True)
    ap.add_argument("--entrypoint", type=json.loads, default=None)
    ap.add_argument("--cmd", type=json.loads, default=None)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--workdir", default="")
    ap.add_argument("--file", action="append", default=[], help="SRC:DST")
    ap.add_argument("--symlink", action="append", default=[], help="TARGET:LINK")
    ap.add_argument("--dir", action="append", default=[])
    a = ap.parse_args()

    files = [tuple(s.split(":", 1)) for s in a.file]
    symlinks = [tuple(s.split(":", 1)) for s in a.symlink]
    layer = build_layer(files, symlinks, a.dir)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()

    env = a.env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": env, "Entrypoint": a.entrypoint, "Cmd": a.cmd, "WorkingDir": a.workdir},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "ckaprep testcluster mkimage.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id.split(":", 1)[1] + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [a.ref], "Layers": [layer_name]}]

    tmp = a.out + ".tmp"
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ((config_name, config_bytes), (layer_name, layer),
                           ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
