"""The images ckaprep uses are the ones the test cluster builds locally."""

from pathlib import Path

from ckaprep.catalogue.loading import load_catalogue
from ckaprep.cluster.images import BUSYBOX_IMAGE, COREDNS_IMAGE, CURL_IMAGE

VERSIONS = Path(__file__).parents[2] / "testcluster" / "versions.env"


def _pins() -> dict[str, str]:
    pins = {}
    for line in VERSIONS.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            pins[key.strip()] = value.strip()
    return pins


def test_probe_and_backend_images_match_the_test_cluster():
    pins = _pins()
    assert pins["BUSYBOX_IMAGE"] == BUSYBOX_IMAGE
    assert pins["CURL_IMAGE"] == CURL_IMAGE
    assert pins["COREDNS_IMAGE"] == COREDNS_IMAGE


def test_exercises_use_only_pinned_images():
    allowed = {BUSYBOX_IMAGE, CURL_IMAGE, COREDNS_IMAGE}
    for exercise in load_catalogue().values():
        params = exercise.choose_params(0)
        for manifest in exercise.setup_for(params):
            if manifest["kind"] not in ("Pod", "Deployment"):
                continue
            spec = manifest["spec"].get("template", {}).get("spec") or manifest["spec"]
            for container in spec["containers"]:
                assert container["image"] in allowed, (exercise.id, container["image"])
                assert not container["image"].endswith(":latest")
