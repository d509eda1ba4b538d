{{/*
platform.fullname: the app name (.Values.appName), which names every object of this chart:
<app>-db, <app>-bucket, <app>-secrets, ... The release is <app>-platform, so the release name is
deliberately not used: these names are the base/platform contract, which the base chart
consumes whatever the release is called.
*/}}
{{- define "platform.fullname" -}}
{{- .Values.appName }}
{{- end }}

{{/*
platform.chart: chart name and version, for the helm.sh/chart label.
*/}}
{{- define "platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
platform.labels: the labels of every object. The instance is this release, not the app's,
so nothing here is ever matched by the app's own selectors.
*/}}
{{- define "platform.labels" -}}
helm.sh/chart: {{ include "platform.chart" . | quote }}
{{ include "platform.stableLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
platform.stableLabels: the labels of an object whose labels its operator copies onto pods (the
Redis): not helm.sh/chart nor the version, which Flux rewrites on every commit
(reconcileStrategy: Revision), and which would then restart the pods.
*/}}
{{- define "platform.stableLabels" -}}
app.kubernetes.io/name: {{ include "platform.fullname" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/part-of: {{ include "platform.fullname" . | quote }}
{{- end }}

{{/*
platform.keepAnnotations: for objects holding data (the database, the bucket) and the database's
backup ObjectStore, which the kept database names. The data
outlives its release and its Application: Helm uninstalls, Argo CD prunes and deletes leave
these objects for a person to remove.
*/}}
{{- define "platform.keepAnnotations" -}}
helm.sh/resource-policy: keep
argocd.argoproj.io/sync-options: Prune=false,Delete=false
{{- end }}

{{/*
platform.selectorLabels: the labels the ServiceMonitor finds the app's Service by, as the base
chart sets them. Not app.kubernetes.io/instance: Argo CD before 3.0 rewrites it on every
object it tracks. Part of the base/platform contract.
*/}}
{{- define "platform.selectorLabels" -}}
app.kubernetes.io/name: {{ include "platform.fullname" . | quote }}
app.kubernetes.io/component: app
{{- end }}

{{/*
platform.monitoringLabels: platform.labels plus monitoring.labels, which a Prometheus's
*Selector settings may require (kube-prometheus-stack selects release: <its release>).
*/}}
{{- define "platform.monitoringLabels" -}}
{{ include "platform.labels" . }}
{{- with .Values.monitoring.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
platform.requireApi: fails the render when the cluster does not serve an API a feature needs,
naming the operator to install. Takes (list $ "<group>/<version>" "<feature key>" "<operator>").
Argo CD passes the cluster's APIs to Helm and Flux asks the cluster itself; offline, pass them
with --api-versions (see README.md).
*/}}
{{- define "platform.requireApi" -}}
{{- $root := index . 0 }}
{{- $api := index . 1 }}
{{- if not ($root.Capabilities.APIVersions.Has $api) }}
{{- fail (printf "%s is on but this cluster does not serve %s: install %s. Rendering offline? Pass --api-versions %s" (index . 2) $api (index . 3) $api) }}
{{- end }}
{{- end }}

{{/*
platform.metricsEndpoint: the ServiceMonitor endpoint of a `metrics` Service port, as monitoring
says to scrape it (path, scheme, interval and the rest of `endpoint`).
*/}}
{{- define "platform.metricsEndpoint" -}}
- port: metrics
  path: {{ .Values.monitoring.path | quote }}
  {{- if eq .Values.monitoring.scheme "https" }}
  scheme: https
  {{- end }}
  interval: {{ .Values.monitoring.interval | quote }}
  {{- with .Values.monitoring.endpoint }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
