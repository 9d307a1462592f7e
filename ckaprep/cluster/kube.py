"""The real cluster, through the official kubernetes client.

Imported only by commands that need a cluster: `kubernetes` is slow to import,
and `--help` and `explain` must stay fast.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import socket
import ssl
import stat
import threading
import time
import warnings
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlencode

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL, websocket_call
from websocket import WebSocketBadStatusException, WebSocketException, WebSocketTimeoutException

from ckaprep.cluster import ALL_KINDS, ExecResult
from ckaprep.errors import (
    AlreadyExists,
    ClusterUnreachable,
    Conflict,
    CredentialsRejected,
    KubeconfigError,
    NoKubeconfig,
    NotFound,
    PermissionDenied,
    Refused,
    UsageError,
    one_line,
)

# A kubeconfig with insecure-skip-tls-verify: true is the learner's own choice; urllib3's
# two-line warning about it, on every request, would bury ckaprep's one-line messages.
warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)

REQUEST_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_ENV = "CKAPREP_REQUEST_TIMEOUT"
DEFAULT_KUBECONFIG = "~/.kube/config"
# The client's websocket reader cuts frames around this size; output this long may be cut.
EXEC_TRUNCATION_BYTES = 32 * 1024
# Client 37 builds requests with param_serialize and its call_api only sends them;
# 36 and older take the whole request in call_api and raise on an error status.
_CLASSIC_CALL_API = not hasattr(client.ApiClient, "param_serialize")


def _error_reason(exc: ApiException) -> str:
    """The Status's machine-readable reason (AlreadyExists, Conflict...), or "" when it has none."""
    try:
        return str(json.loads(exc.body).get("reason") or "")
    except (TypeError, ValueError, AttributeError):
        return ""


def _error_message(exc: ApiException) -> str:
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return str(exc.reason)


def request_timeout(environ: Mapping[str, str]) -> float:
    raw = environ.get(REQUEST_TIMEOUT_ENV)
    if not raw:
        return REQUEST_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value < 3600:
        raise UsageError(f"{REQUEST_TIMEOUT_ENV}={one_line(raw)!r} is not a number of seconds between 0 and 3600")
    return value


