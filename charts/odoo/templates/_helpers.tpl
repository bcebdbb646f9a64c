{{/*
Names. Every object is "<nameOverride>-<component>", plus "-<tenant>" in multi-tenant environments,
so several tenants share a namespace: odoo-web, odoo-web-acme-build, odoo-backup-1-4-0-acme-build.
*/}}
{{- define "odoo.name" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $name := printf "%s-%s" ($root.Values.nameOverride | default "odoo") $component -}}
{{- if $root.Values.tenant -}}{{- $name = printf "%s-%s" $name $root.Values.tenant -}}{{- end -}}
{{- $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* A release version as a name part: 1.4.0+build.7 -> 1-4-0-build-7 (must match gitops/verify/backup_contract.py). */}}
{{- define "odoo.versionSlug" -}}
{{- .Values.release.version | lower | replace "." "-" | replace "+" "-" | replace "_" "-" -}}
{{- end -}}

{{- define "odoo.labels" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
app.kubernetes.io/name: odoo
app.kubernetes.io/instance: {{ $root.Release.Name | quote }}
app.kubernetes.io/component: {{ $component }}
app.kubernetes.io/managed-by: {{ $root.Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | quote }}
{{- if $root.Values.tenant }}
odoo-gitops.io/tenant: {{ $root.Values.tenant | quote }}
{{- end }}
{{- end -}}

{{- define "odoo.selectorLabels" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
app.kubernetes.io/name: odoo
app.kubernetes.io/instance: {{ $root.Release.Name | quote }}
app.kubernetes.io/component: {{ $component }}
{{- if $root.Values.tenant }}
odoo-gitops.io/tenant: {{ $root.Values.tenant | quote }}
{{- end }}
{{- end -}}

{{/* image@digest; rendering fails when the digest is missing or malformed, even with schema validation skipped. */}}
{{- define "odoo.imageRef" -}}
{{- $image := . -}}
{{- if not $image.repository -}}
{{- fail "image.repository is required (odoo-gitops writes it on promotion)" -}}
{{- end -}}
{{- if contains "@" $image.repository -}}
{{- fail (printf "image.repository %q must not carry a digest; put it in image.digest" $image.repository) -}}
{{- end -}}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" ($image.digest | default "")) -}}
{{- fail (printf "image.digest %q is not a sha256 digest (sha256:<64 hex>); images are always pinned by digest" ($image.digest | default "")) -}}
{{- end -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- end -}}

{{- define "odoo.image" -}}
{{- include "odoo.imageRef" .Values.image -}}
{{- end -}}

{{- define "odoo.dbName" -}}
{{- .Values.database.name | default .Values.tenant -}}
{{- end -}}

{{- define "odoo.dbfilter" -}}
{{- .Values.odoo.dbfilter | default (printf "^%s$" (include "odoo.dbName" .)) -}}
{{- end -}}

{{- define "odoo.websocket" -}}
{{- if gt (int .Values.odoo.workers) 0 }}true{{ end -}}
{{- end -}}

{{/* The odoo.conf template: no credential ever appears here (render-config.py adds them from Secrets). */}}
{{- define "odoo.conf" -}}
[options]
{{- with .Values.odoo.addonsPath }}
addons_path = {{ . }}
{{- end }}
data_dir = {{ .Values.odoo.dataDir }}
db_host = {{ .Values.database.host }}
db_port = {{ .Values.database.port }}
db_name = {{ include "odoo.dbName" . }}
db_sslmode = {{ .Values.database.sslmode }}
db_maxconn = {{ .Values.database.maxconn }}
dbfilter = {{ include "odoo.dbfilter" . }}
list_db = False
proxy_mode = {{ ternary "True" "False" .Values.odoo.proxyMode }}
http_port = {{ .Values.service.httpPort }}
gevent_port = {{ .Values.service.geventPort }}
workers = {{ .Values.odoo.workers }}
max_cron_threads = 0
limit_memory_soft = {{ .Values.odoo.limits.memorySoft | int64 }}
limit_memory_hard = {{ .Values.odoo.limits.memoryHard | int64 }}
limit_time_cpu = {{ .Values.odoo.limits.timeCpu }}
limit_time_real = {{ .Values.odoo.limits.timeReal }}
limit_time_real_cron = {{ .Values.odoo.limits.timeRealCron }}
limit_request = {{ .Values.odoo.limits.requestMax }}
server_wide_modules = {{ join "," .Values.odoo.serverWideModules }}
{{- with .Values.odoo.withoutDemo }}
without_demo = {{ . }}
{{- end }}
log_level = {{ .Values.odoo.logLevel }}
{{- range $key, $value := .Values.odoo.extraOptions }}
{{ $key }} = {{ $value }}
{{- end }}
{{- end -}}

{{/* Credentials: only ever secretKeyRef. */}}
{{- define "odoo.secretEnv" -}}
- name: ODOO_ADMIN_PASSWD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.adminPassword.existingSecret }}
      key: {{ .Values.adminPassword.key }}
{{ include "odoo.dbSecretEnv" . }}
{{- end -}}

{{- define "odoo.dbSecretEnv" -}}
- name: PGUSER
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.userKey }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.passwordKey }}
{{- end -}}

