{{/*
Names, labels and the pod parts shared by the standalone Deployment and by a homeserver chart that
runs the gateway as a sidecar. Every template here takes this chart's context: from a parent chart,
pass (index .Subcharts "matrix-policy-gateway").
*/}}

{{/* The chart name, or nameOverride; 63 characters at most (a DNS label). */}}
{{- define "matrix-policy-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, or "<release>-<name>" (just the release name
when it already contains the chart name); 63 characters at most.
*/}}
{{- define "matrix-policy-gateway.fullname" -}}
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

{{/*
The full name with a suffix ("-management"), within the 63 characters a Service's name may have:
the full name is cut, never the suffix, so two objects never end up with one name.
Call with (list $ "management").
*/}}
{{- define "matrix-policy-gateway.suffixedName" -}}
{{- $suffix := index . 1 }}
{{- $room := sub 62 (len $suffix) | int }}
{{- printf "%s-%s" (include "matrix-policy-gateway.fullname" (index . 0) | trunc $room | trimSuffix "-") $suffix }}
{{- end }}

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "matrix-policy-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels every object carries. */}}
{{- define "matrix-policy-gateway.labels" -}}
helm.sh/chart: {{ include "matrix-policy-gateway.chart" . }}
{{ include "matrix-policy-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels that select the gateway's pods; never change them, a Deployment's selector is immutable. */}}
{{- define "matrix-policy-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "matrix-policy-gateway.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- define "matrix-policy-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "matrix-policy-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "matrix-policy-gateway.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
image.pullPolicy, or when it is empty: Always for a tag that a new build takes again (-SNAPSHOT, the
version of every build between releases, and latest), so that no node runs the image it pulled for
an earlier build; IfNotPresent for any other tag and for a digest, which name one build.
*/}}
{{- define "matrix-policy-gateway.imagePullPolicy" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.pullPolicy }}
{{- .Values.image.pullPolicy }}
{{- else if and (not .Values.image.digest) (or (hasSuffix "-SNAPSHOT" $tag) (eq $tag "latest")) }}
{{- "Always" }}
{{- else }}
{{- "IfNotPresent" }}
{{- end }}
{{- end }}

{{/*
spring.lifecycle.timeout-per-shutdown-phase in application.yml, in seconds: after SIGTERM, the
longest the connection drain may take, and then again the requests still in flight.
HelmChartTest ties it to application.yml.
*/}}
{{- define "matrix-policy-gateway.shutdownPhaseSeconds" -}}
20
{{- end }}

{{/* The longest the gateway then takes for modules to close (Generations.SHUTDOWN_BOUND): an audit webhook delivers its queue, and counts what it cannot. */}}
{{- define "matrix-policy-gateway.closeWaitSeconds" -}}
15
{{- end }}

{{/* The longest a reload under way at SIGTERM delays the drain (PeriodicCheck.STOPPING). */}}
{{- define "matrix-policy-gateway.reloadStopSeconds" -}}
5
{{- end }}

{{/* Where the pod finds its configuration. */}}
{{- define "matrix-policy-gateway.configDir" -}}
/etc/matrix-policy-gateway
{{- end }}

{{/*
The tokens the pod reads, as a YAML list for fromYamlArray: the homeserver's (`auth`, always) and
the admin token (`admin`, only when set: without it the admin endpoints answer loopback callers
only). `setting` is both the values block and the policy-gateway key whose token-file names the
file. Each is one key of a Secret (the chart's own, from `token`, or `existingSecret`), mounted as
the file `token` in a directory of its own, so the kubelet updates it in place and the gateway
reloads it. `name` names the volume and the checksum annotation, `file` the file in `dir`.
*/}}
{{- define "matrix-policy-gateway.tokens" -}}
{{- range $setting := list "auth" "admin" }}
{{- $values := index $.Values $setting }}
{{- if and $values.token $values.existingSecret }}
{{- /* the pods would read the Secret alone, and whoever was given the value would send a token they refuse */}}
{{- fail (printf "%s.token and %s.existingSecret are both set, and the pods read only the existing Secret: a caller given %s.token would be refused. Give the token one way: set %s.token to \"\" to keep the Secret, or %s.existingSecret to \"\" for a Secret the chart creates" $setting $setting $setting $setting $setting) }}
{{- end }}
{{- if or (eq $setting "auth") $values.token $values.existingSecret }}
{{- $suffix := ternary "" (printf "-%s" $setting) (eq $setting "auth") }}
- setting: {{ $setting }}
  name: {{ printf "%s-token" $suffix | trimPrefix "-" }}
  dir: /var/run/secrets/matrix-policy-gateway{{ $suffix }}
  file: token
  secretName: {{ default (printf "%s%s" (include "matrix-policy-gateway.fullname" $) $suffix) $values.existingSecret | quote }}
  secretKey: {{ ternary $values.existingSecretKey "token" (ne $values.existingSecret "") | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The policy server's signing key (MSC4284), when policyServer.enabled, as a list of one item like
those of "matrix-policy-gateway.tokens": always an existing Secret, mounted as a file of a directory
of its own. The chart never generates it: a new key at each render would change the key the rooms
trust (their m.room.policy public_key).
*/}}
{{- define "matrix-policy-gateway.policyServerKey" -}}
{{- with .Values.policyServer }}
{{- if .enabled }}
- name: policy-server-key
  dir: /var/run/secrets/matrix-policy-gateway-policy-server
  file: policy_server.key
  secretName: {{ required (printf "policyServer.enabled needs policyServer.key.existingSecret: the chart never generates the policy server's signing key (a new key at each render would change the key the rooms trust). Generate it once, with the gateway jar or image as docs/policy-server.md (step 2) shows (it prints the public key for the rooms' m.room.policy event), then kubectl create secret generic matrix-policy-server-key --namespace %s --from-file=%s=policy_server.key and set policyServer.key.existingSecret=matrix-policy-server-key" $.Release.Namespace .key.existingSecretKey) .key.existingSecret | quote }}
  secretKey: {{ .key.existingSecretKey | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Secrets of state.redis.tls, as items like those of "matrix-policy-gateway.tokens", each a
directory of its own with `items`, the keys it holds: the authority's certificate (the SSL bundle's
truststore) and a client certificate with its key (its keystore). `store` and each item's `setting`
name the bundle's keys ("matrix-policy-gateway.redisSslBundle").
*/}}
{{- define "matrix-policy-gateway.redisTlsFiles" -}}
{{- with .Values.state.redis.tls }}
{{- with .caSecret }}
- name: redis-ca
  dir: /var/run/secrets/matrix-policy-gateway-redis-ca
  secretName: {{ . | quote }}
  store: truststore
  items:
    - key: {{ $.Values.state.redis.tls.caKey | quote }}
      path: ca.crt
      setting: certificate
{{- end }}
{{- with .clientSecret }}
- name: redis-client
  dir: /var/run/secrets/matrix-policy-gateway-redis-client
  secretName: {{ . | quote }}
  store: keystore
  items:
    - key: tls.crt
      path: tls.crt
      setting: certificate
    - key: tls.key
      path: tls.key
      setting: private-key
{{- end }}
{{- end }}
{{- end }}

{{/*
spring.ssl.bundle.pem.redis from state.redis.tls, the stores under it: the files where
"matrix-policy-gateway.redisTlsFiles" mounts them. Empty without state.redis.tls.
*/}}
{{- define "matrix-policy-gateway.redisSslBundle" -}}
{{- range $secret := include "matrix-policy-gateway.redisTlsFiles" . | fromYamlArray }}
{{ $secret.store }}:
  {{- range $secret.items }}
  {{ .setting }}: file:{{ $secret.dir }}/{{ .path }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Every file the pod reads from a Secret: the tokens, the policy server's key, Redis's certificates. */}}
{{- define "matrix-policy-gateway.secretFiles" -}}
{{ include "matrix-policy-gateway.tokens" . }}
{{ include "matrix-policy-gateway.policyServerKey" . }}
{{ include "matrix-policy-gateway.redisTlsFiles" . }}
{{- end }}

