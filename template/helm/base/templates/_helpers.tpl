{{/*
base.name: the chart name, which is the app name. It is the app.kubernetes.io/name label that
the platform chart's ServiceMonitor selects, so it has no override.
*/}}
{{- define "base.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
base.fullname: the prefix of every object name. It is the release name (the app name under both
Argo CD and Flux) when that already contains the chart name, else "<release>-<chart>".
*/}}
{{- define "base.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
base.chart: chart name and version, for the helm.sh/chart label.
*/}}
{{- define "base.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
base.labels: the labels of every object. app.kubernetes.io/component is what the platform
chart's ServiceMonitor selects the Service by, with the name: Argo CD before 3.0 rewrites
app.kubernetes.io/instance on every object it tracks, so that label cannot be relied on.
*/}}
{{- define "base.labels" -}}
helm.sh/chart: {{ include "base.chart" . | quote }}
{{ include "base.selectorLabels" . }}
app.kubernetes.io/component: app
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
base.podLabels: the labels of the pods. Not helm.sh/chart: Flux rewrites the chart version to
<version>+<commit>.<n> on every commit (reconcileStrategy: Revision), and a label that changes
with it would restart every pod on any commit, README-only ones included.
*/}}
{{- define "base.podLabels" -}}
{{ include "base.selectorLabels" . }}
app.kubernetes.io/component: app
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/*
base.selectorLabels: the labels that select the app's pods, and that the platform chart's
ServiceMonitor uses to find the Service. Part of the base/platform contract: do not change.
*/}}
{{- define "base.selectorLabels" -}}
app.kubernetes.io/name: {{ include "base.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{/*
base.componentLabels: the labels of a component's objects (`component`: its name): the app's,
with the component's name as app.kubernetes.io/component. Its Service is so apart from the app's
for the platform chart's ServiceMonitor (which selects component: app).
*/}}
{{- define "base.componentLabels" -}}
helm.sh/chart: {{ include "base.chart" .root | quote }}
app.kubernetes.io/name: {{ include "base.name" .root | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/*
base.componentSelectorLabels: the labels that select a component's pods. Not
app.kubernetes.io/name, which with the instance would put them behind the app's Service, PDB
and NetworkPolicy (base.selectorLabels).
*/}}
{{- define "base.componentSelectorLabels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end }}

{{/*
base.serviceAccountName: the ServiceAccount the pods run as.
*/}}
{{- define "base.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "base.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
base.image: the image reference; a digest, when given, pins it instead of the tag.
*/}}
{{- define "base.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
base.maxReplicas: the most pods that can run at once, which decides whether a
PodDisruptionBudget makes sense.
*/}}
{{- define "base.maxReplicas" -}}
{{- if .Values.autoscaling.enabled }}
{{- .Values.autoscaling.maxReplicas }}
{{- else }}
{{- .Values.replicaCount }}
{{- end }}
{{- end }}

{{/*
base.serviceSpec: a Service's type and traffic settings, from `service` (the values of
`key`, service or extraService). The API server refuses the load balancer and external
traffic fields on types they do not apply to: fail here instead, naming the value.
*/}}
{{- define "base.serviceSpec" -}}
{{- $s := .service }}
type: {{ $s.type | quote }}
{{- with $s.externalTrafficPolicy }}
{{- if eq $s.type "ClusterIP" }}
{{- fail (printf "%s.externalTrafficPolicy applies to NodePort and LoadBalancer Services only" $.key) }}
{{- end }}
externalTrafficPolicy: {{ . | quote }}
{{- end }}
{{- with $s.internalTrafficPolicy }}
internalTrafficPolicy: {{ . | quote }}
{{- end }}
{{- if and (ne $s.type "LoadBalancer") (or $s.loadBalancerClass $s.loadBalancerSourceRanges) }}
{{- fail (printf "%s.loadBalancerClass and loadBalancerSourceRanges apply to LoadBalancer Services only" .key) }}
{{- end }}
{{- with $s.loadBalancerClass }}
loadBalancerClass: {{ . | quote }}
{{- end }}
{{- with $s.loadBalancerSourceRanges }}
loadBalancerSourceRanges:
  {{- range . }}
  - {{ . | quote }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
base.servicePort: the Service port of one entry of `ports`, sent to the container port of
the same name.
*/}}
{{- define "base.servicePort" -}}
- name: {{ .name | quote }}
  port: {{ .servicePort | default .containerPort }}
  targetPort: {{ .name | quote }}
  protocol: {{ .protocol | default "TCP" | quote }}
  {{- with .appProtocol }}
  appProtocol: {{ . | quote }}
  {{- end }}
  {{- with .nodePort }}
  nodePort: {{ . }}
  {{- end }}
{{- end }}

{{/*
base.extraContainer: an init or sidecar container as values give it; what its securityContext
leaves out comes from the app container's, so it meets the restricted Pod Security Standard too.
With inheritEnv it gets the app's environment before its own, with inheritMounts the app
container's mounts (`claims`, files, extra volumes) before its own.
*/}}
{{- define "base.extraContainer" -}}
{{- $container := omit .container "inheritEnv" "inheritMounts" }}
{{- if .container.inheritEnv }}
{{- $env := include "base.env" (dict "root" .root "withConfig" true) | fromYaml }}
{{- $_ := set $container "env" (concat ($env.env | default list) ($container.env | default list)) }}
{{- with concat ($env.envFrom | default list) ($container.envFrom | default list) }}
{{- $_ := set $container "envFrom" . }}
{{- end }}
{{- end }}
{{- if .container.inheritMounts }}
{{- $mounts := include "base.volumeMounts" (dict "root" .root "claims" .claims) | fromYamlArray }}
{{- $_ := set $container "volumeMounts" (concat $mounts ($container.volumeMounts | default list)) }}
{{- end }}
{{- toYaml (list (merge (dict) $container (dict "securityContext" .root.Values.securityContext))) }}
{{- end }}

{{/*
base.claims: the claims the pod mounts, as a JSON list: persistence's (volume `data`, claim
<release>-data) and each of extraPersistence (volume <name>, claim <release>-<name>); with
existingClaim, that claim is mounted and none is created.
*/}}
{{- define "base.claims" -}}
{{- $claims := list }}
{{- if .Values.persistence.enabled }}
{{- $claims = append $claims (merge (dict "name" "data") .Values.persistence) }}
{{- end }}
{{- range .Values.extraPersistence }}
{{- $claims = append $claims (merge (dict) . (omit $.Values.persistence "enabled" "existingClaim" "annotations" "mountPath")) }}
{{- end }}
{{- $result := list }}
{{- range $claims }}
{{- $result = append $result (merge (dict "claimName" (.existingClaim | default (printf "%s-%s" (include "base.fullname" $) .name))) .) }}
{{- end }}
{{- toJson $result }}
{{- end }}


{{/*
base.sharedClaims: the claims of base.claims that every pod of the release mounts, as a JSON
list: all of them, but with a StatefulSet only the existing ones (its pods get the others from
its templates, one each).
*/}}
{{- define "base.sharedClaims" -}}
{{- $shared := list }}
{{- range include "base.claims" . | fromJsonArray }}
{{- if or .existingClaim (not $.Values.statefulSet.enabled) }}
{{- $shared = append $shared . }}
{{- end }}
{{- end }}
{{- toJson $shared }}
{{- end }}

{{/*
base.env: the app's environment (env and envFrom): its port, the platform's credentials by the
contract's names, the `config` ConfigMap (unless withConfig is false) and the values' own.
*/}}
{{- define "base.env" -}}
{{- $root := .root }}
{{- $platform := $root.Values.platform -}}
env:
  - name: PORT
    value: {{ $root.Values.containerPort | quote }}
  {{- if $platform.postgres.enabled }}
  {{- $secret := required "platform.postgres.secretName is required when platform.postgres.enabled" $platform.postgres.secretName }}
  {{- /* DATABASE_URL for most frameworks, PG* for libpq and the tools built on it. */}}
  {{- $keys := dict "DATABASE_URL" "uri" "PGHOST" "host" "PGPORT" "port" "PGDATABASE" "dbname" "PGUSER" "user" "PGPASSWORD" "password" }}
  {{- with $platform.postgres.poolerService }}
  {{- $keys = omit $keys "DATABASE_URL" "PGHOST" }}
  {{- end }}
  {{- range $name, $key := merge $keys $platform.postgres.extraEnv }}
  - name: {{ $name | quote }}
    valueFrom:
      secretKeyRef:
        name: {{ $secret | quote }}
        key: {{ $key | quote }}
  {{- end }}
  {{- with $platform.postgres.poolerService }}
  {{- /* Through the pooler: the Secret's URI names the primary, so build one from its parts (Kubernetes expands $(VAR) from the variables above). */}}
  - name: PGHOST
    value: {{ . | quote }}
  - name: DATABASE_URL
    value: {{ printf "postgresql://$(PGUSER):$(PGPASSWORD)@%s:$(PGPORT)/$(PGDATABASE)" . | quote }}
  {{- end }}
  {{- end }}
  {{- with $root.Values.env }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- if or (and .withConfig $root.Values.config) $root.Values.envFrom $platform.objectStorage.enabled $platform.keyValueStore.enabled $platform.externalSecrets.enabled $platform.generatedSecrets.enabled }}
