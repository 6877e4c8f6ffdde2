/**
 * Scripts browser-media puts into pages with Playwright's `addInitScript` (docs/benchmarks.md
 * §browser-media): the browser injects them before the page's own scripts, outside its CSP. Both
 * carry the frame stamp of src/media/frame-stamp.ts, transpiled as is.
 */
import * as fs from 'node:fs';
import ts from 'typescript';

/** src/media/frame-stamp.ts as a JavaScript expression (it has no imports; its exports dropped). */
function frameStampExpression(): string {
  const source = fs.readFileSync(new URL('../../src/media/frame-stamp.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  return `(() => { ${js.replace(/^export /gm, '')}\nreturn { readFrameStamp, stampBandHeight, stampCells, stampCellX }; })()`;
}

/**
 * The web client's camera replaced: `getUserMedia` returns a 1280x720 canvas track (plus the
 * browser's fake microphone) on which a frame is drawn every 1/30 s, paced by the clock, with the
 * wall-clock time (`performance.timeOrigin + performance.now()`, ms) as the frame stamp across its
 * top; `requestFrame` hands each drawn picture to the track at once.
 */
export function stampCameraScript(width = 1280, height = 720, fps = 30): string {
  return `
(() => {
  const FS = ${frameStampExpression()};
  const md = navigator.mediaDevices;
  if (md === undefined) return;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = async (constraints) => {
    const W = ${width}, H = ${height};
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext('2d');
    const track = canvas.captureStream(0).getVideoTracks()[0];
    const band = FS.stampBandHeight(H);
    const start = performance.now();
    let i = 0;
    const draw = () => {
      const ms = Math.round(performance.timeOrigin + performance.now());
      ctx.fillStyle = '#3a4a5a';
      ctx.fillRect(0, 0, W, H);
      ctx.fillStyle = '#d8c8a0';
      ctx.fillRect((i * 16) % W, band + 60, 200, 420);
      ctx.fillStyle = '#e0e0e0';
      ctx.font = '64px sans-serif';
      ctx.fillText('browser ' + i, 60, H - 60);
      const cells = FS.stampCells(ms);
      for (let c = 0; c < cells.length; c++) {
        const x = FS.stampCellX(c, W);
        ctx.fillStyle = cells[c] ? '#ffffff' : '#000000';
        ctx.fillRect(x, 0, FS.stampCellX(c + 1, W) - x, band);
      }
      track.requestFrame();
      i++;
    };
    const tick = () => {
      if (track.readyState === 'ended') return;
      draw();
      setTimeout(tick, Math.max(0, start + (i * 1000) / ${fps} - performance.now()));
    };
    tick();
    const tracks = [track];
    if (constraints && constraints.audio) tracks.push(...(await original({ audio: constraints.audio })).getAudioTracks());
    return new MediaStream(tracks);
  };
})();`;
}

/**
 * The room screen's side: once `__bm.watch(id)` names a participant, reads the stamp on that
 * participant's tile canvas at every animation frame; the first animation frame showing a new
 * stamp is that frame's display time, on the same wall clock.
 */
export function tileWatchScript(): string {
  return `
(() => {
  const FS = ${frameStampExpression()};
  const now = () => performance.timeOrigin + performance.now();
  const g = (window.__bm = { painted: [], unread: 0, raf: 0, id: null, last: null, decoded720p: 0 });
  // Frames out of the page's decoders at 1280x720 (only the watched browser sends that size here).
  const Vd = window.VideoDecoder;
  if (typeof Vd === 'function')
    window.VideoDecoder = class extends Vd {
      constructor(init) {
        super({
          ...init,
          output: (frame) => {
            if (frame.displayWidth === 1280 && frame.displayHeight === 720) g.decoded720p++;
            init.output(frame);
          },
        });
      }
    };
  const read = (id) => {
    const c = document.querySelector('[data-testid="tile"][data-participant="' + CSS.escape(id) + '"] canvas');
    if (c === null || c.width < 80 || c.height < 2) return null;
    const ctx = c.getContext('2d');
    if (ctx === null) return null;
    return FS.readFrameStamp(ctx.getImageData(0, 0, c.width, FS.stampBandHeight(c.height)), c.height);
  };
  g.watch = (id) => {
    g.id = id;
    const tick = () => {
      if (g.id === null) return;
      g.raf++;
      const at = now();
      const s = read(g.id);
      if (s === null) g.unread++;
      else if (s !== g.last) {
        g.last = s;
        g.painted.push({ stamp: s, at });
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  g.reset = () => {
    g.painted = [];
    g.unread = 0;
    g.raf = 0;
    g.decoded720p = 0;
  };
  g.take = () => {
    const out = { painted: g.painted, unread: g.unread, raf: g.raf, decoded720p: g.decoded720p };
    g.id = null;
    return out;
  };
})();`;
}