class KubeCluster:
    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        environ: Mapping[str, str] | None = None,
    ):
        environ = os.environ if environ is None else environ
        self._timeout_s = request_timeout(environ)
        self._configuration = client.Configuration()
        self._source = kubeconfig or environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG
        self._kubeconfig, self._environ = kubeconfig, environ
        if kubeconfig is None and not environ.get("KUBECONFIG") and not _exists(DEFAULT_KUBECONFIG):
            try:  # no kubeconfig at all: perhaps we run in a pod
                config.load_incluster_config(client_configuration=self._configuration)
            except ConfigException:
                raise NoKubeconfig(
                    f"no kubeconfig: {DEFAULT_KUBECONFIG} does not exist and KUBECONFIG is not set; "
                    "pass --kubeconfig PATH"
                ) from None
        else:
            self._load_kubeconfig(kubeconfig, context)
        # Fail fast on an unreachable server instead of retrying for a minute.
        self._configuration.retries = 0
        self._context = context
        self._local = threading.local()
        self._server_clock: tuple[datetime, float] | None = None  # (server Date, local monotonic then)
        self._clock_lock = threading.Lock()

    def _no_such_context(self, context: str | None) -> None:
        """A --context the kubeconfig does not have: say which contexts it has."""
        from ckaprep.cluster.contexts import context_names

        if context is None:
            return
        names = context_names(self._kubeconfig, self._environ)
        if context not in names:
            there = ", ".join(one_line(name) for name in names) if names else "none"
            raise KubeconfigError(
                f"no context {one_line(context)!r} in kubeconfig {one_line(self._source)}; "
                f"its contexts: {there} (see kubectl config get-contexts)"
            )

    def _load_kubeconfig(self, kubeconfig: str | None, context: str | None) -> None:
        source = one_line(self._source)
        if kubeconfig is not None:
            try:
                if os.path.isdir(kubeconfig):
                    raise KubeconfigError(f"kubeconfig {source} is a directory, not a file")
                if not os.path.exists(kubeconfig):
                    raise KubeconfigError(f"kubeconfig {source}: no such file")
                mode = os.stat(kubeconfig).st_mode
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):  # /dev/zero would be read for ever
                    raise KubeconfigError(f"kubeconfig {source} is a device, not a file")
            except (OSError, ValueError) as exc:
                raise KubeconfigError(f"kubeconfig {source}: {_os_problem(exc)}") from None
        elif not any(_exists(path) for path in self._source.split(os.pathsep)):
            raise NoKubeconfig(f"no kubeconfig: KUBECONFIG={source} names no file that exists")
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=self._configuration)
        except ConfigException as exc:
            self._no_such_context(context)
            raise KubeconfigError(f"kubeconfig {source}: {exc}") from None
        except yaml.YAMLError as exc:
            raise KubeconfigError(f"kubeconfig {source} is not valid YAML: {_yaml_problem(exc)}") from None
        except UnicodeDecodeError:
            raise KubeconfigError(f"kubeconfig {source} is not UTF-8 text") from None
        except OSError as exc:
            where = one_line(exc.filename) if exc.filename else source
            raise KubeconfigError(f"kubeconfig {where}: {_os_problem(exc)}") from None
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            # The client assumes a well-formed file: a list where a mapping belongs, bad base64, ...
            raise KubeconfigError(
                f"kubeconfig {source} is not a usable kubeconfig ({type(exc).__name__}: {exc})"
            ) from None
        self._check_tls_files()

    def _check_tls_files(self) -> None:
        """Load the certificates now, so a bad one is named instead of failing inside a request."""
        cfg, source = self._configuration, one_line(self._source)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if cfg.ssl_ca_cert:
            field = _field("certificate-authority", cfg.ssl_ca_cert)
            _require_pem(cfg.ssl_ca_cert, "CERTIFICATE", field, source)
            try:
                context.load_verify_locations(cafile=cfg.ssl_ca_cert)
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise KubeconfigError(
                    f"kubeconfig {source}: {field} is not a usable CA certificate ({_ssl_reason(exc)})"
                ) from None
        if cfg.cert_file or cfg.key_file:
            cert = _field("client-certificate", cfg.cert_file)
            key = _field("client-key", cfg.key_file)
            if not (cfg.cert_file and cfg.key_file):
                missing = key if cfg.cert_file else cert
                raise KubeconfigError(f"kubeconfig {source}: {missing} is missing")
            _require_pem(cfg.cert_file, "CERTIFICATE", cert, source)
            _require_pem(cfg.key_file, "PRIVATE KEY", key, source)
            try:
                context.load_cert_chain(cfg.cert_file, cfg.key_file)
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise KubeconfigError(
                    f"kubeconfig {source}: {cert} and {key} are not a usable certificate and key ({_ssl_reason(exc)})"
                ) from None

    def describe(self) -> str:
        return self._configuration.host

    def _whose(self) -> str:
        """`context kind-cka in kubeconfig ~/.kube/config`: whose credentials these are."""
        context = self._context
        if context is None:
            try:  # the kubeconfig's current context (read again: the client keeps no name)
                path = self._source.split(os.pathsep)[0]
                context = config.list_kube_config_contexts(config_file=os.path.expanduser(path))[1]["name"]
            except Exception:  # naming it is a courtesy: a kubeconfig from elsewhere (in a pod) has none
                context = None
        where = f"kubeconfig {one_line(self._source)}"
        return f"context {one_line(context)} in {where}" if context else where

    def unreachable(self, exc: BaseException, doing: str = "") -> ClusterUnreachable:
        """Say which network fault it was: refused, timed out, TLS, or something else."""
        host, source = one_line(self._configuration.host), one_line(self._source)
        chain = _causes(exc)
        doing = f" ({doing})" if doing else ""

        def first(*types):
            return next((e for e in chain if isinstance(e, types)), None)

        if cause := first(ssl.SSLCertVerificationError):
            return ClusterUnreachable(
                f"TLS problem with the cluster at {host}{doing}: its certificate cannot be verified "
                f"({_ssl_reason(cause)}); check certificate-authority-data in kubeconfig {source}",
                reached_server=False,
            )
        if cause := first(ssl.SSLError, urllib3.exceptions.SSLError):
            return ClusterUnreachable(
                f"TLS problem with the cluster at {host}{doing}: {_ssl_reason(cause)}; check "
                f"certificate-authority-data, client-certificate-data and client-key-data in kubeconfig {source}",
                reached_server=False,
            )
        refused = [e for e in chain if isinstance(e, OSError) and e.errno == errno.ECONNREFUSED]
        if refused or first(ConnectionRefusedError):
            return ClusterUnreachable(
                f"the cluster at {host} refused the connection{doing}; is the API server running, "
                f"and is the server in kubeconfig {source} right?",
                reached_server=False,
            )
        if cause := first(socket.gaierror):
            return ClusterUnreachable(
                f"cannot resolve the host name of the cluster at {host}{doing}: {one_line(cause.strerror or cause)}",
                reached_server=False,
            )
        timeouts = (TimeoutError, urllib3.exceptions.TimeoutError, WebSocketTimeoutException)
        # urllib3 2 files every failed connection under ConnectTimeoutError; only real timeouts count.
        if any(isinstance(e, timeouts) and not isinstance(e, urllib3.exceptions.NewConnectionError) for e in chain):
            return ClusterUnreachable(
                f"the cluster at {host} did not answer within {self._timeout_s:g} s{doing}; "
                f"is the server in kubeconfig {source} right? ({REQUEST_TIMEOUT_ENV} sets the limit)"
            )
        if (cause := first(OSError)) and cause.strerror:
            return ClusterUnreachable(f"cannot reach the cluster at {host}{doing}: {one_line(cause.strerror)}")
        cause = chain[-1]
        return ClusterUnreachable(
            f"cannot reach the cluster at {host}{doing}: {type(cause).__name__}: {one_line(cause)}"
        )

    def _api_client(self) -> client.ApiClient:
        # One ApiClient per thread: the client does not say it may be shared between threads.
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = client.ApiClient(self._configuration)
        return api

    def _call(self, method: str, path: str, *, query=None, body=None) -> dict | None:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        api = self._api_client()
        request = dict(query_params=query or [], header_params=headers, body=body, auth_settings=["BearerToken"])
        try:
            if _CLASSIC_CALL_API:
                response = api.call_api(
                    path,
                    method,
                    **request,
                    _preload_content=False,
                    _return_http_data_only=True,
                    _request_timeout=self._timeout_s,
                )
            else:
                serialized = api.param_serialize(method, path, **request)
                response = api.call_api(*serialized, _request_timeout=self._timeout_s).response
                if not 200 <= response.status <= 299:  # this call_api returns every status
                    raise ApiException(http_resp=response)
        except ApiException as exc:
            if exc.status == 404 and method in ("GET", "DELETE"):
                return None
            raise self._translate(exc, method, path) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self.unreachable(exc) from None
        self._note_server_date(getattr(response, "headers", None) or {})
        try:
            return json.loads(response.data or b"null")
        except ValueError:
            raise ClusterUnreachable(
                f"the server at {one_line(self.describe())} did not answer {method} {path} with "
                f"Kubernetes JSON; is it an API server? (kubeconfig {one_line(self._source)})"
            ) from None

    def _translate(self, exc: ApiException, method: str, path: str):
        message = _error_message(exc)
        if exc.status == 401:
            expired = _token_expired(self._bearer_token())
            if expired:
                return CredentialsRejected(expired)
            return CredentialsRejected(
                f"the cluster at {one_line(self._configuration.host)} rejected the credentials of "
                f"{self._whose()} ({message})"
            )
        if exc.status == 403:
            return PermissionDenied(f"permission denied: {message}")
        if exc.status in (404, 409, 422):  # a write the cluster refused as stated
            refused = {404: NotFound, 422: Refused}.get(exc.status)
            if refused is None:
                refused = AlreadyExists if _error_reason(exc) == "AlreadyExists" else Conflict
            return refused(f"the cluster refused {method} {path}: {message}")
        if exc.status == 0 or exc.status is None:
            return self.unreachable(exc)
        return ClusterUnreachable(f"{method} {path} failed with HTTP {exc.status}: {message}")

    @staticmethod
    def _path(kind: str, namespace: str | None, name: str | None = None) -> str:
        group, plural, namespaced = ALL_KINDS[kind]
        path = f"{group}/namespaces/{namespace}/{plural}" if namespaced and namespace else f"{group}/{plural}"
        return f"{path}/{name}" if name else path

    def version(self):
        return self._call("GET", "/version") or {}

    def server_time(self) -> datetime:
        if self._server_clock is None:
            self.version()
        if self._server_clock is None:  # a server that sends no Date header
            return datetime.now().astimezone()
        stamp, seen_at = self._server_clock
        return stamp + timedelta(seconds=time.monotonic() - seen_at)

    def _note_server_date(self, headers) -> None:
        """Keep the best estimate of the server's clock: Date has whole seconds, so the latest is best."""
        try:
            stamp = parsedate_to_datetime(headers.get("Date"))
        except (TypeError, ValueError, IndexError):
            return
        if stamp.tzinfo is None:
            return
        now = time.monotonic()
        with self._clock_lock:
            current = self._server_clock
            if current is None or stamp > current[0] + timedelta(seconds=now - current[1]):
                self._server_clock = (stamp, now)

    def can_i(self, verb, group, resource, subresource="", *, namespace):
        attributes = {"verb": verb, "group": group, "resource": resource, "subresource": subresource}
        if namespace:
            attributes["namespace"] = namespace
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        answer = self._call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review)
        return bool(((answer or {}).get("status") or {}).get("allowed"))

    def get(self, kind, namespace, name):
        return self._call("GET", self._path(kind, namespace, name))

    def list(self, kind, namespace, label_selector=""):
        query = [("labelSelector", label_selector)] if label_selector else []
        result = self._call("GET", self._path(kind, namespace), query=query)
        return (result or {}).get("items", [])

    def create(self, manifest):
        namespace = manifest.get("metadata", {}).get("namespace")
        return self._call("POST", self._path(manifest["kind"], namespace), body=manifest)

    def delete(self, kind, namespace, name):
        self._call("DELETE", self._path(kind, namespace, name))

    def replace(self, manifest):
        meta = manifest.get("metadata", {})
        return self._call("PUT", self._path(manifest["kind"], meta.get("namespace"), meta["name"]), body=manifest)

    def request_token(self, namespace, service_account, seconds):
        review = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": int(seconds)},
        }
        path = self._path("ServiceAccount", namespace, service_account) + "/token"
        status = (self._call("POST", path, body=review) or {}).get("status") or {}
        return {"token": status.get("token", ""), "expiration": status.get("expirationTimestamp")}

    def endpoint(self):
        cfg = self._configuration
        ca_pem = None
        if cfg.ssl_ca_cert:
            try:
                with open(cfg.ssl_ca_cert, encoding="ascii") as handle:
                    ca_pem = handle.read()
            except (OSError, ValueError) as exc:
                raise KubeconfigError(
                    f"kubeconfig {one_line(self._source)}: certificate-authority: {_os_problem(exc)}"
                ) from None
        return {"server": cfg.host, "ca_pem": ca_pem, "insecure": not cfg.verify_ssl}

    def _bearer_token(self) -> str:
        keys = self._configuration.api_key or {}
        value = keys.get("BearerToken") or keys.get("authorization") or ""  # the key differs across clients
        return value.removeprefix("Bearer ").strip()

    def service_account(self):
        claims = token_claims(self._bearer_token())
        account = (claims.get("kubernetes.io") or {}) if isinstance(claims, dict) else {}
        namespace, name = account.get("namespace"), (account.get("serviceaccount") or {}).get("name")
        if isinstance(namespace, str) and isinstance(name, str) and namespace and name:
            return namespace, name
        return None

    def exec(self, namespace, pod, argv, timeout):
        # The websocket call that stream() makes, without the generated CoreV1Api: in client 37
        # that module alone takes about a second to import and validate.
        query = [("command", arg) for arg in argv]
        query += [("stdin", "false"), ("stdout", "true"), ("stderr", "true"), ("tty", "false")]
        url = (
            f"{self._configuration.host}/api/v1/namespaces/{quote(namespace, safe='')}"
            f"/pods/{quote(pod, safe='')}/exec?{urlencode(query)}"
        )
        token = self._configuration.auth_settings().get("BearerToken")  # refreshes an expiring one
        headers = {"authorization": token["value"]} if token and token.get("value") else {}
        try:
            ws = websocket_call(self._configuration, "GET", url, headers=headers, _preload_content=False)
        except ApiException as exc:
            # The client turns every failure to open the stream, Ctrl-C included, into status 0.
            inner = exc.__context__
            if isinstance(inner, KeyboardInterrupt):
                raise KeyboardInterrupt from None
            if isinstance(inner, WebSocketBadStatusException) and inner.status_code:
                body = inner.resp_body.decode("utf-8", "replace") if isinstance(inner.resp_body, bytes) else ""
                refused = ApiException(status=inner.status_code, reason=str(inner.status_code))
                refused.body = body
                raise self._translate(refused, "EXEC", f"{namespace}/{pod}") from None
            raise self._translate(exc, "EXEC", f"{namespace}/{pod}") from None
        except (urllib3.exceptions.HTTPError, OSError, WebSocketException) as exc:
            raise self.unreachable(exc, f"exec in pod {namespace}/{pod}") from None
        try:
            ws.run_forever(timeout=timeout)
            # Read the exit status first: draining the channels can lose it.
            try:
                returncode = ws.returncode
            except (ValueError, TypeError):
                # Known client bug: an error channel that is not a Status object.
                returncode = _returncode_from_status(ws.read_channel(ERROR_CHANNEL))
            stdout = ws.read_channel(STDOUT_CHANNEL)
            stderr = ws.read_channel(STDERR_CHANNEL)
        finally:
            ws.close()
        return ExecResult(
            returncode=returncode,
            stdout=stdout,
            stderr=stderr,
            truncated=len(stdout.encode()) >= EXEC_TRUNCATION_BYTES,
        )