envFrom:
  {{- if and .withConfig $root.Values.config }}
  - configMapRef:
      name: {{ include "base.fullname" $root }}-config
  {{- end }}
  {{- if $platform.objectStorage.enabled }}
  {{- $bucket := required "platform.objectStorage.name is required when platform.objectStorage.enabled" $platform.objectStorage.name }}
  - configMapRef:
      name: {{ $bucket | quote }}
  - secretRef:
      name: {{ $bucket | quote }}
  {{- end }}
  {{- if $platform.keyValueStore.enabled }}
  - secretRef:
      name: {{ required "platform.keyValueStore.secretName is required when platform.keyValueStore.enabled" $platform.keyValueStore.secretName | quote }}
  {{- end }}
  {{- if $platform.externalSecrets.enabled }}
  - secretRef:
      name: {{ required "platform.externalSecrets.secretName is required when platform.externalSecrets.enabled" $platform.externalSecrets.secretName | quote }}
  {{- end }}
  {{- if $platform.generatedSecrets.enabled }}
  - secretRef:
      name: {{ required "platform.generatedSecrets.secretName is required when platform.generatedSecrets.enabled" $platform.generatedSecrets.secretName | quote }}
  {{- end }}
  {{- with $root.Values.envFrom }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
base.jobPod: the pod template of a job: the app's image, security, environment and scheduling,
labelled as the job's (not with the selector labels, so no Service sends it traffic). A hook
runs before this release's ServiceAccount and `config` ConfigMap exist, so it goes without them.
*/}}
{{- define "base.jobPod" -}}
{{- $root := .root }}
{{- if and .hook .job.inheritMounts }}
{{- fail (printf "jobs: %s is a hook, which runs before the release's claims and files exist: inheritMounts is for scheduled jobs" .job.name) }}
{{- end }}
{{- range include "base.sharedClaims" $root | fromJsonArray }}
{{- if and $.job.inheritMounts (or (has "ReadWriteOnce" .accessModes) (has "ReadWriteOncePod" .accessModes)) }}
{{- fail (printf "jobs: %s would share the app's volume %s, which is ReadWriteOnce and mounts on one node only; make it ReadWriteMany" $.job.name .name) }}
{{- end }}
{{- end }}
{{- $job := .job -}}
metadata:
  labels:
    {{- include "base.jobLabels" . | nindent 4 }}