{{/*
policy-gateway.policy-server, when policyServer.enabled: the values in the gateway's own keys, with
key-file where the key's Secret is mounted. Of these the gateway applies `rooms` and `rate-limit` by
hot reload and the rest at startup only ("matrix-policy-gateway.checksums").
*/}}
{{- define "matrix-policy-gateway.policyServerConfig" -}}
{{- with .Values.policyServer }}
{{- if .enabled }}
{{- $port := int .port }}
{{- if has $port (list (int $.Values.ports.api) (int $.Values.ports.management)) }}
{{- fail (printf "policyServer.port (%d) must differ from ports.api and ports.management: the policy server has a listener of its own" $port) }}
{{- end }}
{{- $key := include "matrix-policy-gateway.policyServerKey" $ | fromYamlArray | first }}
enabled: true
name: {{ required "policyServer.enabled needs policyServer.name: the policy server's server name, as in the `via` of the rooms' m.room.policy events (e.g. policy.example.org)" .name | quote }}
port: {{ $port }}
key-file: {{ printf "%s/%s" $key.dir $key.file }}
{{- with .rooms }}
rooms:
  {{- range . }}
  - id: {{ .id | quote }}
    {{- if hasKey . "version" }}
    version: {{ .version | toString | quote }}
    {{- end }}
  {{- end }}
{{- end }}
{{- with .servers }}
servers:
  {{- range . }}
  - name: {{ .name | quote }}
    address: {{ .address | quote }}
    {{- if hasKey . "trustAnyCertificate" }}
    trust-any-certificate: {{ .trustAnyCertificate }}
    {{- end }}
  {{- end }}
{{- end }}
{{- with .notaries }}
notaries:
  {{- range . }}
  - name: {{ .name | quote }}
    verify-keys:
      {{- toYaml .verifyKeys | nindent 6 }}
  {{- end }}
{{- end }}
{{- with .signatureCacheSize }}
signature-cache-size: {{ int . }}
{{- end }}
{{- with .keyCacheServers }}
key-cache-servers: {{ int . }}
{{- end }}
{{- with .maxConnections }}
max-connections: {{ int . }}
{{- end }}
{{- with .maxRequestsInProgress }}
max-requests-in-progress: {{ int . }}
{{- end }}
{{- with .keyFetchTimeout }}
key-fetch-timeout: {{ . }}
{{- end }}
{{- if kindIs "slice" .ipRangeBlocklist }}
ip-range-blocklist: {{ toJson .ipRangeBlocklist }}
{{- end }}
{{- with .ipRangeAllowlist }}
ip-range-allowlist: {{ toJson . }}
{{- end }}
{{- with .rateLimit }}
{{- if or .capacity .period }}
rate-limit:
  {{- with .capacity }}
  capacity: {{ int . }}
  {{- end }}
  {{- with .period }}
  period: {{ . }}
  {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The application.yml the ConfigMap holds. Spring reads it after the embedded default, so each key
here overrides the default's, and `modules` replaces the default list as a whole. Server settings
that are not listed (graceful shutdown, the 180 s keep-alive) stay as application.yml has them.
*/}}
{{- define "matrix-policy-gateway.applicationConfig" -}}
policy-gateway:
  {{- toYaml .Values.config | nindent 2 }}
  {{- range include "matrix-policy-gateway.tokens" . | fromYamlArray }}
  {{ .setting }}:
    token-file: {{ .dir }}/{{ .file }}
  {{- end }}
  {{- /* each block trimmed: nindent would turn a blank line at its edge into a line of spaces */}}
  {{- with include "matrix-policy-gateway.stateConfig" . | trim }}
  state:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with include "matrix-policy-gateway.policyServerConfig" . | trim }}
  policy-server:
    {{- . | nindent 4 }}
  {{- end }}
{{- include "matrix-policy-gateway.startupConfig" . | trim | nindent 0 }}
{{- end }}

