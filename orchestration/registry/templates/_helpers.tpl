{{/*
registry.settings: orchestration.json, the answers, names and rules Copier wrote, as JSON.
*/}}
{{- define "registry.settings" -}}
{{- .Files.Get "orchestration.json" }}
{{- end }}

{{/*
registry.environment: the environment this release renders (the `environment` value), failing
unless orchestration.json names it, and its folders (inside this chart), as JSON.
*/}}
{{- define "registry.environment" -}}
{{- $settings := include "registry.settings" . | fromJson }}
{{- $name := .Values.environment }}
{{- if not (has $name $settings.environments) }}
{{- fail (printf "environment: %q is not an environment of this orchestration (%s): set it as clusters/<env>/apps.yaml does" $name (join ", " $settings.environments)) }}
{{- end }}
{{- $prefix := printf "%s/" $settings.paths.registry }}
{{- $paths := index $settings.paths.environments $name }}
{{- toJson (dict "name" $name "apps" (trimPrefix $prefix $paths.apps) "values" (trimPrefix $prefix $paths.values)) }}
{{- end }}

{{/*
registry.entries: the environment's apps, environments/<env>/apps/*.yaml in file name order, as
a JSON list, each with `overrides`: its charts' values from environments/<env>/values/ (empty
when none). It fails, naming the file, on what would deploy wrongly: a field that is not a
string, a file not named after its app, an app whose objects would take a name another object
has (the orchestration's own, or another app's <app>-gitops), or a values file that is not a map
or overrides no app. `make check` (scripts/registry.py) applies every rule of a registry entry;
this is the guard for an entry that reaches git unchecked.
*/}}
{{- define "registry.entries" -}}
{{- $settings := include "registry.settings" . | fromJson }}
{{- $environment := include "registry.environment" . | fromJson }}
{{- $entries := list }}
{{- $registered := dict }}
{{- range $path, $_ := .Files.Glob (printf "%s/*.yaml" $environment.apps) }}
{{- $entry := $.Files.Get $path | fromYaml }}
{{- if hasKey $entry "Error" }}
{{- fail (printf "registry/%s: not YAML: %s" $path $entry.Error) }}
{{- end }}
{{- range $key := list "app_name" "repo_url" "git_revision" "namespace" "git_secret_name" }}
{{- if and (or (hasKey $entry $key) (ne $key "git_secret_name")) (not (kindIs "string" (index $entry $key))) }}
{{- fail (printf "registry/%s: %s must be a string: %s: \"value\"" $path $key $key) }}
{{- end }}
{{- end }}
{{- if ne (base $path) (printf "%s.yaml" $entry.app_name) }}
{{- fail (printf "registry/%s: name the file after its app_name, %s.yaml" $path $entry.app_name) }}
{{- end }}
{{- if has $entry.app_name $settings.reserved_app_names }}
{{- fail (printf "registry/%s: the orchestration's own objects take the names of an app called %s: register it under another name" $path $entry.app_name) }}
{{- end }}
{{- $overrides := dict }}
{{- range $chart := $settings.app_charts }}
{{- $file := printf "%s/%s-%s.yaml" $environment.values $entry.app_name $chart }}
{{- with $.Files.Get $file }}
{{- $values := fromYaml . }}
{{- if hasKey $values "Error" }}
{{- fail (printf "registry/%s: not a map of values: %s" $file $values.Error) }}
{{- end }}
{{- if $settings.argocd_applicationset }}
{{- fail (printf "registry/%s: value overrides need the App-of-Apps: the ApplicationSet's git generator reads the registry entries only (argocd_applicationset: false)" $file) }}
{{- end }}
{{- $_ := set $overrides $chart $values }}
{{- end }}
{{- end }}
{{- $_ := set $entry "overrides" $overrides }}
{{- $_ := set $registered $entry.app_name true }}
{{- $entries = append $entries $entry }}
{{- end }}
{{- $expected := dict }}
{{- range $app, $_ := $registered }}
{{- range $chart := $settings.app_charts }}
{{- $_ := set $expected (printf "%s/%s-%s.yaml" $environment.values $app $chart) true }}
{{- end }}
{{- end }}
{{- range $path, $_ := .Files.Glob (printf "%s/*" $environment.values) }}
{{- if not (hasKey $expected $path) }}
{{- fail (printf "registry/%s: overrides no chart of an app this environment runs (the files are <app>-base.yaml and <app>-platform.yaml, for a registered app)" $path) }}
{{- end }}
{{- end }}
{{- range $entries }}
{{- $gitops := printf "%s%s" .app_name $settings.registered_suffix }}
{{- if and (eq $settings.cluster_controller "fluxcd") (hasKey $registered $gitops) }}
{{- fail (printf "registry/%s/%s.yaml: the app %s is registered too, and the objects applying %s are named %s: register one under another name" $environment.apps $gitops $gitops .app_name $gitops) }}
{{- end }}
{{- end }}
{{- toJson $entries }}
{{- end }}

