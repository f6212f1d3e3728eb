/**
 * The duration syntax Docker accepts for HEALTHCHECK --interval, --timeout, --start-period and
 * --start-interval (Go's duration format, as the Dockerfile reference's examples show): an optional
 * sign, then one or more decimal numbers each with a unit — `ns`, `us` (or `µs`), `ms`, `s`, `m`,
 * `h` — such as `300ms`, `1.5h` or `2h45m`; `0` alone needs no unit.
 */

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const TERM = /^(\d*)(?:\.(\d*))?([^\d.]+)/;

/** The nanoseconds `text` stands for, or undefined when it is not a duration. */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  while (s !== '') {
    const m = TERM.exec(s);
    if (!m) return undefined;
    const [all, whole = '', frac = '', unit = ''] = m;
    if (whole === '' && frac === '') return undefined;
    const scale = UNIT_NS[unit];
    if (scale === undefined) return undefined;
    total += Number(whole || '0') * scale + (frac === '' ? 0 : Number(`0.${frac}`) * scale);
    s = s.slice(all.length);
  }
  return sign * Math.round(total);
}