{{- define "odoo.pgEnv" -}}
- name: PGHOST
  value: {{ .Values.database.host | quote }}
- name: PGPORT
  value: {{ .Values.database.port | quote }}
- name: PGDATABASE
  value: {{ include "odoo.dbName" . | quote }}
- name: PGSSLMODE
  value: {{ .Values.database.sslmode | quote }}
{{- end -}}

{{/* The init container that writes the full odoo.conf (template + credentials) into a memory-backed emptyDir. */}}
{{- define "odoo.renderConfigContainer" -}}
- name: render-config
  image: {{ include "odoo.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: [python3, /opt/odoo-chart/render-config.py, /opt/odoo-chart/odoo.conf, /run/odoo/odoo.conf]
  env:
{{ include "odoo.secretEnv" . | indent 4 }}
  securityContext:
{{ toYaml .Values.securityContext.container | indent 4 }}
  resources:
    requests: {cpu: 10m, memory: 32Mi}
    limits: {cpu: 100m, memory: 64Mi}
  volumeMounts:
    - {name: chart-files, mountPath: /opt/odoo-chart, readOnly: true}
    - {name: run, mountPath: /run/odoo}
{{- end -}}

{{- define "odoo.configVolumes" -}}
- name: chart-files
  configMap:
    name: {{ index . 1 }}
    defaultMode: 0444
- name: run
  emptyDir: {medium: Memory, sizeLimit: 1Mi}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "odoo.dataVolume" -}}
- name: data
{{- if .Values.persistence.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.persistence.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end -}}

{{- define "odoo.podSecurityContext" -}}
{{ toYaml .Values.securityContext.pod }}
{{- end -}}

{{- define "odoo.pullSecrets" -}}
{{- if .Values.image.pullSecrets -}}
imagePullSecrets:
{{- range .Values.image.pullSecrets }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* Hooks that run before the new pods: Helm pre-install/pre-upgrade and Argo CD PreSync, ordered by weight. */}}
{{- define "odoo.hookAnnotations" -}}
{{- $weight := index . 0 -}}
{{- $helmHooks := index . 1 -}}
helm.sh/hook: {{ $helmHooks }}
helm.sh/hook-weight: {{ $weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation
argocd.argoproj.io/hook: PreSync
argocd.argoproj.io/sync-wave: {{ $weight | quote }}
argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
{{- end -}}

{{/* The migration Job renders when the release lists changed modules. */}}
{{- define "odoo.migrationEnabled" -}}
{{- if and .Values.migration.enabled .Values.release.changedModules }}true{{ end -}}
{{- end -}}

{{/* The backup Job renders when the release changes the schema or the gate policy requires a backup. */}}
{{- define "odoo.backupEnabled" -}}
{{- if and .Values.backup.enabled (or .Values.release.schemaChange .Values.release.backupRequired) }}true{{ end -}}
{{- end -}}

{{/* backup id: <database>-<version slug>-<first 12 hex of the digest> (see gitops/verify/backup_contract.py). */}}
{{- define "odoo.backupId" -}}
{{- printf "%s-%s-%s" (include "odoo.dbName" .) (include "odoo.versionSlug" .) (.Values.image.digest | trimPrefix "sha256:" | trunc 12) -}}
{{- end -}}