{{/*
registry.application: the Argo CD Application applying an app's gitops/argocd folder, from a
dict of its fields (name, app, repoURL, revision, patches). The App-of-Apps renders it once per
app with the entry's values; the ApplicationSet takes it as its template, with Go template
placeholders for values, so both make the same Applications.
*/}}
{{- define "registry.application" -}}
{{- $settings := .settings -}}
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ .name | quote }}
  namespace: {{ $settings.argocd_namespace | quote }}
  labels:
    app.kubernetes.io/part-of: {{ .app | quote }}
  # Removing the app from the registry deletes this Application and, through the finalizer,
  # what it applied: the app's AppProject and Applications, whose finalizers prune its base.
  # Its platform data stays (Delete=false on the database and bucket).
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: {{ $settings.names.apps_project | quote }}
  source:
    repoURL: {{ .repoURL | quote }}
    targetRevision: {{ .revision | quote }}
    path: {{ $settings.paths.app_argocd | quote }}
    # The environment's revision for the app's charts too, and its value overrides.
    kustomize:
      patches:
        {{- .patches | toYaml | nindent 8 }}
  destination:
    server: {{ $settings.cluster_server | quote }}
    namespace: {{ $settings.argocd_namespace | quote }}
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    retry:
      limit: 5
      backoff:
        duration: 10s
        factor: 2
        maxDuration: 5m
{{- end }}

{{/*
registry.fluxRef: the field of a Flux GitRepository's spec.ref that fetches a revision
(list revision patterns), by extensions/naming.py's flux_git_ref rules.
*/}}
{{- define "registry.fluxRef" -}}
{{- $revision := index . 0 }}
{{- $patterns := index . 1 }}
{{- if regexMatch (printf "^(?:%s)$" $patterns.commit) $revision }}commit
{{- else if hasPrefix "refs/" $revision }}name
{{- else if regexMatch (printf "^(?:%s)$" $patterns.version_tag) $revision }}tag
{{- else }}branch
{{- end }}
{{- end }}

{{/*
registry.fluxURL: a repository URL as Flux takes it (list url patterns): Flux has no scp-like
form, so git@host:path becomes ssh://git@host/path, as extensions/naming.py's flux_repo_url.
*/}}
{{- define "registry.fluxURL" -}}
{{- $url := index . 0 }}
{{- $scp := printf "^(?:%s)$" (index . 1).scp_url }}
{{- if and (regexMatch $scp $url) (not (contains "://" $url)) }}
{{- regexReplaceAll $scp $url "ssh://${user}@${host}/${path}" }}
{{- else }}
{{- $url }}
{{- end }}
{{- end }}

