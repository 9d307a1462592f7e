#!/usr/bin/env bash
# verify-clusterip-create.sh NS SERVICE APP PORT TARGET_PORT REPLICAS PROBE_POD
NS=$1 SVC=$2 APP=$3 PORT=$4 TARGET=$5 REPLICAS=$6 PROBE=$7
source "$(dirname "$0")/common.sh"
BACKENDS=$(k get pods -l "app=$APP,tier=backend" -o name | sort)
check 2 "type ClusterIP" equals "$(k get svc "$SVC" -o jsonpath='{.spec.type}')" ClusterIP
check 3 "selector picks exactly the backends" equals "$(selected_pods "$SVC")" "$BACKENDS"
check 2 "port $PORT -> $TARGET" equals "$(k get svc "$SVC" -o jsonpath='{.spec.ports[0].port} {.spec.ports[0].targetPort}')" "$PORT $TARGET"
check 1 "$REPLICAS ready endpoints" equals "$(ready_endpoints "$SVC")" "$REPLICAS"
check 1 "curl by short name" curl_backend "http://$SVC:$PORT/"
check 1 "curl by ClusterIP" curl_backend "http://$(k get svc "$SVC" -o jsonpath='{.spec.clusterIP}'):$PORT/"
finish
