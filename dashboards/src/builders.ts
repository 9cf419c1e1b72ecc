/**
 * mailsync's panel shapes, on Grafana's dashboards-as-code SDK (@grafana/grafana-foundation-sdk):
 * each function fixes the look a kind of panel has on every mailsync dashboard, and the SDK's
 * typed builders make a schema change a type error here rather than a broken dashboard.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { BigValueColorMode, BigValueGraphMode, BigValueTextMode, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, SortOrder, StackingConfigBuilder, StackingMode, TableCellHeight, TooltipDisplayMode, VizLegendOptionsBuilder, VizTooltipOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { ThresholdsConfigBuilder, ThresholdsMode, type Panel, type Threshold, type ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TextBuilder, TextMode } from '@grafana/grafana-foundation-sdk/text';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel reads the data source the dashboard's `datasource` variable selects. */
export const DS = { type: 'prometheus', uid: '${datasource}' };

/** What every panel builder of the SDK (and the summary panel's) offers: sizing, identity, the data source. */
export interface PanelLike extends cog.Builder<Panel> {
  id(id: number): this;
  span(w: number): this;
  height(h: number): this;
  datasource(datasource: typeof DS): this;
}

interface Size { w?: number; h?: number; description?: string }

/** A range query (a time series per label set). */
export const target = (refId: string, expr: string, legendFormat?: string): DataqueryBuilder => {
  const query = new DataqueryBuilder().refId(refId).expr(expr).range();
  return legendFormat === undefined ? query : query.legendFormat(legendFormat);
};

/** An instant query as a table: one row per series, its labels as columns. */
export const instant = (refId: string, expr: string): DataqueryBuilder => new DataqueryBuilder().refId(refId).expr(expr).instant().format(PromQueryFormat.Table);

function sized<T extends PanelLike & { description(d: string): T }>(panel: T, o: Size, w: number, h: number): T {
  panel.span(o.w ?? w).height(o.h ?? h);
  return o.description ? panel.description(o.description) : panel;
}

export function timeseries(title: string, targets: DataqueryBuilder[], o: Size & { unit?: string; stack?: boolean } = {}): TimeseriesBuilder {
  const panel = new TimeseriesBuilder().title(title).targets(targets).unit(o.unit ?? 'short')
    // Stacked areas read as a whole (mailboxes by health); lines as separate series.
    .stacking(new StackingConfigBuilder().mode(o.stack ? StackingMode.Normal : StackingMode.None)).fillOpacity(o.stack ? 60 : 10)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Right).calcs(['lastNotNull']))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.None));
  return sized(panel, o, 12, 8);
}

export function stat(title: string, query: DataqueryBuilder, o: Size & { unit?: string; mappings?: ValueMapping[]; thresholds?: Threshold[] } = {}): StatBuilder {
  const panel = new StatBuilder().title(title).withTarget(query).unit(o.unit ?? 'short').mappings(o.mappings ?? [])
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(o.thresholds ?? [{ color: 'green', value: null }]))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .colorMode(BigValueColorMode.Value).graphMode(BigValueGraphMode.None).textMode(BigValueTextMode.Auto);
  return sized(panel, o, 4, 4);
}

/** A link on the cells of one column of a table. */
export interface CellLink { field: string; title: string; url: string }

/** Labels Prometheus adds to every series that a table of mailboxes has no use for. */
const NOISE_COLUMNS = ['Time', '__name__', 'job', 'instance'];

export function table(title: string, targets: DataqueryBuilder[], o: Size & { links?: CellLink[]; exclude?: string[]; rename?: Record<string, string>; unit?: string } = {}): TableBuilder {
  const panel = new TableBuilder().title(title).targets(targets).unit(o.unit ?? 'short').showHeader(true).cellHeight(TableCellHeight.Sm)
    // The SDK types no transformation's options: `organize` is written as Grafana stores it.
    .withTransformation({ id: 'organize', options: { excludeByName: Object.fromEntries([...NOISE_COLUMNS, ...(o.exclude ?? [])].map((k) => [k, true])), renameByName: o.rename ?? {} } });
  for (const l of o.links ?? []) panel.overrideByName(l.field, [{ id: 'links', value: [{ title: l.title, url: l.url }] }]);
  return sized(panel, o, 24, 8);
}

export function text(title: string, content: string, o: Size = {}): TextBuilder {
  return sized(new TextBuilder().title(title).mode(TextMode.Markdown).content(content), o, 24, 3);
}
