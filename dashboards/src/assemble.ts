/**
 * A mailsync dashboard from its parts, on the SDK's DashboardBuilder: the settings every mailsync
 * dashboard shares, its variables and links, and its panels in reading order.
 */
import {
  CustomVariableBuilder, DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType, DatasourceVariableBuilder, QueryVariableBuilder,
  TextBoxVariableBuilder, VariableHide, VariableRefresh, VariableSort, type Dashboard, type DashboardLink, type VariableModel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { Dataquery as PromQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import { DS, type PanelLike } from './builders.js';

const ALL = { text: 'All', value: '$__all' };

export const datasourceVariable = (name: string, label: string, type: string): DatasourceVariableBuilder =>
  new DatasourceVariableBuilder(name).label(label).hide(VariableHide.DontHide).type(type).current({ text: 'Prometheus', value: type });

/** A variable whose values Prometheus lists (`label_values(...)`), sorted, fetched again when the time range changes. */
export function queryVariable(name: string, label: string, query: string, o: { all?: boolean } = {}): QueryVariableBuilder {
  const v = new QueryVariableBuilder(name).label(label).hide(VariableHide.DontHide).datasource(DS).query({ query, refId: `${name}-query` }).definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged).sort(VariableSort.AlphabeticalAsc).includeAll(o.all ?? false).multi(o.all ?? false);
  return o.all ? v.current(ALL) : v;
}

/** A fixed list of values, all selected at first. */
export const customVariable = (name: string, label: string, values: readonly string[]): CustomVariableBuilder =>
  new CustomVariableBuilder(name).label(label).hide(VariableHide.DontHide).values(values.join(','))
    .options(values.map((s) => ({ text: s, value: s, selected: false }))).includeAll(true).multi(true).current(ALL);

export const textboxVariable = (name: string, label: string, value: string): TextBoxVariableBuilder =>
  new TextBoxVariableBuilder(name).label(label).hide(VariableHide.DontHide).defaultValue(value).current({ text: value, value });

export interface Link { title: string; url: string; icon?: string }

export interface DashboardInput {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: cog.Builder<VariableModel>[];
  panels: PanelLike[];
  links: Link[];
}

/**
 * The SDK's links default to the controls menu (`placement: inControlsMenu`), a dropdown, and it
 * has no way to unset that: without a placement Grafana shows a link in the dashboard's bar, where
 * the runbook and the mailbox's status page belong.
 */
function inDashboardBar(link: DashboardLinkBuilder): cog.Builder<DashboardLink> {
  return {
    build: () => {
      const built = link.build();
      delete built.placement;
      return built;
    },
  };
}

export function dashboard(d: DashboardInput): Dashboard {
  const links = d.links.map((l) => inDashboardBar(new DashboardLinkBuilder(l.title).type(DashboardLinkType.Link).url(l.url).icon(l.icon ?? 'dashboard')
    .targetBlank(false).keepTime(true).includeVars(false).asDropdown(false).tags([]).tooltip('')));
  const builder = new DashboardBuilder(d.title).uid(d.uid).description(d.description).tags(d.tags)
    .timezone('utc').editable().tooltip(DashboardCursorSync.Crosshair).refresh('30s').time({ from: 'now-6h', to: 'now' })
    .variables(d.variables).links(links).annotations([]);
  // The SDK flows panels left to right and wraps at 24 columns; ids follow the reading order.
  d.panels.forEach((p, i) => builder.withPanel(p.id(i + 1).datasource(DS)));
  return builder.build();
}

/** The SDK types a panel's targets as any data source's query: mailsync's are all Prometheus ones. */
const isPromQuery = (q: cog.Dataquery): q is PromQuery => typeof (q as Partial<PromQuery>).expr === 'string';

/** Every PromQL expression of a built dashboard, for the tests that check them on a real Prometheus. */
export function expressions(dash: Dashboard): string[] {
  const fromPanels = (dash.panels ?? []).flatMap((p) => ('targets' in p ? (p.targets ?? []) : [])).filter(isPromQuery).map((t) => t.expr);
  const fromVars = (dash.templating.list ?? []).filter((v) => v.type === 'query' && v.definition).map((v) => v.definition as string);
  return [...fromPanels, ...fromVars];
}
