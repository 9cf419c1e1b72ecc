/**
 * The mixin's files, by path under mixin/: the alert rules and dashboards built from alerts/src and
 * dashboards/src with the stand-ins of fields.ts, written as jsonnet that reads `$._config`. Pure:
 * `npm run mixin:generate` writes them, a test holds them equal to what is committed.
 */
import { GROUPS, ruleFiles } from '../../alerts/src/rules.js';
import { DASHBOARDS } from '../../dashboards/src/dashboards.js';
import { ALERT_STANDINS, DASHBOARD_STANDINS, FIELDS, substitute, type FieldName } from './fields.js';
import { toJsonnet, type Json, type Substitute } from './jsonnet.js';

export const HEADER = '// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.\n';

/** A hidden field (`name+::`) that merges `body` into what the mixin already has. */
const extend = (name: string, body: string) => `${HEADER}{\n  ${name}+:: ${body},\n}\n`;
const asJson = (v: unknown): Json => JSON.parse(JSON.stringify(v)) as Json;
/** `mailsync-mailboxes` is alerts/mailboxes.libsonnet; `mailsync-mailbox.json` is dashboards/mailbox.libsonnet. */
const shortName = (name: string) => name.replace(/^mailsync-/, '').replace(/\.json$/, '');
const imports = (paths: string[]) => `${paths.map((p) => `(import '${p}')`).join(' +\n')}\n`;

function alertFiles(sub: Substitute): Record<string, string> {
  const files = ruleFiles(ALERT_STANDINS);
  return Object.fromEntries(GROUPS.map((g) => [
    `alerts/${shortName(g)}.libsonnet`,
    extend('prometheusAlerts', `{\n    groups+: ${toJsonnet(asJson(files[g].groups), sub, '    ')},\n  }`),
  ]));
}

function dashboardFiles(sub: Substitute): Record<string, string> {
  return Object.fromEntries(Object.entries(DASHBOARDS).map(([file, build]) => [
    `dashboards/${shortName(file)}.libsonnet`,
    extend('grafanaDashboards', toJsonnet({ [file]: asJson(build(DASHBOARD_STANDINS)) }, sub, '  ')),
  ]));
}

function configFile(): string {
  const fields = Object.entries(FIELDS).map(([name, f]) => `    // ${f.doc}\n    ${name}: ${f.value},\n`).join('');
  return extend('_config', `{\n${fields}  }`);
}

/** Every file of the mixin but README.md and jsonnetfile.json, by path under mixin/. */
export function renderMixin(): Record<string, string> {
  const used = new Set<FieldName>();
  const sub = substitute(used);
  const alerts = alertFiles(sub);
  const dashboards = dashboardFiles(sub);
  const unused = Object.keys(FIELDS).filter((f) => !used.has(f as FieldName));
  if (unused.length > 0) throw new Error(`_config fields used by no rule or dashboard: ${unused.join(', ')}`);
  return {
    'mixin.libsonnet': HEADER + imports(['config.libsonnet', 'alerts/alerts.libsonnet', 'rules/rules.libsonnet', 'dashboards/dashboards.libsonnet']),
    'config.libsonnet': configFile(),
    'alerts/alerts.libsonnet': HEADER + imports(Object.keys(alerts).map((p) => p.replace(/^alerts\//, ''))),
    ...alerts,
    // alerts/src defines no recording rules (every alert reads mailsync's own series): the group
    // list is there, empty, for the tools that read prometheusRules.
    'rules/rules.libsonnet': extend('prometheusRules', '{\n    groups+: [],\n  }'),
    'dashboards/dashboards.libsonnet': HEADER + imports(Object.keys(dashboards).map((p) => p.replace(/^dashboards\//, ''))),
    ...dashboards,
    // What `jsonnet -S alerts.jsonnet` and `jsonnet -m out/ dashboards.jsonnet` print, as the mixins' Makefiles do.
    'alerts.jsonnet': `${HEADER}std.manifestYamlDoc((import 'mixin.libsonnet').prometheusAlerts)\n`,
    'rules.jsonnet': `${HEADER}std.manifestYamlDoc((import 'mixin.libsonnet').prometheusRules)\n`,
    'dashboards.jsonnet': `${HEADER}(import 'mixin.libsonnet').grafanaDashboards\n`,
  };
}