{{/*
registry.argocdPatches: the kustomize patches of an app's gitops/argocd folder in an environment
(list settings app revisionJSON overrides): every Application the folder holds is in the app's
AppProject, which the registry writes (registry.appProject), and no AppProject of the folder is
applied, so the app cannot widen what it may deploy; no Application manages its namespace's
labels (managedNamespaceMetadata, which Argo CD sets on the namespace, existing or not: argo-cd
controller/sync_namespace.go), so the app cannot choose its Pod Security level; the registry
writes the namespace (registry.namespaces), which CreateNamespace=true then leaves as it is; each
chart's Application deploys the
environment's revision, with the environment's values (valuesObject, layered over the app's
value files). The revision comes as JSON, so that the ApplicationSet can pass
`{{ .git_revision | toJson }}`.
*/}}
{{- define "registry.argocdPatches" -}}
{{- $settings := index . 0 }}
{{- $app := index . 1 }}
{{- $revision := index . 2 }}
{{- $overrides := index . 3 }}
{{- $project := list (dict "op" "add" "path" "/spec/project" "value" $app) | toJson }}
{{- $patches := list (dict "target" (dict "group" "argoproj.io" "kind" "Application") "patch" $project) }}
{{- $patches = append $patches (dict "target" (dict "group" "argoproj.io" "kind" "AppProject") "patch" "$patch: delete\napiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: any\n") }}
{{- $unmanaged := dict "apiVersion" "argoproj.io/v1alpha1" "kind" "Application" "metadata" (dict "name" "any") "spec" (dict "syncPolicy" (dict "managedNamespaceMetadata" (dict "$patch" "delete"))) }}
{{- $patches = append $patches (dict "target" (dict "group" "argoproj.io" "kind" "Application") "patch" (toJson $unmanaged)) }}
{{- range $chart := $settings.app_charts }}
{{- $ops := printf "{\"op\":\"replace\",\"path\":\"/spec/source/targetRevision\",\"value\":%s}" $revision }}
{{- with index $overrides $chart }}
{{- $ops = printf "%s,%s" $ops (dict "op" "add" "path" "/spec/source/helm/valuesObject" "value" . | toJson) }}
{{- end }}
{{- $target := dict "group" "argoproj.io" "kind" "Application" "name" (printf "%s-%s" $app $chart) }}
{{- $patches = append $patches (dict "target" $target "patch" (printf "[%s]" $ops)) }}
{{- end }}
{{- toJson $patches }}
{{- end }}

