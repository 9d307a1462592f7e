"""The Service range and the addresses in use, read through the cluster seam from the live
cluster, agree with what kubectl shows (ServiceCIDR and IPAddress, GA since 1.33)."""

from __future__ import annotations

import pytest

from ckaprep.cluster.kube import KubeCluster
from ckaprep.cluster.service_range import address_in_use, service_range

pytestmark = pytest.mark.second_config


def test_range_and_addresses_match_kubectl(kubeconfig, kubectl, namespace):
    cluster = KubeCluster(kubeconfig)
    found = service_range(cluster)
    shown = kubectl("get", "servicecidr", "kubernetes", "-o", "jsonpath={.spec.cidrs[0]}").stdout.strip()
    assert found.cidr == shown
    api_ip = kubectl("-n", "default", "get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}").stdout.strip()
    assert found.address(1) == api_ip and address_in_use(cluster, api_ip)
    # A high offset in the lower band, where nothing is handed out unasked.
    address = next(found.address(n) for n in range(240, 256) if not address_in_use(cluster, found.address(n)))
    kubectl("-n", namespace, "create", "service", "clusterip", "fixed", f"--clusterip={address}", "--tcp=80:80")
    assert address_in_use(cluster, address)