{{/* "true" when the gateway watches its configuration and token files (config.reload.watch, on by default), else "false". */}}
{{- define "matrix-policy-gateway.watchesFiles" -}}
{{- toString (dig "reload" "watch" true .Values.config) }}
{{- end }}

{{/*
policy-gateway.state from state.*: empty (counters in memory) without a Redis. A URL from an
existing Secret reaches the pod as POLICY_GATEWAY_STATE_REDIS_URL (see the container), so the
ConfigMap holds no password; rendering fails on a password written in state.redis.url. With
state.redis.tls, ssl-bundle names the bundle "matrix-policy-gateway.startupConfig" writes; rendering
fails on it without a Redis, or with a redis:// URL, which would not use it (the gateway refuses
that at startup too, where the URL comes from a Secret).
*/}}
{{- define "matrix-policy-gateway.stateConfig" -}}
{{- with .Values.state.redis }}
{{- if and .url .existingSecret }}
{{- fail "state.redis.url and state.redis.existingSecret are both set: give the URL one way" }}
{{- end }}
{{- /* any '@': a password may hold '/' (base64), which ends the authority for a URL parser but not for the eye */}}
{{- if contains "@" (.url | default "") }}
{{- fail "state.redis.url holds a password, which would land in the ConfigMap (Redis clients take whatever comes before '@' for one, user name or not): put the whole URL in a Secret and name it in state.redis.existingSecret" }}
{{- end }}
{{- $timeout := regexFind "^[0-9]+(ms|s|m|h|d)$" (toString .timeout) }}
{{- if $timeout }}
{{- $millis := include "matrix-policy-gateway.millis" $timeout | int64 }}
{{- if or (le $millis 0) (gt $millis 10000) }}
{{- fail (printf "state.redis.timeout (%s) must be more than 0 and at most 10s: every request that counts waits for Redis at most this long, and the gateway refuses to start with more" (toString .timeout)) }}
{{- end }}
{{- end }}
{{- $tls := include "matrix-policy-gateway.redisTlsFiles" $ | trim }}
{{- if $tls }}
{{- $setting := ternary "state.redis.tls.caSecret" "state.redis.tls.clientSecret" (ne .tls.caSecret "") }}
{{- if not (or .url .existingSecret) }}
{{- fail (printf "%s is set, but no Redis is: set state.redis.url (rediss://host:port) or state.redis.existingSecret, or remove %s" $setting $setting) }}
{{- end }}
{{- if hasPrefix "redis://" (.url | default "") }}
{{- fail (printf "%s is for TLS, and state.redis.url (%s) does not use it: write rediss:// (two s) for a Redis that speaks TLS, or remove %s" $setting .url $setting) }}
{{- end }}
{{- end }}
{{- if or .url .existingSecret }}
redis:
  {{- with .url }}
  url: {{ . | quote }}
  {{- end }}
  timeout: {{ .timeout }}
  key-prefix: {{ .keyPrefix | quote }}
  {{- if $tls }}
  ssl-bundle: redis
  {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A duration in milliseconds, for comparing two: Go and Prometheus style, one or more of a number and
a unit (500ms, 10s, 1m30s, 2h, 1d, 1w, 1y). Anything else counts as 0; the schema keeps it out.
*/}}
{{- define "matrix-policy-gateway.millis" -}}
{{- $units := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 "d" 86400000 "w" 604800000 "y" 31536000000 }}
{{- $millis := 0 }}
{{- range regexFindAll "[0-9]+(ms|s|m|h|d|w|y)" (toString .) -1 }}
{{- $millis = add $millis (mul (regexFind "^[0-9]+" .) (get $units (regexFind "[a-z]+$" .))) }}
{{- end }}
{{- $millis }}
{{- end }}

