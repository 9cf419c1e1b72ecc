/**
 * The summary panel (grafana-plugin, a panel plugin of our own): the SDK knows only Grafana's own
 * panel kinds, so this builder extends its generic panel builder with the plugin's id and the
 * plugin's own options type, keeping the options as typed as the SDK's panels are.
 */
import { PanelBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { DEFAULT_OPTIONS, type SummaryOptions } from '../../grafana-plugin/src/options.js';

/** The plugin's id (grafana-plugin/src/plugin.json; a test holds the two together). */
export const SUMMARY_PANEL_TYPE = 'mailsync-summary-panel';

export class SummaryPanelBuilder extends PanelBuilder {
  constructor() {
    super();
    this.internal.type = SUMMARY_PANEL_TYPE;
    // What a new panel starts with in the editor, so a dashboard states every option it relies on.
    this.internal.options = { ...DEFAULT_OPTIONS } satisfies SummaryOptions;
  }

  /** The plugin's options, typed: the SDK's generic panel takes any value here. */
  override options(options: SummaryOptions): this {
    return super.options(options);
  }
}
