# Container images built from local files, so that no registry is needed.
# Sourced by scripts/testcluster; expects versions.env, CACHE_DIR, TESTCLUSTER_DIR
# and the binaries from build.sh. Each recipe writes a docker-archive tarball
# into $CACHE_DIR/images, named after a hash of its inputs.

_mkimage() { python3 "$TESTCLUSTER_DIR/mkimage.py" "$@"; }

# Stands in for registry.k8s.io/pause: our static pause binary, nothing else.
image_pause() {
  _mkimage --ref "$PAUSE_IMAGE" --out "$1" --entrypoint '["/pause"]' \
    --file "$CACHE_DIR/bin/pause:/pause"
}

# Args shared by the busybox-based images: the binary plus one symlink per applet.
_busybox_args() {
  local applet
  echo "--file=/bin/busybox:/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || echo "--symlink=/bin/busybox:/bin/$applet"
  done
  echo "--dir=/tmp"
  echo "--dir=/root"
}

# Stands in for docker.io/library/busybox: Debian's busybox-static with every
# applet linked into /bin; default command sh, as upstream.
image_busybox() {
  local args
  mapfile -t args < <(_busybox_args)
  _mkimage --ref "$BUSYBOX_IMAGE" --out "$1" --cmd '["sh"]' "${args[@]}" \
    --file "$TESTCLUSTER_DIR/images/passwd:/etc/passwd" \
    --file "$TESTCLUSTER_DIR/images/group:/etc/group"
}

# Stands in for docker.io/curlimages/curl: Debian's curl with the shared
# libraries ldd finds (loader included), plus busybox for sh and sleep.
# Entrypoint curl, as upstream; callers override the command.
image_curl() {
  local args lib
  mapfile -t args < <(_busybox_args)
  args+=("--file=/usr/bin/curl:/usr/bin/curl")
  for lib in $(ldd /usr/bin/curl | grep -o '/[^ ]*'); do
    args+=("--file=$(readlink -f "$lib"):$lib")
  done
  _mkimage --ref "$CURL_IMAGE" --out "$1" --entrypoint '["curl"]' --cmd '["--help"]' "${args[@]}" \
    --file "$TESTCLUSTER_DIR/images/passwd:/etc/passwd" \
    --file "$TESTCLUSTER_DIR/images/group:/etc/group" \
    --file "$TESTCLUSTER_DIR/images/nsswitch.conf:/etc/nsswitch.conf"
}

# Stands in for registry.k8s.io/coredns/coredns: the coredns binary we built.
image_coredns() {
  _mkimage --ref "$COREDNS_IMAGE" --out "$1" --entrypoint '["/coredns"]' \
    --file "$CACHE_DIR/bin/coredns:/coredns"
}

# Prints the tarball path for image NAME, building it when its inputs changed.
image_tarball() {
  local name=$1 key dir=$CACHE_DIR/images
  mkdir -p "$dir"
  key=$( { declare -f "image_$name" _busybox_args; cat "$TESTCLUSTER_DIR/mkimage.py" "$TESTCLUSTER_DIR/versions.env";
           case $name in pause) sha256sum "$CACHE_DIR/bin/pause";; coredns) sha256sum "$CACHE_DIR/bin/coredns";;
           busybox) sha256sum /bin/busybox;; curl) sha256sum /bin/busybox /usr/bin/curl;; esac; } | sha256sum | cut -c1-12)
  if [ ! -s "$dir/$name-$key.tar" ]; then
    log "building image $name"
    "image_$name" "$dir/$name-$key.tar" >&2
  fi
  echo "$dir/$name-$key.tar"
}