{{/*
registry.fluxPatches: the kustomize patches of an app's gitops/fluxcd folder in an environment
(list settings app refField revision overrides reviewTag fetch): the app's GitRepository fetches the
environment's revision; every Kustomization the folder holds acts as the ServiceAccount
<app>-deploy (registry.fluxTenancy) and patches what it applies: every HelmRelease acts as
<app>-deploy too, creates no namespace, and has the environment's values (spec.values, layered
over the app's values files); no Namespace is applied, the registry writes the app's. None reads
a Secret or ConfigMap of the Flux namespace, which the controllers read with their own rights,
not the account's: a Kustomization's decryption keys (kustomize-controller v1.9.4
internal/decryptor/decryptor.go) and postBuild.substituteFrom (kustomize-controller v1.9.4
internal/controller/kustomization_controller.go passes its own client to SubstituteVariables;
fluxcd/pkg kustomize v1.35.4 kustomize_varsub.go, LoadVariables, reads the Kustomization's
namespace) and kubeConfig (fluxcd/pkg runtime v0.110.1 client/impersonator.go,
getRESTConfigFromSecret: the controller's client, the object's namespace; the kubeconfig's
credentials then replace the controller's), a HelmRelease's valuesFrom and kubeConfig
(helm-controller v1.6.3 internal/controller/helmrelease_controller.go: r.Client). An app whose
platform a person reviews fetches it through the GitRepository <app>-platform (names.py's
flux_platform_source): from the environment's own review tag where the environment follows a
branch, else from the environment's revision, so a review for one environment never reaches
another. An app without that GitRepository is left as it is: kustomize ignores a patch whose
target matches nothing (kustomize v5.5.0, as the suite's graph walk runs it).
Every source the app's Kustomizations and HelmReleases read is one of its own GitRepositories,
<app> or <app>-platform, which fetch the registered repository with the registered Secret, as
<app>-gitops does (`fetch`: url and secretRef), and include no other GitRepository
(spec.include) nor read a proxy's Secret (proxySecretRef): source-controller reads those Secrets
and included artifacts with its own rights (fluxcd.io/flux/components/source/gitrepositories/),
and the controllers get the source and fetch its artifact with theirs, before acting as any
account (kustomize-controller v1.9.4 kustomization_controller.go, getSource and fetch.New before
NewImpersonator; helm-controller v1.6.3 helmrelease_controller.go, NewHelmChartTemplate with
r.Client, then loader.SecureLoadChartFromURL), and every app's sources are in the Flux namespace,
so naming another app's would deploy that app's repository, or read its charts into this app's
namespace. RBAC cannot stop it (the app's objects name the source, they do not read it), nor
--no-cross-namespace-refs (one namespace). Which of its two an object reads stays the app's to
say (<app>-platform exists only where the app has its platform reviewed): a reference to any
other is set to <app>, kind GitRepository, no namespace, and a HelmRelease's chartRef (a HelmChart
or OCIRepository by name) is dropped. Kustomize selects an object by its annotations, never by
a field, so the name is copied into the annotation registry/source, selected on
(registry.fluxSourcePatches), and the annotation removed.
An app's Alert hears of the app's own Flux objects only: its eventSources become the app's
GitRepositories, Kustomizations and HelmReleases, by name. Every app's live in the Flux
namespace, where an event source of name "*" would select them all (notification-controller's
Alert spec: "To target all resources of a particular kind in a namespace, you can use the *
wildcard"), and another app's failure events say what failed and why.
*/}}
{{- define "registry.fluxPatches" -}}
{{- $settings := index . 0 }}
{{- $app := index . 1 }}
{{- $ref := dict (index . 2) (index . 3) }}
{{- $overrides := index . 4 }}
{{- $reviewed := ternary (dict "tag" (index . 5)) $ref (eq (index . 2) "branch") }}
{{- $account := printf "%s-deploy" $app }}
{{- $source := dict "group" "source.toolkit.fluxcd.io" "kind" "GitRepository" "name" $app }}
{{- $platformSource := dict "group" "source.toolkit.fluxcd.io" "kind" "GitRepository" "name" (printf "%s-platform" $app) }}
{{- $patches := list (dict "target" $source "patch" (toJson (list (dict "op" "replace" "path" "/spec/ref" "value" $ref)))) }}
{{- $patches = append $patches (dict "target" $platformSource "patch" (toJson (list (dict "op" "replace" "path" "/spec/ref" "value" $reviewed)))) }}
{{- $fetched := dict "apiVersion" "source.toolkit.fluxcd.io/v1" "kind" "GitRepository" "metadata" (dict "name" "any") }}
{{- $fetch := index . 6 }}
{{- $_ := set $fetched "spec" (dict "url" $fetch.url "secretRef" $fetch.secretRef "include" nil "proxySecretRef" nil) }}
{{- $patches = append $patches (dict "target" (omit $source "name") "patch" (toJson $fetched)) }}
{{- $marked := dict "name" "any" "annotations" (dict "registry/source" "") }}
{{- $ownSource := dict "kind" "GitRepository" "namespace" nil }}
{{- $releases := dict "group" "helm.toolkit.fluxcd.io" "kind" "HelmRelease" }}
{{- $release := dict "apiVersion" "helm.toolkit.fluxcd.io/v2" "kind" "HelmRelease" "metadata" $marked }}
{{- $_ := set $release "spec" (dict "serviceAccountName" $account "install" (dict "createNamespace" false) "kubeConfig" nil "valuesFrom" nil "chart" (dict "spec" (dict "sourceRef" $ownSource)) "chartRef" nil) }}
{{- $namespace := dict "$patch" "delete" "apiVersion" "v1" "kind" "Namespace" "metadata" (dict "name" "any") }}
{{- $confined := list (dict "target" $releases "patch" (toJson $release)) }}
{{- $confined = concat $confined (include "registry.fluxSourcePatches" (list $app $releases "/spec/chart/spec/sourceRef/name") | fromJsonArray) }}
{{- $confined = append $confined (dict "target" (dict "version" "v1" "kind" "Namespace") "patch" (toJson $namespace)) }}
{{- $kustomizations := dict "group" "kustomize.toolkit.fluxcd.io" "kind" "Kustomization" }}
{{- $kustomization := dict "apiVersion" "kustomize.toolkit.fluxcd.io/v1" "kind" "Kustomization" "metadata" $marked }}
{{- $_ := set $kustomization "spec" (dict "serviceAccountName" $account "patches" $confined "kubeConfig" nil "postBuild" (dict "substituteFrom" nil) "decryption" nil "sourceRef" $ownSource) }}
{{- $patches = append $patches (dict "target" $kustomizations "patch" (toJson $kustomization)) }}
{{- $patches = concat $patches (include "registry.fluxSourcePatches" (list $app $kustomizations "/spec/sourceRef/name") | fromJsonArray) }}
{{- $told := list (dict "kind" "GitRepository" "name" $app) (dict "kind" "GitRepository" "name" (printf "%s-platform" $app)) }}
{{- range $kind := list "Kustomization" "HelmRelease" }}
{{- range $chart := $settings.app_charts }}
{{- $told = append $told (dict "kind" $kind "name" (printf "%s-%s" $app $chart)) }}
{{- end }}
{{- end }}
{{- $alerts := dict "group" "notification.toolkit.fluxcd.io" "kind" "Alert" }}
{{- $patches = append $patches (dict "target" $alerts "patch" (toJson (list (dict "op" "replace" "path" "/spec/eventSources" "value" $told)))) }}
{{- range $chart := $settings.app_charts }}
{{- with index $overrides $chart }}
{{- $name := printf "%s-%s" $app $chart }}
{{- $values := dict "target" (merge (dict "name" $name) $releases) "patch" (toJson (list (dict "op" "add" "path" "/spec/values" "value" .))) }}
{{- $target := merge (dict "name" $name) $kustomizations }}
{{- $patches = append $patches (dict "target" $target "patch" (toJson (list (dict "op" "add" "path" "/spec/patches" "value" (append $confined $values))))) }}
{{- end }}
{{- end }}
{{- toJson $patches }}
{{- end }}

