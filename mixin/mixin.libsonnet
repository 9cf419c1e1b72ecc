// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