{{/*
The part of application.yml that Spring Boot applies once, at startup: ports, the log format and
levels, and the SSL bundle of state.redis.tls. A hot reload applies `policy-gateway` only, so a
change here always needs new pods (the bundle's files, not its settings, are read again when the
Secrets change).
*/}}
{{- define "matrix-policy-gateway.startupConfig" -}}
{{- if eq (int .Values.ports.api) (int .Values.ports.management) }}
{{- fail (printf "ports.api and ports.management are both %d: the management port (health, metrics, the admin endpoints) must be a listener of its own, or Spring Boot serves it on the policy API's port, where the homeserver's Service exposes it" (int .Values.ports.api)) }}
{{- end }}
{{- /*
A user other than root without capabilities (containerSecurityContext) binds no port below the
kernel's net.ipv4.ip_unprivileged_port_start: 1024, unless the runtime lowers it (some do, not all)
or the pod does with a sysctl (podSecurityContext, standalone mode). Elsewhere the gateway
would stop at startup with "Permission denied", so the chart refuses; a Service maps any port anyway.
*/}}
{{- $unprivileged := 1024 }}
{{- if eq .Values.mode "standalone" }}
{{- range (.Values.podSecurityContext | default dict).sysctls }}
{{- if eq .name "net.ipv4.ip_unprivileged_port_start" }}
{{- $unprivileged = int .value }}
{{- end }}
{{- end }}
{{- end }}
{{- $ports := dict "ports.api" .Values.ports.api "ports.management" .Values.ports.management }}
{{- if .Values.policyServer.enabled }}
{{- $_ := set $ports "policyServer.port" .Values.policyServer.port }}
{{- end }}
{{- range $setting, $port := $ports }}
{{- if lt (int $port) $unprivileged }}
{{- fail (printf "%s (%d) is below net.ipv4.ip_unprivileged_port_start (%d): the container runs as a user other than root with every capability dropped (containerSecurityContext), so the kernel lets it bind no lower port, and the gateway would stop at startup, unable to listen. Keep the container port at 1024 or above: a Service maps any port to it (service.port, policyServer.service.port). Or, in standalone mode, lower the limit with the safe sysctl podSecurityContext.sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: \"%d\"}]" $setting (int $port) $unprivileged (int $port)) }}
{{- end }}
{{- end }}
server:
  port: {{ .Values.ports.api }}
  {{- if eq .Values.mode "sidecar" }}
  # Sidecar: only containers of the same pod can call the API.
  address: 127.0.0.1
  {{- end }}