spec:
  restartPolicy: Never
  {{- if and .hook $root.Values.serviceAccount.create }}
  serviceAccountName: "default"
  {{- else }}
  serviceAccountName: {{ include "base.serviceAccountName" $root | quote }}
  {{- end }}
  automountServiceAccountToken: false
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ $job.name | quote }}
      image: {{ include "base.image" $root | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy | quote }}
      command: {{ $job.command | toJson }}
      {{- with $job.args }}
      args: {{ toJson . }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      {{- include "base.env" (dict "root" $root "withConfig" (not .hook)) | nindent 6 }}
      resources:
        {{- toYaml ($job.resources | default $root.Values.resources) | nindent 8 }}
      {{- $shared := include "base.sharedClaims" $root | fromJsonArray }}
      volumeMounts:
        {{- if $job.inheritMounts }}
        {{- include "base.volumeMounts" (dict "root" $root "claims" $shared) | nindent 8 }}
        {{- else }}
        - name: tmp
          mountPath: /tmp
        {{- end }}
  volumes:
    {{- if $job.inheritMounts }}
    {{- include "base.volumes" (dict "root" $root "claims" $shared) | nindent 4 }}
    {{- else }}
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.tmpDir.sizeLimit | quote }}
    {{- end }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
base.jobLabels: the labels of a job's objects and pods: the release's, and the job as component.
The job NetworkPolicy selects its pods by app.kubernetes.io/part-of.
*/}}
{{- define "base.jobLabels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/part-of: {{ include "base.name" .root | quote }}
app.kubernetes.io/component: {{ printf "job-%s" .job.name | quote }}
{{- end }}


{{/*
base.egress: where the app's pods (and its jobs') may connect: DNS, the platform services the
app uses, and networkPolicy.extraEgress.
*/}}
{{- define "base.egress" -}}
{{- $platform := .Values.platform -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.dnsNamespace | quote }}
    {{- /* Node-local resolvers listen on link-local addresses, which no pod selector matches. */}}
    {{- range .Values.networkPolicy.dnsIPBlocks }}
    - ipBlock:
        cidr: {{ . | quote }}
    {{- end }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- if $platform.postgres.enabled }}
- to:
    - podSelector:
        matchExpressions:
          - key: cnpg.io/cluster
            operator: Exists
    {{- if $platform.postgres.poolerService }}
    - podSelector:
        matchExpressions:
          - key: cnpg.io/poolerName
            operator: Exists
    {{- end }}
  ports:
    - port: {{ $platform.postgres.port }}
      protocol: TCP
{{- end }}
{{- if $platform.objectStorage.enabled }}
- ports:
    - port: {{ $platform.objectStorage.port }}
      protocol: TCP
  {{- with $platform.objectStorage.namespace }}
  to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ . | quote }}
  {{- end }}
{{- end }}
{{- if $platform.keyValueStore.enabled }}
{{- /* The redis-operator labels every Redis pod (primary or replica) with its setup type. */}}
- to:
    - podSelector:
        matchExpressions:
          - key: redis_setup_type
            operator: Exists
  ports:
    - port: {{ $platform.keyValueStore.port }}
      protocol: TCP
{{- end }}
{{- if or .Values.components .Values.statefulSet.enabled }}
{{- /* The release's own pods on their ports: a StatefulSet's members each other, a worker the app's API, the app a component's service. */}}
{{- $ports := list (dict "containerPort" .Values.containerPort) }}
{{- $ports = concat $ports .Values.ports }}
{{- range .Values.components }}
{{- $ports = concat $ports (.ports | default list) }}
{{- end }}
- to:
    - podSelector:
        matchLabels:
          app.kubernetes.io/instance: {{ .Release.Name | quote }}
  ports:
    {{- range $port := $ports | uniq }}
    - port: {{ $port.containerPort }}
      protocol: {{ $port.protocol | default "TCP" | quote }}
    {{- end }}
{{- end }}
{{- with .Values.networkPolicy.extraEgress }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end }}

