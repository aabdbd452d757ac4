#!/bin/bash
# A single-node KRaft broker configured as the apache/kafka image is: every KAFKA_* variable
# becomes a server property (KAFKA_LOG_DIRS -> log.dirs; "__" -> "_", "___" -> "-").
set -euo pipefail
config=/opt/kafka/config/server.properties
: > "$config"
for name in $(compgen -e); do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key="${name#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/@}"
  key="${key//_/.}"
  key="${key//@/_}"
  printf '%s=%s\n' "$key" "${!name}" >> "$config"
done
grep -q '^log\.dirs=' "$config" || echo "log.dirs=/tmp/kraft-combined-logs" >> "$config"
log_dir="$(sed -n 's/^log\.dirs=//p' "$config" | cut -d, -f1)"
logging="-Dlog4j2.configurationFile=/opt/kafka/config-template/log4j2.properties"
if [[ ! -f "$log_dir/meta.properties" ]]; then
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "$logging" -cp '/opt/kafka/libs/*' \
    kafka.tools.StorageTool format --cluster-id "${CLUSTER_ID:?CLUSTER_ID is required}" \
    --config "$config" --ignore-formatted
fi
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
exec java ${KAFKA_HEAP_OPTS:--Xmx512m} -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
  -Djava.awt.headless=true "$logging" -cp '/opt/kafka/libs/*' kafka.Kafka "$config"
