# Builds the cluster's Go binaries through the Go module proxy.
# Sourced by scripts/testcluster; expects versions.env and CACHE_DIR.

# Writes a wrapper go.mod that requires MODULE@VERSION and turns each of its
# local-path replaces (staging modules) into the published module at REPL_VERSION.
_write_wrapper_mod() {
  local dir=$1 module=$2 version=$3 repl_version=$4
  local upstream_mod
  mkdir -p "$dir"
  upstream_mod=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
  [ -f "$upstream_mod" ] || { echo "testcluster: cannot download $module@$version" >&2; return 1; }
  {
    echo "module ckaprep.invalid/build"
    echo
    grep -m1 '^go ' "$upstream_mod"
    echo
    echo "require $module $version"
    echo
    echo "replace ("
    # Lines like "k8s.io/api => ./staging/src/k8s.io/api" or "go.etcd.io/etcd/api/v3 => ../api".
    sed -n 's#^\s*\([^ ]*\) => \.\.\?/.*$#\t\1 => \1 '"$repl_version"'#p' "$upstream_mod"
    echo ")"
  } > "$dir/go.mod"
}

# _go_build WORKDIR OUTDIR GITVERSION_LDFLAGS PKG...
_go_build() {
  local dir=$1 out=$2 ldflags=$3; shift 3
  mkdir -p "$out" "${out%.partial}"
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@")
}

build_kubernetes() {
  local bin=$CACHE_DIR/bin work=$CACHE_DIR/work/kubernetes
  local minor=${K8S_VERSION#v1.}
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
  local missing=()
  for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("k8s.io/kubernetes/cmd/$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "building Kubernetes $K8S_VERSION: ${missing[*]##*/} (cold builds take a while)"
  _write_wrapper_mod "$work" k8s.io/kubernetes "$K8S_VERSION" "v0.$minor"
  local major_minor=${K8S_VERSION#v}; major_minor=${major_minor%.*}
  local cv=k8s.io/component-base/version
  local ld="-X $cv.gitVersion=$K8S_VERSION -X $cv.gitMajor=${major_minor%%.*} -X $cv.gitMinor=${major_minor#*.} -X $cv.gitTreeState=clean -X $cv.buildDate=1970-01-01T00:00:00Z"
  _go_build "$work" "$bin.partial" "$ld" "${missing[@]}"
  for p in "${missing[@]}"; do mv "$bin.partial/${p##*/}" "$bin/"; done
}

# _reuse NAME: copy a binary of the same etcd and CoreDNS versions built for another
# Kubernetes version, so that a second configuration rebuilds only Kubernetes.
_reuse() {
  local name=$1 other
  for other in "$CACHE_ROOT"/*-etcd"$ETCD_VERSION"-coredns"$CORE_DNS_VERSION"/bin/"$name"; do
    [ -x "$other" ] && [ "$other" != "$CACHE_DIR/bin/$name" ] || continue
    cp "$other" "$CACHE_DIR/bin/$name.partial" && mv "$CACHE_DIR/bin/$name.partial" "$CACHE_DIR/bin/$name"
    log "reused $name from ${other%/bin/*}"
    return 0
  done
  return 1
}

build_etcd() {
  local bin=$CACHE_DIR/bin work=$CACHE_DIR/work/etcd
  [ -x "$bin/etcd" ] && return 0
  _reuse etcd && return 0
  log "building etcd $ETCD_VERSION"
  _write_wrapper_mod "$work" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$ETCD_VERSION"
  _go_build "$work" "$bin.partial" "" go.etcd.io/etcd/server/v3
  # go names a /v3 module's binary after the path element before the suffix.
  mv "$bin.partial/server" "$bin/etcd"
}

build_coredns() {
  local bin=$CACHE_DIR/bin work=$CACHE_DIR/work/coredns
  [ -x "$bin/coredns" ] && return 0
  _reuse coredns && return 0
  log "building CoreDNS $CORE_DNS_VERSION (the plugins the cluster and the exercises use)"
  _write_wrapper_mod "$work" github.com/coredns/coredns "$CORE_DNS_VERSION" "$CORE_DNS_VERSION"
  # CoreDNS's own main links every plugin (core/plugin); a build of our own links only those the
  # test cluster's Corefile and the exercises' Corefiles name (udp-service runs the image as a
  # DNS server of its own), as CoreDNS's plugin.cfg allows, and compiles far less.
  # tests/unit/test_testcluster_helpers.py holds this list to those Corefiles.
  cat > "$work/main.go" <<'GO'
package main

import (
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

func main() {
	coremain.Run()
}
GO
  _go_build "$work" "$bin.partial" "" .
  mv "$bin.partial/build" "$bin/coredns"
}

build_all() {
  mkdir -p "$CACHE_DIR/bin" "$CACHE_ROOT"
  # One build per configuration at a time (`up` and a background `build` may meet here).
  (
    flock -w 7200 8 || die "gave up waiting for another build of $CONFIG_NAME"
    build_etcd && build_coredns && build_pause && build_kubernetes || exit 1
    [ "${MULTI_NODE:-0}" = 0 ] || build_node_software || exit 1
  ) 8>"$CACHE_ROOT/.build-$CONFIG_NAME.lock"
}

# The third configuration's node software, in a cache of its own keyed by its versions:
# containerd 2 with its runc shim and ctr, runc (cgo: its nsenter is C; with seccomp, which
# containerd 2 asks for on every sandbox, from Debian's libseccomp), and kube-router.
build_node_software() {
  local bin=$NODE_BIN work=${NODE_BIN%/bin}/work
  mkdir -p "$bin"
  if [ ! -x "$bin/containerd" ] || [ ! -x "$bin/containerd-shim-runc-v2" ] || [ ! -x "$bin/ctr" ]; then
    log "building containerd $CONTAINERD_VERSION"
    _write_wrapper_mod "$work/containerd" github.com/containerd/containerd/v2 "$CONTAINERD_VERSION" "$CONTAINERD_VERSION"
    (cd "$work/containerd" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags "no_btrfs no_devmapper no_zfs" \
      -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" -o "$bin.partial/" \
      github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
      github.com/containerd/containerd/v2/cmd/ctr)
    mv "$bin.partial/containerd" "$bin.partial/containerd-shim-runc-v2" "$bin.partial/ctr" "$bin/"
  fi
  if [ ! -x "$bin/runc" ]; then
    log "building runc $RUNC_VERSION"
    _write_wrapper_mod "$work/runc" github.com/opencontainers/runc "$RUNC_VERSION" "$RUNC_VERSION"
    (cd "$work/runc" && CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath -tags seccomp \
      -ldflags "-s -w -X main.version=${RUNC_VERSION#v}" -o "$bin.partial/runc" github.com/opencontainers/runc)
    mv "$bin.partial/runc" "$bin/"
  fi
  if [ ! -x "$bin/kube-router" ]; then
    log "building kube-router $KUBE_ROUTER_VERSION"
    _write_wrapper_mod "$work/kube-router" github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" "$KUBE_ROUTER_VERSION"
    (cd "$work/kube-router" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" \
      -o "$bin.partial/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router)
    mv "$bin.partial/kube-router" "$bin/"
  fi
}

build_pause() {
  local bin=$CACHE_DIR/bin
  [ -x "$bin/pause" ] && return 0
  _reuse pause && return 0
  log "building pause"
  mkdir -p "$bin"
  (cd "$TESTCLUSTER_DIR/images/pause" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin/pause" .)
}