def token_claims(token: str) -> dict:
    """The claims of a JSON Web Token, unverified (the API server verifies it); {} for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _token_expired(token: str, now: float | None = None) -> str:
    """A one-line explanation when a ServiceAccount token has passed its expiry, else ""."""
    claims = token_claims(token)
    expiry = claims.get("exp")
    account = claims.get("kubernetes.io") or {}
    namespace = account.get("namespace") if isinstance(account, dict) else None
    name = (account.get("serviceaccount") or {}).get("name") if isinstance(account, dict) else None
    if not isinstance(expiry, (int, float)) or isinstance(expiry, bool):
        return ""
    if expiry > (time.time() if now is None else now):
        from ckaprep.cluster.labels import seat_of_account

        if isinstance(namespace, str) and isinstance(name, str) and seat_of_account(namespace, name):
            return (  # a classroom seat's token, not expired: revoked
                f"the seat's token (ServiceAccount {one_line(namespace)}/{one_line(name)}) was rejected: the "
                "seat or its class was deleted; ask the trainer for a new kubeconfig"
            )
        return ""
    when = datetime.fromtimestamp(expiry, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if namespace:
        return (
            f"the seat's token (ServiceAccount {one_line(namespace)}/{one_line(str(name))}) expired at {when}; "
            "ask the trainer for a new kubeconfig"
        )
    return f"the token in the kubeconfig expired at {when}; get a new one"


def _exists(path: str) -> bool:
    try:
        return bool(path) and os.path.exists(os.path.expanduser(path))
    except (OSError, ValueError):
        return False


def _os_problem(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return f"{type(exc).__name__}: {exc}"


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return one_line(f"{problem}{where}")


def _field(name: str, path: str | None) -> str:
    """The kubeconfig field a certificate came from: inline data is written to a temp file."""
    if path and path in getattr(kube_config, "_temp_files", {}).values():
        return f"{name}-data"
    return f"{name} ({one_line(path)})" if path else name


def _require_pem(path: str, kind: str, field: str, source: str) -> None:
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as exc:
        raise KubeconfigError(f"kubeconfig {source}: {field}: {_os_problem(exc)}") from None
    if b"-----BEGIN " not in text or kind.encode() not in text:
        raise KubeconfigError(
            f"kubeconfig {source}: {field} does not hold a PEM {kind.lower()} "
            "(inline data must be base64 of the PEM text)"
        )
    try:
        text.decode("ascii")
    except UnicodeDecodeError:
        raise KubeconfigError(f"kubeconfig {source}: {field} is not PEM text") from None


def _ssl_reason(exc: BaseException) -> str:
    message = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
    return one_line(message)


def _causes(exc: BaseException) -> list[BaseException]:
    """The error and everything behind it, through urllib3's and the client's wrappers."""
    chain: list[BaseException] = []
    todo = [exc]
    while todo and len(chain) < 20:
        current = todo.pop(0)
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        reason = getattr(current, "reason", None)
        todo += [reason if isinstance(reason, BaseException) else None, current.__cause__, current.__context__]
        todo += [arg for arg in current.args if isinstance(arg, BaseException)]
    return chain


def _returncode_from_status(raw: str) -> int | None:
    try:
        status = json.loads(raw)
    except ValueError:
        return None
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", "1"))
    return None