{{/*
registry.fluxSourcePatches: the kustomize patches that set the source an app's objects read
(list app target pointer) to <app> unless it is <app> or <app>-platform, as JSON, after a
patch of registry.fluxPatches gave each object the annotation registry/source: the name at
`pointer` is copied into it, the objects naming another are selected by it (kustomize's
annotationSelector, label selector syntax) and given <app>, and the annotation is removed.
*/}}
{{- define "registry.fluxSourcePatches" -}}
{{- $app := index . 0 }}
{{- $target := index . 1 }}
{{- $pointer := index . 2 }}
{{- $annotation := "/metadata/annotations/registry~1source" }}
{{- $others := printf "registry/source notin (%s,%s-platform)" $app $app }}
{{- list
      (dict "target" $target "patch" (list (dict "op" "copy" "from" $pointer "path" $annotation) | toJson))
      (dict "target" (merge (dict "annotationSelector" $others) $target) "patch" (list (dict "op" "replace" "path" $pointer "value" $app) | toJson))
      (dict "target" $target "patch" (list (dict "op" "remove" "path" $annotation) | toJson)) | toJson }}
{{- end }}

{{/*
registry.namespaces: the registered apps' namespaces (dict settings entries), each once, written
here, not by the app, so that its Pod Security Standard is the organisation's (the app's AppProject admits no
Namespace, and its Applications' managedNamespaceMetadata is dropped: registry.argocdPatches; its
Flux objects apply none: registry.fluxPatches) and its rights (registry.fluxTenancy) exist before
its objects. Removing the app from the registry keeps the namespace and the data in it.
*/}}
{{- define "registry.namespaces" }}
{{- $namespaces := list }}
{{- range .entries }}
{{- $namespaces = append $namespaces .namespace }}
{{- end }}
{{- range $namespaces | uniq | sortAlpha }}
---
apiVersion: v1
kind: Namespace
metadata:
  name: {{ . | quote }}
  labels:
    {{- range $mode := list "enforce" "audit" "warn" }}
    {{ printf "pod-security.kubernetes.io/%s" $mode | quote }}: {{ $.settings.pod_security_level | quote }}
    {{- end }}
  annotations:
    helm.sh/resource-policy: keep
    argocd.argoproj.io/sync-options: Prune=false,Delete=false
    # Before the Applications that deploy into it.
    argocd.argoproj.io/sync-wave: "-1"
{{- end }}
{{- end }}