{{/*
base.probes: a container's liveness, readiness and startup probes, from `probes` (the app's
`probes`, or a component's) under the values key `key`. A probe left out is off; a probe's
path, port and scheme default to the ones of `probes`.
*/}}
{{- define "base.probes" -}}
{{- $probes := .probes }}
{{- $key := .key }}
{{- range $kind := list "liveness" "readiness" "startup" }}
{{- $probe := get $probes $kind | default dict }}
{{- $type := $probe.type | default "http" }}
{{- $port := $probe.port | default $probes.port }}
{{- if and $probe (ne $type "off") }}
{{- if and (ne $type "exec") (not $port) }}
{{- fail (printf "%s.%s.port (or %s.port) is required when its type is %s" $key $kind $key $type) }}
{{- end }}
{{ $kind }}Probe:
  {{- if eq $type "http" }}
  httpGet:
    path: {{ $probe.path | default $probes.path | quote }}
    port: {{ $port | toJson }}
    {{- if eq ($probes.scheme | default "HTTP") "HTTPS" }}
    scheme: HTTPS
    {{- end }}
  {{- else if eq $type "tcp" }}
  tcpSocket:
    port: {{ $port | toJson }}
  {{- else }}
  {{- if not $probe.command }}
  {{- fail (printf "%s.%s.command is required when its type is exec" $key $kind) }}
  {{- end }}
  exec:
    command: {{ $probe.command | toJson }}
  {{- end }}
  {{- with $probe.initialDelaySeconds }}
  initialDelaySeconds: {{ . }}
  {{- end }}
  {{- range $timing := list "failureThreshold" "periodSeconds" "timeoutSeconds" }}
  {{- with get $probe $timing }}
  {{ $timing }}: {{ . }}
  {{- end }}
  {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
base.volumeMounts: the app container's mounts: /tmp, `claims` (base.claims' entries), the
configFiles, secretFiles and extraVolumeMounts.
*/}}
{{- define "base.volumeMounts" -}}
{{- $root := .root -}}
- name: tmp
  mountPath: /tmp
{{- range .claims }}
- name: {{ .name | quote }}
  mountPath: {{ .mountPath | quote }}
{{- end }}
{{- range $root.Values.configFiles }}
{{- if .subPath }}
{{- $set := . }}
{{- range $file, $_ := .files }}
- name: {{ printf "files-%s" $set.name | quote }}
  mountPath: {{ printf "%s/%s" (trimSuffix "/" $set.mountPath) $file | quote }}
  subPath: {{ $file | quote }}
  readOnly: true
{{- end }}
{{- else }}
- name: {{ printf "files-%s" .name | quote }}
  mountPath: {{ .mountPath | quote }}
  readOnly: true
{{- end }}
{{- end }}
{{- range $index, $secret := $root.Values.secretFiles }}
{{- if $secret.subPath }}
{{- if not $secret.items }}
{{- fail (printf "secretFiles: %s has subPath, which mounts its items one by one: list them in items" $secret.secretName) }}
{{- end }}
{{- range $secret.items }}
- name: {{ printf "secret-files-%d" $index | quote }}
  mountPath: {{ printf "%s/%s" (trimSuffix "/" $secret.mountPath) .path | quote }}
  subPath: {{ .path | quote }}
  readOnly: true
{{- end }}
{{- else }}
- name: {{ printf "secret-files-%d" $index | quote }}
  mountPath: {{ $secret.mountPath | quote }}
  readOnly: true
{{- end }}
{{- end }}
{{- with $root.Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
base.volumes: the pod volumes behind base.volumeMounts: /tmp, `claims` (the ones the pods
share; a StatefulSet's own come from its templates), the configFiles, secretFiles and extraVolumes.
*/}}
{{- define "base.volumes" -}}
{{- $root := .root -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ $root.Values.tmpDir.sizeLimit | quote }}
{{- range .claims }}
- name: {{ .name | quote }}
  persistentVolumeClaim:
    claimName: {{ .claimName | quote }}
{{- end }}
{{- range $root.Values.configFiles }}
- name: {{ printf "files-%s" .name | quote }}
  configMap:
    name: {{ printf "%s-%s" (include "base.fullname" $root) .name | quote }}
    {{- if hasKey . "defaultMode" }}
    defaultMode: {{ .defaultMode }}
    {{- end }}
{{- end }}
{{- range $index, $secret := $root.Values.secretFiles }}
- name: {{ printf "secret-files-%d" $index | quote }}
  secret:
    secretName: {{ $secret.secretName | quote }}
    {{- with $secret.items }}
    items:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- if hasKey $secret "defaultMode" }}
    defaultMode: {{ $secret.defaultMode }}
    {{- end }}
{{- end }}
{{- with $root.Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
base.ruleBackend: the Service name and port an httpRoute.rules entry (`rule`) sends to: the app's
Service, or with `component` that component's, at the Service port of its `port` (a port name).
*/}}
{{- define "base.ruleBackend" -}}
{{- $root := .root }}
{{- with .rule.component }}
{{- $component := get $root.Values.components . | default dict }}
{{- if not $component }}
{{- fail (printf "httpRoute.rules: component %s is not in components" .) }}
{{- end }}
{{- $port := dict }}
{{- range $component.ports }}
{{- if eq .name $.rule.port }}
{{- $port = . }}
{{- end }}
{{- end }}
{{- if not $port }}
{{- fail (printf "httpRoute.rules: port %s is not a port of the component %s" (toString $.rule.port) .) }}
{{- end }}
name: {{ printf "%s-%s" (include "base.fullname" $root) . | quote }}
port: {{ $port.servicePort | default $port.containerPort }}
{{- else }}
name: {{ include "base.fullname" $root | quote }}
port: {{ $root.Values.service.port }}
{{- end }}
{{- end }}

{{/*
base.claimAnnotations: the annotations of a claim the chart creates (`claim`): its own and, with
persistence.keep, what keeps its data when the release or the Application goes: Helm skips
deleting it on uninstall, upgrade and rollback
(https://helm.sh/docs/howto/charts_tips_and_tricks/#tell-helm-not-to-uninstall-a-resource),
Argo CD on pruning (Prune=false) and on deleting the Application (Delete=false; argo-cd
docs/user-guide/sync-options.md, "No Resource Deletion", at 03070f7a).
*/}}
{{- define "base.claimAnnotations" -}}
{{- $annotations := deepCopy (.claim.annotations | default dict) }}
{{- if .root.Values.persistence.keep }}
{{- $annotations = merge (dict "helm.sh/resource-policy" "keep" "argocd.argoproj.io/sync-options" "Prune=false,Delete=false") $annotations }}
{{- end }}
{{- with $annotations }}
{{- toYaml . }}
{{- end }}
{{- end }}
