"""Pinned image references, and how a container runtime reads a reference.

The pinned references must match testcluster/versions.env, whose locally built copies stand
in for the registry on the project's test cluster."""

BUSYBOX_IMAGE = "docker.io/library/busybox:1.36.1"
CURL_IMAGE = "docker.io/curlimages/curl:8.11.1"
# A UDP server: busybox has none in every build (Debian's lacks nc -u and udpsvd), CoreDNS is
# one, and every cluster already runs it.
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.14.7"

DEFAULT_REGISTRY = "docker.io"


def normalized_image(reference: str) -> str:
    """An image reference as the container runtime reads it (containerd's normalized name):
    `busybox:1.36.1` and `docker.io/library/busybox:1.36.1` are one image, `library/x` is
    `docker.io/library/x`, a name without a tag means `:latest`, and a digest is kept as it is:
    no tag is added to it, and a tag written beside it is dropped, since the digest alone names
    the image (containerd's ParseDockerRef)."""
    ref = reference.strip()
    name, at, digest = ref.partition("@")
    tag = ""
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_REGISTRY, name
    if domain == "index.docker.io":
        domain = DEFAULT_REGISTRY
    if domain == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if at:
        tag = ""
    elif not tag:
        tag = "latest"
    return f"{domain}/{path}" + (f":{tag}" if tag else "") + (f"@{digest}" if at else "")


def same_image(a: str, b: str) -> bool:
    return normalized_image(a) == normalized_image(b)
