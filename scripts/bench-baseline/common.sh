# Shared by the baseline verify scripts: the way the peers' bash graders check a task,
# one kubectl process per check and kubectl exec ... curl for the probes.
# Prints one PASS/FAIL line per check and a score; exits 0 only when all pass.
set -u
total=0 earned=0
check() {  # check WEIGHT TITLE COMMAND...: the command's success is the verdict
  local weight=$1 title=$2; shift 2
  total=$((total + weight))
  if "$@" >/dev/null 2>&1; then earned=$((earned + weight)); echo "PASS $title"; else echo "FAIL $title"; fi
}
finish() {
  echo "score: $earned/$total"
  [ "$earned" -eq "$total" ]
}
k() { kubectl -n "$NS" "$@"; }
equals() { [ "$1" = "$2" ]; }
# The pods a Service's selector picks, as sorted names.
selected_pods() {
  local selector
  selector=$(k get svc "$1" -o go-template='{{range $k, $v := .spec.selector}}{{$k}}={{$v}},{{end}}')
  [ -n "$selector" ] || return 1
  k get pods -l "${selector%,}" --field-selector=status.phase=Running -o name | sort
}
ready_endpoints() {
  k get endpointslices -l "kubernetes.io/service-name=$1" \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c .
}
# curl_from_probe URL: an answer whose first line is the name of one of the backend pods.
curl_backend() {
  local body
  body=$(k exec "$PROBE" -- curl -sS --max-time 4 "$1") || return 1
  grep -qxF "pod/$(head -n 1 <<<"$body")" <<<"$BACKENDS"
}
