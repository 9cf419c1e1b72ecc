/** [1,2,3,7,9,10] -> "1:3,7,9:10" keeps FETCH commands short for large batches. */
export function toSequenceSet(sortedUids: number[]): string {
  const parts: string[] = [];
  let start = sortedUids[0] as number;
  let prev = start;
  for (let i = 1; i <= sortedUids.length; i++) {
    const uid = sortedUids[i];
    if (uid === prev + 1) {
      prev = uid;
      continue;
    }
    parts.push(start === prev ? `${start}` : `${start}:${prev}`);
    if (uid !== undefined) start = prev = uid;
  }
  return parts.join(',');
}