{{/*
registry.appGroups (dict settings entry): the API groups an app may deploy objects of, in its own
namespace only: those of the kinds the app template's charts render (names.py's APP_KINDS, which
its gitops/argocd/project.yaml lists too), and none of Argo CD's or Flux's, whose objects would
act with their controller's rights.
*/}}
{{- define "registry.appGroups" -}}
{{- .settings.app_api_groups | toJson }}
{{- end }}

{{/*
registry.appProject: the AppProject of a registered app (dict settings entry), written by the
registry, never by the app: its Applications deploy from its repository only, into its
namespace only, objects of registry.appGroups, and nothing cluster-wide, not even a Namespace
(registry.namespaces writes it).
*/}}
{{- define "registry.appProject" -}}
{{- $settings := .settings -}}
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: {{ .entry.app_name | quote }}
  namespace: {{ $settings.argocd_namespace | quote }}
  labels:
    app.kubernetes.io/part-of: {{ .entry.app_name | quote }}
  annotations:
    # Before the Applications that use it.
    argocd.argoproj.io/sync-wave: "-1"
  # Kept until no Application uses it.
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  description: {{ printf "What the registered app %s may deploy" .entry.app_name | quote }}
  sourceRepos:
    - {{ .entry.repo_url | quote }}
  destinations:
    - server: {{ $settings.cluster_server | quote }}
      namespace: {{ .entry.namespace | quote }}
  # No clusterResourceWhitelist: nothing cluster-wide (argo-cd app_project_types.go,
  # IsGroupKindNamePermitted: an empty one admits nothing).
  namespaceResourceWhitelist:
    {{- range include "registry.appGroups" . | fromJsonArray }}
    - group: {{ . | quote }}
      kind: "*"
    {{- end }}
  orphanedResources:
    warn: true
{{- end }}