management:
  server:
    port: {{ .Values.ports.management }}
{{- $redisSslBundle := include "matrix-policy-gateway.redisSslBundle" . | trim }}
{{- if or .Values.logging.json $redisSslBundle }}
spring:
  {{- if .Values.logging.json }}
  profiles:
    include: json-logs
  {{- end }}
  {{- with $redisSslBundle }}
  ssl:
    bundle:
      pem:
        # For Redis alone (policy-gateway.state.redis.ssl-bundle), from state.redis.tls. Renewed
        # Secrets (cert-manager's) are read again: the next connections to Redis use them.
        redis:
          reload-on-update: true
          {{- . | nindent 10 }}
  {{- end }}
{{- end }}
{{- with .Values.logging.levels }}
logging:
  level:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end }}

{{/*
Pod annotations that roll the pods. checksum/startup-config always: the gateway applies those
settings at startup only, and of `config` it reads `reload` and `decision-log` at startup only too,
the shared state (`state`) too, and of the policy server everything but `rooms` and `rate-limit` (each hashed only when set, so that a release
without them keeps its checksum). checksum/config,
checksum/token and checksum/admin-token with restartOnConfigChange only: the token ones are the
SHA-256 of Sprig's derivePassword (scrypt, salted with the full name, then keyed with the setting),
so that a pod's annotations give no fast way to test token guesses. Otherwise the gateway
picks a new configuration or token up by hot reload, as they reach it as files of directory mounts
(never subPath, never an environment variable), which the kubelet updates in place. An existing
Secret is not the chart's to see.
*/}}
{{- define "matrix-policy-gateway.checksums" -}}
{{- $startup := include "matrix-policy-gateway.startupConfig" . }}
{{- with pick .Values.config "reload" "decision-log" }}
{{- $startup = print $startup "\n" (toYaml .) }}
{{- end }}
{{- with include "matrix-policy-gateway.policyServerConfig" . | fromYaml }}
{{- $startup = print $startup "\n" (omit . "rooms" "rate-limit" | toYaml) }}
{{- end }}
{{- with include "matrix-policy-gateway.stateConfig" . }}
{{- $startup = print $startup "\n" . }}
{{- end -}}
checksum/startup-config: {{ $startup | sha256sum }}
{{- if .Values.restartOnConfigChange }}
checksum/config: {{ include "matrix-policy-gateway.applicationConfig" . | sha256sum }}
{{- range include "matrix-policy-gateway.tokens" . | fromYamlArray }}
{{- $values := index $.Values .setting }}
{{- if and $values.token (not $values.existingSecret) }}
{{- /* anyone who may get pods reads it: scrypt (derivePassword), not a bare hash to test guesses against */}}
checksum/{{ .name }}: {{ derivePassword 1 "maximum" $values.token (include "matrix-policy-gateway.fullname" $) .setting | sha256sum }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
JAVA_TOOL_OPTIONS from jvm.*. A collector in jvm.extraOptions as well as jvm.gc would stop the
JVM at startup ("Multiple garbage collectors selected"), so rendering fails instead.
*/}}
{{- define "matrix-policy-gateway.javaToolOptions" -}}
{{- $collectors := dict "serial" "-XX:+UseSerialGC" "g1" "-XX:+UseG1GC" "parallel" "-XX:+UseParallelGC" "zgc" "-XX:+UseZGC" }}
{{- $flags := list }}
{{- with .Values.jvm.gc }}
{{- /* the JDK's collectors by their flags; other flags end in GC too (UseAdaptiveSizePolicyWithSystemGC) */}}
{{- $extraCollector := regexFind "-XX:\\+Use(Serial|Parallel|G1|Z|Shenandoah|Epsilon)GC\\b" ($.Values.jvm.extraOptions | default "") }}
{{- if $extraCollector }}
{{- fail (printf "jvm.extraOptions selects a garbage collector (%s) and so does jvm.gc (%s): the JVM would not start. Choose it with jvm.gc alone." $extraCollector .) }}
{{- end }}
{{- $flags = append $flags (get $collectors .) }}
{{- end }}
{{- with .Values.jvm.youngGeneration }}
{{- $flags = append $flags (printf "-Xmn%s" .) }}
{{- end }}
{{- $flags = concat $flags (list (printf "-XX:MaxRAMPercentage=%v" .Values.jvm.maxRAMPercentage) "-XX:+ExitOnOutOfMemoryError") }}
{{- with .Values.jvm.activeProcessorCount }}
{{- $flags = append $flags (printf "-XX:ActiveProcessorCount=%v" .) }}
{{- end }}
{{- with .Values.jvm.extraOptions }}
{{- $flags = append $flags . }}
{{- end }}
{{- join " " $flags }}
{{- end }}

