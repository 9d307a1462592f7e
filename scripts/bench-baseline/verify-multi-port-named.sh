#!/usr/bin/env bash
# verify-multi-port-named.sh NS SERVICE APP HTTP_PORT HTTP_TARGET METRICS_PORT METRICS_TARGET REPLICAS PROBE_POD DOMAIN
NS=$1 SVC=$2 APP=$3 HTTP_PORT=$4 HTTP_TARGET=$5 METRICS_PORT=$6 METRICS_TARGET=$7 REPLICAS=$8 PROBE=$9 DOMAIN=${10}
source "$(dirname "$0")/common.sh"
BACKENDS=$(k get pods -l "app=$APP" -o name | sort)
port_of() { k get svc "$SVC" -o jsonpath="{.spec.ports[?(@.name==\"$1\")].port} {.spec.ports[?(@.name==\"$1\")].targetPort}"; }
check 1 "type ClusterIP" equals "$(k get svc "$SVC" -o jsonpath='{.spec.type}')" ClusterIP
check 2 "selector picks exactly the backends" equals "$(selected_pods "$SVC")" "$BACKENDS"
check 2 "port http $HTTP_PORT -> $HTTP_TARGET" equals "$(port_of http)" "$HTTP_PORT $HTTP_TARGET"
check 2 "port metrics $METRICS_PORT -> $METRICS_TARGET" equals "$(port_of metrics)" "$METRICS_PORT $METRICS_TARGET"
check 1 "$REPLICAS ready endpoints" equals "$(ready_endpoints "$SVC")" "$REPLICAS"
check 1 "curl http by short name" curl_backend "http://$SVC:$HTTP_PORT/"
check 1 "curl metrics by short name" curl_backend "http://$SVC:$METRICS_PORT/"
check 1 "curl both ports by FQDN" sh -c '
  for port in "$@"; do curl_ok=$(kubectl -n '"$NS"' exec '"$PROBE"' -- curl -sS -o /dev/null -w "%{http_code}" --max-time 4 "http://'"$SVC.$NS.svc.$DOMAIN"':$port/") || exit 1
  [ "$curl_ok" = 200 ] || exit 1; done' _ "$HTTP_PORT" "$METRICS_PORT"
finish
