{{/* Chart name, at most 63 characters. */}}
{{- define "phoebe.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified name: fullnameOverride, else the release name when it already contains the
chart name, else "<release>-<chart>"; at most 63 characters (a DNS label). */}}
{{- define "phoebe.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "phoebe.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "phoebe.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "phoebe.selectorLabels" -}}
app.kubernetes.io/name: {{ include "phoebe.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "phoebe.labels" -}}
helm.sh/chart: {{ include "phoebe.chart" . }}
{{ include "phoebe.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: phoebe
{{- end -}}

{{- define "phoebe.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "phoebe.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The actuation mode; phoebe's default is recommend. */}}
{{- define "phoebe.mode" -}}
{{- $actuation := .Values.config.actuation | default dict -}}
{{- $actuation.mode | default "recommend" -}}
{{- end -}}

{{/* "true" when the mode changes the job (anything but recommend). */}}
{{- define "phoebe.acting" -}}
{{- if ne (include "phoebe.mode" .) "recommend" -}}true{{- end -}}
{{- end -}}

{{/* The Kubernetes object the mode acts on, as {namespace, name}, or nothing (recommend,
flink-rest). Fails when the mode needs one and the config does not name it. */}}
{{- define "phoebe.target" -}}
{{- $mode := include "phoebe.mode" . -}}
{{- $job := .Values.config.job | default dict -}}
{{- if eq $mode "flink-deployment" -}}
{{- $ref := $job.flinkDeployment | default dict -}}
{{- if not (and $ref.namespace $ref.name) -}}
{{- fail "config.job.flinkDeployment.namespace and .name are required when config.actuation.mode is flink-deployment (the Role is scoped to them)" -}}
{{- end -}}
{{- toJson $ref -}}
{{- else if eq $mode "taskmanager-deployment" -}}
{{- $ref := $job.taskManagerDeployment | default dict -}}
{{- if not (and $ref.namespace $ref.name) -}}
{{- fail "config.job.taskManagerDeployment.namespace and .name are required when config.actuation.mode is taskmanager-deployment (the Role is scoped to them)" -}}
{{- end -}}
{{- toJson $ref -}}
{{- end -}}
{{- end -}}

{{/* flink-rest mode records its rescale Events on the FlinkDeployment that config.job.flinkDeployment
names, when it names one (and then calls the Kubernetes API); "true" then. */}}
{{- define "phoebe.restEvents" -}}
{{- $job := .Values.config.job | default dict -}}
{{- $ref := $job.flinkDeployment | default dict -}}
{{- if and (eq (include "phoebe.mode" .) "flink-rest") $ref.namespace $ref.name -}}true{{- end -}}
{{- end -}}

{{/* The namespace of the acting Role: the target's (for flink-rest, the FlinkDeployment's that
carries the Events). */}}
{{- define "phoebe.actingNamespace" -}}
{{- $target := include "phoebe.target" . -}}
{{- if $target -}}
{{- (fromJson $target).namespace -}}
{{- else if include "phoebe.restEvents" . -}}
{{- .Values.config.job.flinkDeployment.namespace -}}
{{- end -}}
{{- end -}}

{{/* "true" when the chart creates the acting Role: the target's rules, or Events in flink-rest mode. */}}
{{- define "phoebe.actingRole" -}}
{{- $mode := include "phoebe.mode" . -}}
{{- if and .Values.rbac.create (or (eq $mode "flink-deployment") (eq $mode "taskmanager-deployment") (and (include "phoebe.restEvents" .) .Values.rbac.events)) -}}true{{- end -}}
{{- end -}}

{{- define "phoebe.leaseName" -}}
{{- default (printf "%s-leader" (include "phoebe.fullname" .)) .Values.leaderElection.leaseName -}}
{{- end -}}

{{/* "true" when phoebe calls the Kubernetes API (and needs the service-account token): the
Kubernetes modes, Events in flink-rest mode, leader election. */}}
{{- define "phoebe.usesKubernetesApi" -}}
{{- $mode := include "phoebe.mode" . -}}
{{- if or (eq $mode "flink-deployment") (eq $mode "taskmanager-deployment") (include "phoebe.restEvents" .) .Values.leaderElection.enabled -}}true{{- end -}}
{{- end -}}

{{- define "phoebe.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Prometheus job label of phoebe's targets: a ServiceMonitor names the job after the Service. */}}
{{- define "phoebe.jobLabel" -}}
{{- include "phoebe.fullname" . -}}
{{- end -}}