{{/*
The environment variables the chart sets on the container, as a YAML list. extraEnv may add to them
but never name one of them again: which of two entries of one name wins depends on the tool that
applies the Deployment, so rendering fails instead.
*/}}
{{- define "matrix-policy-gateway.env" -}}
- name: SPRING_CONFIG_ADDITIONAL_LOCATION
  value: file:{{ include "matrix-policy-gateway.configDir" . }}/application.yml
- name: JAVA_TOOL_OPTIONS
  value: {{ include "matrix-policy-gateway.javaToolOptions" . | quote }}
{{- with .Values.state.redis.existingSecret }}
- name: POLICY_GATEWAY_STATE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ . | quote }}
      key: {{ $.Values.state.redis.existingSecretKey | quote }}
{{- end }}
{{- end }}

{{/*
The gateway's container, as one list item: under a pod's `containers`, or under `initContainers`
in sidecar mode with sidecar.native (it then carries restartPolicy: Always).
*/}}
{{- define "matrix-policy-gateway.container" -}}
{{- $env := include "matrix-policy-gateway.env" . }}
{{- $names := list }}
{{- range fromYamlArray $env }}
{{- $names = append $names .name }}
{{- end }}
{{- $instead := dict "SPRING_CONFIG_ADDITIONAL_LOCATION" "put the gateway's settings in `config`" "JAVA_TOOL_OPTIONS" "set JVM flags with jvm.* (jvm.extraOptions for any other flag)" "POLICY_GATEWAY_STATE_REDIS_URL" "give the URL through state.redis.existingSecret alone" }}
{{- range .Values.extraEnv }}
{{- if has .name $names }}
{{- fail (printf "extraEnv sets %s, an environment variable the chart sets itself (%s): %s" .name (join ", " $names) (get $instead .name | default "use another name")) }}
{{- end }}
{{- end }}
- name: policy-gateway
  image: {{ include "matrix-policy-gateway.image" . | quote }}
  imagePullPolicy: {{ include "matrix-policy-gateway.imagePullPolicy" . }}
  {{- if and (eq .Values.mode "sidecar") .Values.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  ports:
    - name: policy-api
      containerPort: {{ .Values.ports.api }}
      protocol: TCP
    - name: policy-mgmt
      containerPort: {{ .Values.ports.management }}
      protocol: TCP
    {{- if .Values.policyServer.enabled }}
    - name: federation
      containerPort: {{ .Values.policyServer.port }}
      protocol: TCP
    {{- end }}
  env:
    {{- $env | nindent 4 }}
    {{- with .Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  startupProbe:
    httpGet:
      path: /actuator/health/liveness
      port: policy-mgmt
    {{- toYaml .Values.probes.startup | nindent 4 }}
  livenessProbe:
    httpGet:
      path: /actuator/health/liveness
      port: policy-mgmt
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /actuator/health/readiness
      port: policy-mgmt
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  {{- if not (and (eq .Values.mode "sidecar") .Values.sidecar.native) }}
  {{- /* a native sidecar stops after the homeserver has exited, with no endpoint to leave: no sleep */}}
  lifecycle:
    preStop:
      sleep:
        seconds: {{ .Values.gracefulShutdown.preStopSleepSeconds }}
  {{- end }}
  {{- with .Values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.containerSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: policy-gateway-config
      mountPath: {{ include "matrix-policy-gateway.configDir" . }}
      readOnly: true
    {{- range include "matrix-policy-gateway.secretFiles" . | fromYamlArray }}
    - name: policy-gateway-{{ .name }}
      mountPath: {{ .dir }}
      readOnly: true
    {{- end }}
    - name: policy-gateway-tmp
      mountPath: /tmp
    {{- with .Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* The volumes the container mounts, as list items for the pod's `volumes`. */}}
{{- define "matrix-policy-gateway.volumes" -}}
- name: policy-gateway-config
  configMap:
    name: {{ include "matrix-policy-gateway.fullname" . | quote }}
{{- range include "matrix-policy-gateway.secretFiles" . | fromYamlArray }}
- name: policy-gateway-{{ .name }}
  secret:
    secretName: {{ .secretName | quote }}
    items:
      {{- range .items | default (list (dict "key" .secretKey "path" .file)) }}
      - key: {{ .key | quote }}
        path: {{ .path }}
      {{- end }}
    # Readable whatever fsGroup the pod has (a homeserver's, in sidecar mode): one process runs here.
    defaultMode: 0444
{{- end }}
- name: policy-gateway-tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
