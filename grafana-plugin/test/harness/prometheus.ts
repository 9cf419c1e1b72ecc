import { FieldType, toDataFrame, type DataFrame } from '@grafana/data';

interface InstantVector {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/**
 * An instant-vector answer of Prometheus' HTTP API as the Prometheus data source hands it to a
 * panel in table format: a Time column, one column per label, and a Value column.
 */
export function instantToFrame(refId: string, response: InstantVector): DataFrame {
  const result = response.data.result;
  const labels = [...new Set(result.flatMap((r) => Object.keys(r.metric)))].sort();
  return toDataFrame({
    refId,
    fields: [
      { name: 'Time', type: FieldType.time, values: result.map((r) => r.value[0] * 1_000) },
      ...labels.map((l) => ({ name: l, type: FieldType.string, values: result.map((r) => r.metric[l] ?? '') })),
      { name: 'Value', type: FieldType.number, values: result.map((r) => Number(r.value[1])) },
    ],
  });
}
