{{- define "kubetrail.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kubetrail.fullname" -}}
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

{{- define "kubetrail.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubetrail.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kubetrail.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubetrail.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kubetrail.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubetrail.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kubetrail.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "kubetrail.tokenSecretName" -}}
{{- default (printf "%s-webhook-token" (include "kubetrail.fullname" .)) .Values.webhook.token.existingSecret }}
{{- end }}

{{- define "kubetrail.tokenSecretKey" -}}
{{- if .Values.webhook.token.existingSecret }}{{ .Values.webhook.token.existingSecretKey }}{{ else }}token{{ end }}
{{- end }}

{{- define "kubetrail.tlsSecretName" -}}
{{- default (printf "%s-webhook-tls" (include "kubetrail.fullname" .)) .Values.webhook.tls.existingSecret }}
{{- end }}

{{- define "kubetrail.scheme" -}}
{{- if .Values.webhook.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}

{{- define "kubetrail.webhookURL" -}}
{{- if .Values.webhook.externalURL }}
{{- .Values.webhook.externalURL }}
{{- else }}
{{- printf "%s://%s.%s.svc:%v/audit/%s" (include "kubetrail.scheme" .) (include "kubetrail.fullname" .) .Release.Namespace .Values.service.port .Values.cluster }}
{{- end }}
{{- end }}

{{- define "kubetrail.leaderElection" -}}
{{- if kindIs "bool" .Values.leaderElection.enabled }}{{ .Values.leaderElection.enabled }}{{ else }}{{ gt (int .Values.replicaCount) 1 }}{{ end }}
{{- end }}

{{- define "kubetrail.leaseName" -}}
{{- default (include "kubetrail.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* Refuses combinations that kubetrail itself would refuse, with a message naming the values. */}}
{{- define "kubetrail.validate" -}}
{{- $w := .Values.webhook }}
{{- if and (not $w.token.enabled) (not (and $w.tls.enabled $w.tls.clientCA)) (not $w.allowUnauthenticated) }}
{{- fail "webhook: enable webhook.token or webhook.tls.clientCA (client certificates), or set webhook.allowUnauthenticated=true to accept unauthenticated audit batches" }}
{{- end }}
{{- if and $w.tls.clientCA (not $w.tls.existingSecret) }}
{{- fail "webhook.tls.clientCA needs webhook.tls.existingSecret (a kubernetes.io/tls Secret whose ca.crt signs the kube-apiserver's client certificate)" }}
{{- end }}
{{- if and $w.token.enabled (not $w.tls.enabled) }}
{{- fail "webhook.token needs webhook.tls.enabled=true: kube-apiserver sends the token only over https (client-go attaches credentials to TLS connections only)" }}
{{- end }}
{{- if and $w.tls.clientCA (not $w.tls.enabled) }}
{{- fail "webhook.tls.clientCA needs webhook.tls.enabled=true" }}
{{- end }}
{{- if and $w.externalURL (ne (urlParse $w.externalURL).scheme (include "kubetrail.scheme" .)) }}
{{- fail (printf "webhook.externalURL is %s but the webhook serves %s (webhook.tls.enabled)" (urlParse $w.externalURL).scheme (include "kubetrail.scheme" .)) }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.otlp.endpoint) }}
{{- fail "replicaCount > 1 needs otlp.endpoint: the embedded store is per pod, each replica would hold part of the traces" }}
{{- end }}
{{- if and .Values.query.jaegerQuery (not .Values.otlp.endpoint) }}
{{- fail "query.jaegerQuery reads what kubetrail exported: set otlp.endpoint too" }}
{{- end }}
{{- if and .Values.informers.listWatchOnly (not .Values.informers.enabled) }}
{{- fail "informers.listWatchOnly needs informers.enabled=true" }}
{{- end }}
{{- end }}
