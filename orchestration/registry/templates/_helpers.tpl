{{/*
registry.settings: orchestration.json, the answers, names and rules Copier wrote, as JSON.
*/}}
{{- define "registry.settings" -}}
{{- .Files.Get "orchestration.json" }}
{{- end }}

{{/*
registry.entries: the registered apps, apps/*.yaml in file name order, as a JSON list. It fails,
naming the file, on what would deploy wrongly: a field that is not a string, a file not named
after its app, or an app whose objects would take a name another object has (the
orchestration's own, or another app's <app>-gitops). `make check` (scripts/registry.py) applies
every rule of a registry entry; this is the guard for an entry that reaches git unchecked.
*/}}
{{- define "registry.entries" -}}
{{- $settings := include "registry.settings" . | fromJson }}
{{- $entries := list }}
{{- $registered := dict }}
{{- range $path, $_ := .Files.Glob "apps/*.yaml" }}
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
{{- $_ := set $registered $entry.app_name true }}
{{- $entries = append $entries $entry }}
{{- end }}
{{- range $entries }}
{{- $gitops := printf "%s%s" .app_name $settings.registered_suffix }}
{{- if and (eq $settings.cluster_controller "fluxcd") (hasKey $registered $gitops) }}
{{- fail (printf "registry/apps/%s.yaml: the app %s is registered too, and the objects applying %s are named %s: register one under another name" $gitops $gitops .app_name $gitops) }}
{{- end }}
{{- end }}
{{- toJson $entries }}
{{- end }}

{{/*
registry.application: the Argo CD Application applying an app's gitops/argocd folder, from a
dict of its fields (name, app, repoURL, revision). The App-of-Apps renders it once per app with
the entry's values; the ApplicationSet takes it as its template, with Go template
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
