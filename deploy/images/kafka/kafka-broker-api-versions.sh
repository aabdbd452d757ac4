#!/bin/bash
# The compose healthcheck calls this script of the apache/kafka image. The broker's jars do
# not include Kafka's command-line tools, so this stand-in only checks that the broker
# accepts connections on the given --bootstrap-server (it listens once KRaft is up).
set -euo pipefail
server=localhost:9092
while (($#)); do
  case "$1" in
    --bootstrap-server) server="$2"; shift 2 ;;
    *) shift ;;
  esac
done
exec 3<> "/dev/tcp/${server%:*}/${server##*:}"
