import { FieldType, toDataFrame, type DataFrame } from '@grafana/data';

/** A frame as the Prometheus data source returns an instant query in table format. */
export function table(refId: string, rows: Record<string, string | number>[]): DataFrame {
  const labels = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k !== 'Value')))];
  return toDataFrame({
    refId,
    fields: [
      { name: 'Time', type: FieldType.time, values: rows.map(() => 1_800_000_000_000) },
      ...labels.map((l) => ({ name: l, type: FieldType.string, values: rows.map((r) => String(r[l] ?? '')) })),
      { name: 'Value', type: FieldType.number, values: rows.map((r) => Number(r.Value)) },
    ],
  });
}

export const NOW = 1_800_000_000_000;

/** Five mailboxes, one per bucket: the frames a dashboard would get. */
export function fleet(): DataFrame[] {
  const mb = (m: string) => ({ mailbox: m });
  return [
    table('info', ['ann', 'bob', 'cat', 'dan', 'eve'].map((m, i) => ({ ...mb(m), address: `${m}@example.com`, profile: i < 3 ? 'corp' : 'trusted', Value: 1 }))),
    table('health', [
      { ...mb('ann'), health: 'healthy', Value: 1 }, { ...mb('bob'), health: 'failing', Value: 1 }, { ...mb('cat'), health: 'intermittent', Value: 1 },
      { ...mb('dan'), health: 'inactive', Value: 1 }, { ...mb('eve'), health: 'testing', Value: 1 },
    ]),
    table('enabled', [
      { ...mb('ann'), direction: 'incoming', Value: 1 }, { ...mb('bob'), direction: 'incoming', Value: 0 }, { ...mb('bob'), direction: 'outgoing', Value: 1 },
      { ...mb('cat'), direction: 'incoming', Value: 1 }, { ...mb('dan'), direction: 'incoming', Value: 0 }, { ...mb('eve'), direction: 'incoming', Value: 1 },
    ]),
    table('disabled', [{ ...mb('bob'), direction: 'incoming', code: 'credentials_rejected', Value: 1 }]),
    table('failures', [{ ...mb('bob'), direction: 'incoming', Value: 1 }, { ...mb('cat'), direction: 'incoming', Value: 4 }]),
    table('success', [{ ...mb('ann'), direction: 'incoming', Value: NOW / 1_000 - 60 }, { ...mb('cat'), direction: 'incoming', Value: NOW / 1_000 - 7_200 }]),
    table('error', [
      { ...mb('bob'), direction: 'incoming', code: 'credentials_rejected', class: 'permanent', scope: 'mailbox', Value: NOW / 1_000 - 30 },
      { ...mb('cat'), direction: 'incoming', code: 'connect_failed', class: 'transient', scope: 'server', Value: NOW / 1_000 - 10 },
    ]),
    table('test', [{ ...mb('eve'), Value: NOW / 1_000 - 20 * 60 }]),
  ];
}