{{/*
registry.fluxTenancy: the accounts Flux acts as for a registered app (dict settings entry), each
with rights only where it needs them (Flux's multi-tenancy model: fluxcd.io/flux/installation/
configuration/multitenancy/; a ServiceAccount of flux-system for the sync the platform owns,
github.com/fluxcd/flux2/discussions/263): <app>-gitops applies the app's gitops/fluxcd, its
GitRepositories, Kustomizations and Alert by name; <app>-deploy applies its Kustomizations'
HelmReleases, by name, and installs them in the app's namespace, which the registry writes. A
name-restricted rule cannot create (Kubernetes RBAC): Flux applies server-side, a patch, which
creates what does not exist yet.
*/}}
{{- define "registry.fluxTenancy" -}}
{{- $settings := .settings }}
{{- $app := .entry.app_name }}
{{- $system := $settings.flux_namespace }}
{{- $accounts := dict }}
{{- $_ := set $accounts (printf "%s-gitops" $app) (list
      (dict "apiGroups" (list "source.toolkit.fluxcd.io") "resources" (list "gitrepositories") "resourceNames" (list $app (printf "%s-platform" $app)))
      (dict "apiGroups" (list "kustomize.toolkit.fluxcd.io") "resources" (list "kustomizations") "resourceNames" (list (printf "%s-base" $app) (printf "%s-platform" $app)))
      (dict "apiGroups" (list "notification.toolkit.fluxcd.io") "resources" (list "alerts") "resourceNames" (list $app))) }}
{{- $_ := set $accounts (printf "%s-deploy" $app) (list
      (dict "apiGroups" (list "helm.toolkit.fluxcd.io") "resources" (list "helmreleases") "resourceNames" (list (printf "%s-base" $app) (printf "%s-platform" $app)))) }}
{{- range $account, $rules := $accounts }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $account | quote }}
  namespace: {{ $system | quote }}
  labels:
    app.kubernetes.io/part-of: {{ $app | quote }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $account | quote }}
  namespace: {{ $system | quote }}
  labels:
    app.kubernetes.io/part-of: {{ $app | quote }}
rules:
{{- range $rules }}
  - {{ merge (dict "verbs" (list "get" "patch" "delete")) . | toJson }}
{{- end }}
{{- include "registry.fluxBinding" (list $app $account $system $system) }}
{{- end }}
---
# Its namespace, in which it may do anything with the API groups an app's charts use.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ printf "%s-deploy" $app | quote }}
  namespace: {{ .entry.namespace | quote }}
  labels:
    app.kubernetes.io/part-of: {{ $app | quote }}
rules:
  - apiGroups: {{ include "registry.appGroups" . }}
    resources: ["*"]
    verbs: ["*"]
{{- include "registry.fluxBinding" (list $app (printf "%s-deploy" $app) .entry.namespace $system) }}
{{- end }}

{{/*
registry.fluxBinding: a RoleBinding of the Role <account> to the ServiceAccount <account> (list
app account namespace accountNamespace).
*/}}
{{- define "registry.fluxBinding" -}}
{{- $app := index . 0 }}
{{- $account := index . 1 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $account | quote }}
  namespace: {{ index . 2 | quote }}
  labels:
    app.kubernetes.io/part-of: {{ $app | quote }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $account | quote }}
subjects:
  - kind: ServiceAccount
    name: {{ $account | quote }}
    namespace: {{ index . 3 | quote }}
{{- end }}

{{/*
registry.secretReader: a registered app's right to its own secret (dict settings entry), when
the store holds apps' secrets as Secrets of this cluster: the ClusterSecretStore reads as the
ServiceAccount default of the ExternalSecret's namespace, which may get the Secret named after
that namespace there and nothing else, so an app cannot pull another's. (A namespace is what
a store can tell apps apart by: Vault's policy names the path after it too.)
*/}}
{{- define "registry.secretReader" -}}
{{- with .settings.secret_store }}
{{- $name := printf "%s-reader" $.entry.app_name }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name | quote }}
  namespace: {{ .namespace | quote }}
  labels:
    app.kubernetes.io/part-of: {{ $.entry.app_name | quote }}
rules:
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [{{ $.entry.namespace | quote }}]
    verbs: [get]
  # External Secrets checks its access with a SelfSubjectRulesReview.
  - apiGroups: [authorization.k8s.io]
    resources: [selfsubjectrulesreviews]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name | quote }}
  namespace: {{ .namespace | quote }}
  labels:
    app.kubernetes.io/part-of: {{ $.entry.app_name | quote }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name | quote }}
subjects:
  - kind: ServiceAccount
    name: default
    namespace: {{ $.entry.namespace | quote }}
{{- end }}
{{- end }}
