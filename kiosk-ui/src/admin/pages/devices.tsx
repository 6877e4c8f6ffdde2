/**
 * Devices (docs/kiosk-and-admin-api.md §Admin console): the hardware the room found and how it is,
 * the VISCA camera's model, and tests — move the camera to a preset or home, play a tone on the
 * speaker, redraw the touch panel. Each test says what happened.
 */
import { useState } from 'preact/hooks';
import { api, type ApiError } from '../api.ts';
import { deviceTone, deviceWords, kindLabel, stateWords } from '../devices-view.ts';
import { formatAgo, formatTime } from '../format.ts';
import type { DeviceInfo, DeviceTestReply, OverviewReply } from '../types.ts';
import { Card, ErrorText, Outcome, Pill, Row, useAction } from '../ui.tsx';

const SOURCE_WORDS = {
  detected: 'as the camera reports it',
  configured: 'as set in Settings',
  default: 'the camera does not say which model it is',
} as const;

/** One test button and its outcome. */
function TestButton({
  label,
  path,
  body,
  testid,
  onDone,
}: {
  label: string;
  path: string;
  body?: unknown;
  testid: string;
  onDone?: () => void;
}) {
  const [error, busy, run] = useAction();
  const [result, setResult] = useState<DeviceTestReply | null>(null);
  return (
    <div class="test">
      <button
        type="button"
        class="secondary"
        data-testid={testid}
        disabled={busy}
        onClick={() =>
          void run(async () => {
            setResult(null);
            setResult(await api<DeviceTestReply>('POST', path, body ?? {}));
            onDone?.();
          })
        }
      >
        {busy ? 'Testing…' : label}
      </button>
      {result !== null && (
        <Outcome ok={result.ok} testid={`${testid}-result`}>
          {result.detail}
        </Outcome>
      )}
      <ErrorText error={error} />
    </div>
  );
}

function CameraTests({ onDone }: { onDone: () => void }) {
  const [preset, setPreset] = useState(1);
  const [error, busy, run] = useAction();
  const [result, setResult] = useState<DeviceTestReply | null>(null);
  const send = (path: string, body: unknown) =>
    void run(async () => {
      setResult(null);
      setResult(await api<DeviceTestReply>('POST', path, body));
      onDone();
    });
  return (
    <div class="test">
      <div class="row">
        <label class="inline">
          Preset{' '}
          <input
            type="number"
            min={0}
            max={127}
            value={preset}
            class="narrow"
            data-testid="camera-preset-number"
            onInput={(e) => setPreset(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </label>
        <button
          type="button"
          class="secondary"
          disabled={busy}
          data-testid="camera-preset"
          onClick={() => send('/api/v1/devices/camera/preset', { preset })}
        >
          Move to preset
        </button>
        <button
          type="button"
          class="secondary"
          disabled={busy}
          data-testid="camera-home"
          onClick={() => send('/api/v1/devices/camera/home', {})}
        >
          Home
        </button>
      </div>
      {result !== null && (
        <Outcome ok={result.ok} testid="camera-result">
          {result.detail}
        </Outcome>
      )}
      <ErrorText error={error} />
    </div>
  );
}

function DeviceCard({ d, onTested }: { d: DeviceInfo; onTested: () => void }) {
  return (
    <Card
      title={kindLabel(d.kind)}
      testid="device-card"
      actions={
        <Pill tone={deviceTone(d)} testid="device-status">
          {deviceWords(d)}
        </Pill>
      }
    >
      <div class="kvs" data-device={d.id} data-status={d.status} data-testid={`device-${d.id}`}>
        <Row label="Connected at">
          <span class="mono small">{d.name}</span>
        </Row>
        <Row label="State">
          {stateWords(d.state) || d.status}
          {d.since !== undefined && (
            <span class="muted">
              {' '}
              · since {formatTime(d.since)} ({formatAgo(d.since)})
            </span>
          )}
        </Row>
        {d.detail !== undefined && (
          <Row label="Last problem">
            <span class="warn-text">{d.detail}</span>
          </Row>
        )}
        {d.model !== undefined && (
          <Row label="Model" testid="camera-model">
            <strong>{d.model.name ?? 'Model not reported'}</strong>{' '}
            <span class="muted">
              · VISCA {d.model.family}
              {d.model.vendorId !== null && ` · vendor ${d.model.vendorId}`}
              {d.model.modelId !== null && ` · model ${d.model.modelId}`} · {SOURCE_WORDS[d.model.source]}
            </span>
          </Row>
        )}
        {d.kind === 'camera' && d.state !== 'not-configured' && (
          <div class="tests">
            <h3>Test</h3>
            <CameraTests onDone={onTested} />
          </div>
        )}
        {d.kind === 'panel' && d.state !== 'not-configured' && (
          <div class="tests">
            <h3>Test</h3>
            <TestButton
              label="Redraw panel"
              path="/api/v1/devices/panel/redraw"
              testid="panel-redraw"
              onDone={onTested}
            />
          </div>
        )}
      </div>
    </Card>
  );
}

export function DevicesPage({
  overview,
  error,
  reload,
}: {
  overview: OverviewReply | null;
  error: ApiError | null;
  reload: () => void;
}) {
  if (overview === null) return error !== null ? <ErrorText error={error} /> : <p class="muted">Loading…</p>;
  return (
    <div class="page" data-testid="page-devices">
      <p class="lead">
        What the room found, and whether it works. Tests act on the real devices: people in the room will see
        the camera move and hear the tone.
      </p>
      <ErrorText error={error} />
      <div class="grid">
        {overview.devices.map((d) => (
          <DeviceCard key={d.id} d={d} onTested={reload} />
        ))}
        <Card title="Speaker" testid="device-speaker">
          <p class="muted">
            A short tone on the room's speaker (the ALSA playback device in Settings › Devices ›
            Speakerphone), at the room's volume.
          </p>
          <div class="tests">
            <TestButton label="Play test tone" path="/api/v1/devices/speaker/beep" testid="speaker-beep" />
          </div>
        </Card>
      </div>
    </div>
  );
}
