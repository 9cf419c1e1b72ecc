/** A time as the panel shows it: UTC, to the second, or a dash. */
export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** `${mailbox}` in a link template, URL-encoded. */
export function fillTemplate(template: string, mailbox: string): string {
  return template.replaceAll('${mailbox}', encodeURIComponent(mailbox));
}
