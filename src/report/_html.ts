/** Escaping for text and attribute values in HTML and SVG (internal to the report room). */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes `&<>"'` so any string is safe as HTML/SVG text or a quoted attribute value. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
