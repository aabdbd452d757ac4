{{/* Names, labels and the checks that refuse a bad combination of values. */}}

{{- define "bria-fleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bria-fleet.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bria-fleet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "bria-fleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one domain's pods; call with (dict "root" $ "domain" "ingest"). */}}
{{- define "bria-fleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bria-fleet.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .domain }}
{{- end }}

{{- define "bria-fleet.workerName" -}}
{{- printf "%s-%s" (include "bria-fleet.fullname" .root) .domain | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bria-fleet.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "bria-fleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bria-fleet.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The domains the fleet has, in a fixed order. */}}
{{- define "bria-fleet.domains" -}}
ingest caption training generation
{{- end }}

{{/* One domain's settings: workerDefaults overridden by workers.<domain>, as YAML. */}}
{{- define "bria-fleet.worker" -}}
{{- $own := get .root.Values.workers .domain | default dict }}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.workerDefaults) (deepCopy $own)) }}
{{- end }}

{{- define "bria-fleet.tokenSecretName" -}}
{{- if .Values.bria.existingSecret }}{{ .Values.bria.existingSecret }}{{ else }}{{ include "bria-fleet.fullname" . }}-api{{ end }}
{{- end }}

{{- define "bria-fleet.tokenSecretKey" -}}
{{- if .Values.bria.existingSecret }}{{ .Values.bria.existingSecretKey }}{{ else }}token{{ end }}
{{- end }}

{{- define "bria-fleet.saslEnabled" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}true{{ end }}
{{- end }}

{{- define "bria-fleet.saslSecretName" -}}
{{- if .Values.kafka.sasl.existingSecret }}{{ .Values.kafka.sasl.existingSecret }}{{ else }}{{ include "bria-fleet.fullname" . }}-kafka{{ end }}
{{- end }}

{{- define "bria-fleet.saslSecretKey" -}}
{{- if .Values.kafka.sasl.existingSecret }}{{ .Values.kafka.sasl.existingSecretKey }}{{ else }}password{{ end }}
{{- end }}

{{/* Values that the schema cannot refuse alone: each check fails with one sentence. */}}
{{- define "bria-fleet.validate" -}}
{{- $v := .Values }}
{{- if le (int $v.fleet.terminationGracePeriodSeconds) (int $v.fleet.gracefulTimeoutSeconds) }}
{{- fail (printf "fleet.terminationGracePeriodSeconds (%v) must be longer than fleet.gracefulTimeoutSeconds (%v): Kubernetes would kill workers still draining." $v.fleet.terminationGracePeriodSeconds $v.fleet.gracefulTimeoutSeconds) }}
{{- end }}
{{- if and $v.bria.token $v.bria.existingSecret }}
{{- fail "bria.token and bria.existingSecret are both set: give the API token one way only." }}
{{- end }}
{{- if not (or $v.bria.token $v.bria.existingSecret) }}
{{- fail "The Bria API token is missing: set bria.existingSecret (a Secret with the token) or bria.token." }}
{{- end }}
{{- if include "bria-fleet.saslEnabled" . }}
{{- if not $v.kafka.sasl.mechanism }}
{{- fail (printf "kafka.securityProtocol is %s: set kafka.sasl.mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)." $v.kafka.securityProtocol) }}
{{- end }}
{{- if and $v.kafka.sasl.password $v.kafka.sasl.existingSecret }}
{{- fail "kafka.sasl.password and kafka.sasl.existingSecret are both set: give the SASL password one way only." }}
{{- end }}
{{- if not (or $v.kafka.sasl.password $v.kafka.sasl.existingSecret) }}
{{- fail (printf "kafka.securityProtocol is %s: set kafka.sasl.existingSecret or kafka.sasl.password." $v.kafka.securityProtocol) }}
{{- end }}
{{- end }}
{{- range $domain := splitList " " (include "bria-fleet.domains" .) }}
{{- $w := include "bria-fleet.worker" (dict "root" $ "domain" $domain) | fromYaml }}
{{- if and $w.autoscaling.hpa.enabled $w.autoscaling.keda.enabled }}
{{- fail (printf "workers.%s: autoscaling.hpa and autoscaling.keda are both enabled; KEDA makes its own HPA, so enable one of them." $domain) }}
{{- end }}
{{- if $w.autoscaling.keda.enabled }}
{{- if gt (int $w.autoscaling.keda.minReplicaCount) (int $w.autoscaling.keda.maxReplicaCount) }}
{{- fail (printf "workers.%s: autoscaling.keda.minReplicaCount is above maxReplicaCount." $domain) }}
{{- end }}
{{- if and (gt (int $w.autoscaling.keda.maxReplicaCount) (int $v.kafka.topics.partitions)) (not $w.autoscaling.keda.allowIdleConsumers) }}
{{- fail (printf "workers.%s: autoscaling.keda.maxReplicaCount (%v) is above kafka.topics.partitions (%v); pods beyond the partition count get no partition. Raise the partitions or set allowIdleConsumers." $domain $w.autoscaling.keda.maxReplicaCount $v.kafka.topics.partitions) }}
{{- end }}
{{- end }}
{{- if and $w.autoscaling.hpa.enabled (gt (int $w.autoscaling.hpa.minReplicas) (int $w.autoscaling.hpa.maxReplicas)) }}
{{- fail (printf "workers.%s: autoscaling.hpa.minReplicas is above maxReplicas." $domain) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Environment of every container that talks to Kafka or the API: the ConfigMap and Secrets. */}}
{{- define "bria-fleet.env" -}}
- name: BRIA_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "bria-fleet.tokenSecretName" . }}
      key: {{ include "bria-fleet.tokenSecretKey" . }}
{{- if include "bria-fleet.saslEnabled" . }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "bria-fleet.saslSecretName" . }}
      key: {{ include "bria-fleet.saslSecretKey" . }}
{{- end }}
{{- with .Values.fleet.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The Kafka TLS volume and its mount, when a Secret is given. */}}
{{- define "bria-fleet.tlsVolume" -}}
{{- if .Values.kafka.ssl.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.ssl.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{- define "bria-fleet.tlsMount" -}}
{{- if .Values.kafka.ssl.existingSecret }}
- name: kafka-tls
  mountPath: /etc/bria-fleet/kafka-tls
  readOnly: true
{{- end }}
{{- end }}

{{/* Non-secret Kafka settings as KEY: "value" lines (the ConfigMap and the topics Job). */}}
{{- define "bria-fleet.kafkaConfig" -}}
KAFKA_BOOTSTRAP_SERVERS: {{ .Values.kafka.bootstrapServers | quote }}
KAFKA_SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
{{- if include "bria-fleet.saslEnabled" . }}
KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
KAFKA_SASL_USERNAME: {{ .Values.kafka.sasl.username | quote }}
{{- end }}
{{- with .Values.kafka.ssl }}
{{- if .existingSecret }}
{{- if .caKey }}
KAFKA_SSL_CAFILE: {{ printf "/etc/bria-fleet/kafka-tls/%s" .caKey | quote }}
{{- end }}
{{- if .certKey }}
KAFKA_SSL_CERTFILE: {{ printf "/etc/bria-fleet/kafka-tls/%s" .certKey | quote }}
{{- end }}
{{- if .keyKey }}
KAFKA_SSL_KEYFILE: {{ printf "/etc/bria-fleet/kafka-tls/%s" .keyKey | quote }}
{{- end }}
{{- end }}
{{- end }}
KAFKA_TOPIC_PARTITIONS: {{ .Values.kafka.topics.partitions | quote }}
KAFKA_TOPIC_REPLICATION_FACTOR: {{ .Values.kafka.topics.replicationFactor | quote }}
{{- end }}
