{{/* The chart's name, overridable. */}}
{{- define "jwt-ext-authz.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Object names: the release name when it already contains the chart's name (`helm install
jwt-ext-authz ...` gives Service jwt-ext-authz, as deploy/istio and deploy/gateway-api expect).
*/}}
{{- define "jwt-ext-authz.fullname" -}}
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

{{/* Pods are selected by these, everywhere (Service, PDB, NetworkPolicy, Istio). */}}
{{- define "jwt-ext-authz.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jwt-ext-authz.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "jwt-ext-authz.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "jwt-ext-authz.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "jwt-ext-authz.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jwt-ext-authz.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "jwt-ext-authz.configMapName" -}}
{{- default (printf "%s-config" (include "jwt-ext-authz.fullname" .)) .Values.existingConfigMap }}
{{- end }}

{{/* host:port of a listener; port 0 turns the HTTP authorization listener off (""). */}}
{{- define "jwt-ext-authz.listen" -}}
{{- $httpAuthz := "" }}
{{- if gt (int .Values.ports.httpAuthz) 0 }}
{{- $httpAuthz = printf "0.0.0.0:%d" (int .Values.ports.httpAuthz) }}
{{- end }}
{{- $listen := dict "grpc" (printf "0.0.0.0:%d" (int .Values.ports.grpc)) "http" (printf "0.0.0.0:%d" (int .Values.ports.http)) "httpAuthz" $httpAuthz }}
{{- with .Values.tls }}
{{- if .existingSecret }}
{{- $tls := dict "cert" (printf "%s/tls.crt" .mountPath) "key" (printf "%s/tls.key" .mountPath) "clientCa" (printf "%s/ca.crt" .mountPath) }}
{{- with .allowedSans }}
{{- $_ := set $tls "allowedSans" . }}
{{- end }}
{{- $_ := set $listen "tls" $tls }}
{{- end }}
{{- end }}
{{- toYaml $listen }}
{{- end }}
