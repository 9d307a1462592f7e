"""The fields each check kind takes in an exercise file: the file format's side of the check
kinds, which `ckaprep.grading.checks` implements (one implementation per kind named here).

The validator reads this table; grading registers each kind's implementation against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Fields every check has, whatever its kind.
COMMON_FIELDS = {"id", "kind", "title", "weight", "hint", "constraint"}
PROBE_VIAS = ("short", "namespaced", "fqdn", "clusterip", "env", "configmap")
CONFIGMAP_HOLDS = ("url", "address")  # what the task puts under a ConfigMap key the probe reads
RECORDS = ("service-fqdn", "srv-name", "srv-port", "pod-a-record")
TRAFFIC_EXPECTS = ("pass", "blocked")  # a connection NetworkPolicy lets through, or refuses
TRAFFIC_VIAS = ("short", "namespaced", "fqdn", "clusterip")
NODE_EXPECTS = ("local", "prefer-local", "answered")
TRAFFIC_FIELDS = ("internalTrafficPolicy", "trafficDistribution")


@dataclass(frozen=True)
class CheckFields:
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    choices: dict[str, tuple] = field(default_factory=dict)  # fields with a fixed set of values


def _fields(required=(), optional=(), choices=None) -> CheckFields:
    return CheckFields(frozenset(required), frozenset(optional), choices or {})


CHECK_FIELDS: dict[str, CheckFields] = {
    # answers
    "configmap_value": _fields(
        required={"configmap", "key"}, optional={"equals", "equals_cluster_ip_of", "matches", "namespace"}
    ),
    # constraints
    "deployment_unchanged": _fields(required={"deployment"}, optional={"namespace"}),
    "readiness_probe_present": _fields(required={"deployment"}, optional={"namespace", "path", "port"}),
    "pod_labels_kept": _fields(required={"deployment"}, optional={"namespace"}),
    "pod_containers": _fields(required={"image", "pod"}, optional={"command", "namespace"}),
    "object_unchanged": _fields(required={"object"}, optional={"allow", "namespace"}),
    # dns
    "headless_service": _fields(required={"service"}, optional={"namespace", "statefulset"}),
    "dns_a_record": _fields(
        required={"service"},
        optional={"backends", "expect", "namespace", "only_ready"},
        choices={"expect": ("ready-pods", "cluster-ip"), "only_ready": (True, False)},
    ),
    "dns_pod_names": _fields(required={"port", "service", "statefulset"}, optional={"namespace"}),
    "dns_answer": _fields(
        required={"configmap", "key", "record"},
        optional={
            "namespace",
            "pod",
            "pod_namespace",
            "port_name",
            "protocol",
            "service",
            "service_namespace",
            "trailing_dot",
        },
        choices={"record": RECORDS, "trailing_dot": (True, False)},
    ),
    # endpoints
    "ready_endpoints": _fields(required={"count", "service"}, optional={"namespace"}),
    "manual_endpoints": _fields(
        required={"port", "service", "target_pod"}, optional={"namespace", "port_name", "target_namespace"}
    ),
    "pods_ready": _fields(required={"backends", "count"}, optional={"backends_namespace"}),
    # http_probes
    "http_probe": _fields(
        required={"service", "via"},
        optional={
            "backends",
            "backends_namespace",
            "configmap",
            "expect",
            "expect_body",
            "from_each_node",
            "from_namespace",
            "holds",
            "key",
            "namespace",
            "ports",
            "repeat",
            "through_selector",
        },
        choices={"via": PROBE_VIAS, "expect": ("reach", "dns-failure"), "holds": CONFIGMAP_HOLDS},
    ),
    # network
    "external_name": _fields(required={"service", "target_namespace", "target_service"}, optional={"namespace"}),
    "external_name_probe": _fields(
        required={"port", "service"}, optional={"backends", "backends_namespace", "namespace"}
    ),
    "udp_dns_probe": _fields(required={"port", "service"}, optional={"backends", "backends_namespace", "namespace"}),
    "static_cluster_ip": _fields(required={"offset", "service"}, optional={"namespace"}),
    "service_cidr_answer": _fields(required={"configmap", "key"}, optional={"namespace"}),
    # placement
    "traffic_probe": _fields(
        required={"expect"},
        optional={
            "backends",
            "cluster_dns",
            "from_each_node",
            "from_labels",
            "from_namespace",
            "namespace",
            "pod",
            "port",
            "service",
            "via",
        },
        choices={"expect": TRAFFIC_EXPECTS, "via": TRAFFIC_VIAS},
    ),
    "policy_allows_port": _fields(
        required={"backends", "from_labels", "port", "service_port"},
        optional={"from_namespace", "namespace", "protocol"},
    ),
    "dns_egress_allowed": _fields(required={"client"}, optional={"namespace"}),
    "node_traffic": _fields(
        required={"expect", "port", "service"}, optional={"namespace", "requests"}, choices={"expect": NODE_EXPECTS}
    ),
    "traffic_field": _fields(
        required={"field", "service", "value"}, optional={"namespace"}, choices={"field": TRAFFIC_FIELDS}
    ),
    "node_answer": _fields(required={"configmap", "key", "pods"}, optional={"namespace", "pods_namespace"}),
    # service_links
    "env_vars": _fields(required={"pod", "service"}, optional={"namespace", "port_name"}),
    # service_shape
    "service_type": _fields(required={"service"}, optional={"namespace", "type"}),
    "service_selector": _fields(required={"backends", "service"}, optional={"namespace"}),
    "service_port": _fields(
        required={"port", "service"}, optional={"backends", "name", "namespace", "protocol", "target_port"}
    ),
    "no_selector": _fields(required={"service"}, optional={"namespace"}),
    # traffic
    "session_affinity": _fields(required={"service"}, optional={"namespace", "timeout"}),
    "affinity_probe": _fields(required={"backends", "port", "service"}, optional={"namespace", "requests"}),
    "track_endpoints": _fields(required={"service", "tracks"}, optional={"namespace"}),
    "track_probe": _fields(required={"port", "service", "tracks"}, optional={"namespace"}),
}
