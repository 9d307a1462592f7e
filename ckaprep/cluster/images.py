"""Pinned image references. They must match testcluster/versions.env, whose
locally built copies stand in for the registry on the project's test cluster."""

BUSYBOX_IMAGE = "docker.io/library/busybox:1.36.1"
CURL_IMAGE = "docker.io/curlimages/curl:8.11.1"
# A UDP server: busybox has none in every build (Debian's lacks nc -u and udpsvd), CoreDNS is
# one, and every cluster already runs it.
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.14.7"
