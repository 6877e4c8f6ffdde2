/**
 * Logs (docs/kiosk-and-admin-api.md §Admin console): the room's recent log lines (JSON from pino,
 * one per line, optionally with a journald `<N>` prefix) as a table, filtered by level and text,
 * and downloaded whole from the API or as shown.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { apiText } from '../api.ts';
import { ErrorText, useAction } from '../ui.tsx';

export const LEVELS = [
  { n: 10, name: 'trace' },
  { n: 20, name: 'debug' },
  { n: 30, name: 'info' },
  { n: 40, name: 'warn' },
  { n: 50, name: 'error' },
  { n: 60, name: 'fatal' },
] as const;

export interface LogEntry {
  level: number;
  time: number | null;
  component: string;
  msg: string;
  extra: string;
  raw: string;
}

const HIDDEN = new Set(['level', 'time', 'msg', 'component', 'pid', 'hostname', 'app', 'v']);

export function parseLogLine(raw: string): LogEntry {
  const line = raw.replace(/^<\d>/, '');
  let j: unknown;
  try {
    j = JSON.parse(line);
  } catch (error) {
    // A line that is not JSON (pretty output, a journald prefix we do not know) is shown as it is.
    if (!(error instanceof SyntaxError)) throw error;
    return { level: 30, time: null, component: '', msg: line, extra: '', raw };
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j))
    return { level: 30, time: null, component: '', msg: line, extra: '', raw };
  const o = j as Record<string, unknown>;
  const rest = Object.entries(o).filter(([k]) => !HIDDEN.has(k));
  return {
    level: typeof o['level'] === 'number' ? o['level'] : 30,
    time: typeof o['time'] === 'number' ? o['time'] : null,
    component: typeof o['component'] === 'string' ? o['component'] : '',
    msg: typeof o['msg'] === 'string' ? o['msg'] : '',
    extra: rest.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' '),
    raw,
  };
}

export const levelName = (n: number) => [...LEVELS].reverse().find((l) => n >= l.n)?.name ?? 'trace';

export function LogsPage() {
  const [lines, setLines] = useState(2000);
  const [text, setText] = useState<string | null>(null);
  const [min, setMin] = useState(30);
  const [search, setSearch] = useState('');
  const [error, busy, run] = useAction();
  const load = () =>
    void run(async () => {
      setText(await apiText(`/api/v1/logs?lines=${lines}`));
    });
  useEffect(load, [lines]);
  const entries = useMemo(
    () =>
      (text ?? '')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(parseLogLine),
    [text],
  );
  const needle = search.trim().toLowerCase();
  const shown = entries.filter(
    (e) => e.level >= min && (needle === '' || e.raw.toLowerCase().includes(needle)),
  );
  const [blobUrl, setBlobUrl] = useState<string | null>(null);
  useEffect(() => {
    const url = URL.createObjectURL(new Blob([shown.map((e) => e.raw).join('\n')], { type: 'text/plain' }));
    setBlobUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [text, min, needle]);
  return (
    <div class="page" data-testid="page-logs">
      <div class="toolbar">
        <label>
          Level{' '}
          <select
            value={String(min)}
            data-testid="log-level"
            onChange={(e) => setMin(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {LEVELS.map((l) => (
              <option key={l.n} value={String(l.n)}>
                {l.name} and worse
              </option>
            ))}
          </select>
        </label>
        <label>
          Containing{' '}
          <input
            type="search"
            value={search}
            data-testid="log-search"
            placeholder="text, component, code…"
            onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Last{' '}
          <select
            value={String(lines)}
            onChange={(e) => setLines(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {[500, 2000, 5000].map((n) => (
              <option key={n} value={String(n)}>
                {n} lines
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="secondary" disabled={busy} onClick={load} data-testid="log-refresh">
          {busy ? 'Loading…' : 'Refresh'}
        </button>
        <a class="button" href={`/api/v1/logs?lines=${lines}`} download data-testid="log-download">
          Download log
        </a>
        {blobUrl !== null && (
          <a
            class="button secondary"
            href={blobUrl}
            download="roomd-shown.log"
            data-testid="log-download-shown"
          >
            Download shown
          </a>
        )}
      </div>
      <ErrorText error={error} />
      <p class="muted" data-testid="log-count">
        {shown.length} of {entries.length} lines shown.
      </p>
      <div class="log-table-wrap">
        <table class="table log-table" data-testid="log-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Level</th>
              <th>Component</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {shown
              .slice(-1000)
              .reverse()
              .map((e, i) => (
                <tr key={i} data-testid="log-row" data-level={levelName(e.level)}>
                  <td class="mono nowrap">
                    {e.time === null ? '' : new Date(e.time).toLocaleTimeString([], { hour12: false })}
                  </td>
                  <td>
                    <span class={`level level-${levelName(e.level)}`}>{levelName(e.level)}</span>
                  </td>
                  <td class="mono">{e.component}</td>
                  <td>
                    {e.msg}
                    {e.extra !== '' && <div class="mono small muted log-extra">{e.extra}</div>}
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
