/**
 * The web client's media in the page: the camera and microphone (getUserMedia → WebCodecs encoders
 * → the shared media link, media/capture.ts), the others' video tiles and audio (media/playback.ts),
 * and the controls: mute, camera, reactions. Mute and camera state go to everyone end to end
 * encrypted on the control channel (docs/protocol.md "# Control frames"); each tile shows the
 * state its participant last sent.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Clock } from '../../src/core/clock.ts';
import type { MeetingParticipant } from '../../src/meeting/status.ts';
import { REACTIONS, type Reaction } from '../../src/protocol/vocabulary.ts';
import { AudioTrackSource, missingSendSupport, VideoTrackSource } from './media/capture.ts';
import { Playback } from './media/playback.ts';
import type { WebMeeting } from './meeting.ts';

/** Words, not emoji: a browser without an emoji font shows them all the same. */
const REACTION_TEXT: Record<Reaction, string> = {
  thumbs_up: 'Thumbs up',
  clap: 'Clap',
  heart: 'Heart',
  laugh: 'Laugh',
  surprised: 'Wow',
  raise_hand: 'Raise hand',
};

/**
 * The name under someone's picture: the one the meeting service gives, and, when an organization
 * this visitor trusts certified another, that one too — the service cannot caption a verified
 * person's video with a name of its choosing unnoticed.
 */
export function pictureName(p: MeetingParticipant): string {
  const certified = p.identity.status === 'verified' ? p.identity.certifiedName : null;
  return certified === null || certified === p.name ? p.name : `${p.name} (certified as ${certified})`;
}

/** The camera and microphone of one meeting, and what plays the others. */
export class LocalMedia {
  readonly playback: Playback;
  stream: MediaStream | null = null;
  video: VideoTrackSource | null = null;
  audio: AudioTrackSource | null = null;
  /** Why there is no camera or microphone, in words for the page; null while all is well. */
  problem: string | null = null;
  readonly #offs: (() => void)[] = [];
  readonly #meeting: WebMeeting;
  #stopped = false;
  #starting: Promise<void> | null = null;

  readonly #clock: Clock;

  constructor(meeting: WebMeeting, audio: AudioContext | null, clock: Clock) {
    this.#meeting = meeting;
    this.#clock = clock;
    const link = meeting.link;
    this.playback = new Playback(
      (id, kind) => link?.requestKeyframe(id, kind),
      () => clock.now(),
    );
    if (audio !== null) this.playback.useAudio(audio);
    if (link !== null) this.#offs.push(link.onFrame((f) => this.playback.push(f)));
  }

  /**
   * Ask for the camera and microphone and start sending, once per meeting: the panel that calls it
   * may mount again (after a reconnect through the lobby), and a second call returns the first.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const link = this.#meeting.link;
    if (link === null) return;
    const missing = missingSendSupport();
    if (missing.length > 0) {
      this.problem = `This browser cannot send media (no ${missing.join(', ')}); you can still see and hear the others.`;
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
      });
    } catch (error) {
      // Refusals, missing devices, devices in use: DOMExceptions. Anything else is ours to see.
      if (!(error instanceof DOMException)) throw error;
      const name = error.name;
      this.problem =
        name === 'NotAllowedError'
          ? 'Camera and microphone are blocked for this page; the others cannot see or hear you.'
          : `No camera or microphone (${name}); the others cannot see or hear you.`;
      return;
    }
    if (this.#stopped) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.stream = stream;
    const clock = this.#clock;
    const videoTrack = stream.getVideoTracks()[0];
    const audioTrack = stream.getAudioTracks()[0];
    if (videoTrack !== undefined) {
      videoTrack.enabled = this.#meeting.cameraOn;
      this.video = new VideoTrackSource(videoTrack, clock);
      this.video.setPaused(!this.#meeting.cameraOn);
      link.attach(this.video);
    }
    if (audioTrack !== undefined) {
      audioTrack.enabled = !this.#meeting.muted;
      this.audio = new AudioTrackSource(audioTrack, clock);
      this.audio.setPaused(this.#meeting.muted);
      link.attach(this.audio);
    }
  }

  /** Who shares content now, as every client decides it (docs/protocol.md "# Content sharing"). */
  sharer(): { id: string } | null {
    return this.#meeting.link?.share.sharer(this.#clock.monotonic()) ?? null;
  }

  /** Muted: nothing is encoded, and the microphone track is disabled (the browser shows it off). */
  setMuted(muted: boolean): void {
    this.audio?.setPaused(muted);
    for (const t of this.stream?.getAudioTracks() ?? []) t.enabled = !muted;
    this.#meeting.setMuted(muted);
  }

  /** Camera off: nothing is encoded, and the track is disabled (its light goes out). */
  setCamera(on: boolean): void {
    this.video?.setPaused(!on);
    for (const t of this.stream?.getVideoTracks() ?? []) t.enabled = on;
    this.#meeting.setCamera(on);
  }

  stop(): void {
    this.#stopped = true;
    for (const off of this.#offs.splice(0)) off();
    this.#meeting.link?.detach('video');
    this.#meeting.link?.detach('audio');
    this.video?.stop();
    this.audio?.stop();
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    this.playback.close();
  }

  /** Counters for the page's figures and for tests (no keys, no media). */
  stats() {
    const link = this.#meeting.link;
    return {
      video: this.video?.counters ?? null,
      audio: this.audio?.counters ?? null,
      playback: { ...this.playback.counters },
      connection: this.#meeting.media === null ? null : { ...this.#meeting.media.counters },
      sent:
        link === null
          ? null
          : { video: link.sendStats('video').snapshot(), audio: link.sendStats('audio').snapshot() },
      decryptFailures: link === null ? null : { ...link.decryptFailures },
      /** Per participant: frames received and opened, of their audio and video. */
      received:
        link === null
          ? null
          : Object.fromEntries(
              this.#meeting.snapshot.participants
                .filter((p) => !p.self)
                .map((p) => [
                  p.id,
                  {
                    audio: link.receiveStats(p.id, 'audio').snapshot(),
                    video: link.receiveStats(p.id, 'video').snapshot(),
                  },
                ]),
            ),
    };
  }
}

function Tile({
  media,
  participant,
  muted,
  cameraOn,
}: {
  media: LocalMedia;
  participant: MeetingParticipant;
  muted: boolean | undefined;
  cameraOn: boolean | undefined;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    media.playback.attachCanvas(participant.id, canvas.current, () => setPainted(true));
    return () => media.playback.attachCanvas(participant.id, null);
  }, [media, participant.id]);
  const initials = participant.name
    .split(/\s+/)
    .filter((w) => w !== '')
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase() ?? '')
    .join('');
  return (
    <figure
      class="tile"
      data-testid="tile"
      data-participant={participant.id}
      data-muted={muted === undefined ? 'unknown' : muted ? 'yes' : 'no'}
      data-camera={cameraOn === undefined ? 'unknown' : cameraOn ? 'on' : 'off'}
      data-live={painted && cameraOn !== false ? 'yes' : 'no'}
    >
      <canvas ref={canvas} width={320} height={180} />
      {(!painted || cameraOn === false) && (
        <div class="tile-placeholder" aria-hidden="true">
          {initials}
        </div>
      )}
      <figcaption>
        {pictureName(participant)}
        {muted === true && <span class="tile-muted"> · muted</span>}
        {cameraOn === false && <span class="tile-camera-off"> · camera off</span>}
      </figcaption>
    </figure>
  );
}

/** Someone's shared content, large, above the people (docs/protocol.md "# Content sharing"). */
function ShareView({ media, sharerId, name }: { media: LocalMedia; sharerId: string; name: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    setPainted(false);
    media.playback.attachShareCanvas(sharerId, canvas.current, () => setPainted(true));
    return () => media.playback.attachShareCanvas(sharerId, null);
  }, [media, sharerId]);
  return (
    <figure class="share" data-testid="share" data-participant={sharerId} data-live={painted ? 'yes' : 'no'}>
      <canvas ref={canvas} width={640} height={360} />
      <figcaption>{name} is sharing</figcaption>
    </figure>
  );
}

function SelfView({ stream }: { stream: MediaStream | null }) {
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (video.current !== null) video.current.srcObject = stream;
  }, [stream]);
  return (
    <figure class="tile">
      <video class="self-view" data-testid="self-view" ref={video} autoPlay muted playsInline />
      <figcaption>You</figcaption>
    </figure>
  );
}

export function MediaPanel({
  meeting,
  media,
  participants,
}: {
  meeting: WebMeeting;
  media: LocalMedia;
  participants: readonly MeetingParticipant[];
}) {
  const [, redraw] = useState(0);
  const [muted, setMuted] = useState(meeting.muted);
  const [cameraOn, setCameraOn] = useState(meeting.cameraOn);
  const [started, setStarted] = useState(media.stream !== null || media.problem !== null);
  // At most one redraw a frame, however many control messages arrive (a flood of reactions).
  useEffect(() => {
    let queued = false;
    return meeting.events.on('control', () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        redraw((n) => n + 1);
      });
    });
  }, [meeting]);
  // Someone left: their decoders and tile go.
  const ids = participants.map((p) => p.id).join(' ');
  const seen = useRef(new Set<string>());
  useEffect(() => {
    const now = new Set(ids.split(' '));
    for (const id of seen.current) if (!now.has(id)) media.playback.forget(id);
    for (const id of now) media.playback.present(id);
    seen.current = now;
  }, [ids, media]);
  useEffect(() => {
    let live = true;
    media.start().then(
      () => live && setStarted(true),
      (error: unknown) => {
        media.problem = `The camera and microphone could not start (${error instanceof Error ? error.name : 'error'}).`;
        if (live) setStarted(true);
        throw error;
      },
    );
    return () => {
      live = false;
    };
  }, [media]);
  const remote = meeting.link?.control.remote;
  const sharer = media.sharer();
  const sharerParticipant = participants.find((p) => p.id === sharer?.id && !p.self);
  const sharerName = sharerParticipant === undefined ? undefined : pictureName(sharerParticipant);
  const reactions = meeting.link?.control.reactions.slice(-3) ?? [];
  const names = new Map(participants.map((p) => [p.id, p.name]));
  return (
    <section class="media" data-testid="media">
      <div class="controls">
        <button
          type="button"
          data-testid="mute"
          aria-pressed={muted}
          onClick={() => {
            media.setMuted(!muted);
            setMuted(!muted);
          }}
        >
          {muted ? 'Unmute' : 'Mute'}
        </button>
        <button
          type="button"
          data-testid="camera"
          aria-pressed={!cameraOn}
          onClick={() => {
            media.setCamera(!cameraOn);
            setCameraOn(!cameraOn);
          }}
        >
          {cameraOn ? 'Stop camera' : 'Start camera'}
        </button>
        {REACTIONS.map((r) => (
          <button
            type="button"
            key={r}
            class="reaction"
            data-testid={`react-${r}`}
            onClick={() => meeting.react(r)}
          >
            {REACTION_TEXT[r]}
          </button>
        ))}
      </div>
      {started && media.problem !== null && (
        <p class="warning" data-testid="media-problem">
          {media.problem}
        </p>
      )}
      {reactions.length > 0 && (
        <p class="reactions" data-testid="reactions">
          {reactions
            .map((r) => `${names.get(r.participantId) ?? 'Someone'}: ${REACTION_TEXT[r.reaction]}`)
            .join(' · ')}
        </p>
      )}
      {sharer !== null && sharerName !== undefined && (
        <ShareView media={media} sharerId={sharer.id} name={sharerName} />
      )}
      <div class="tiles">
        <SelfView stream={media.stream} />
        {participants
          .filter((p) => !p.self)
          .map((p) => (
            <Tile
              key={p.id}
              media={media}
              participant={p}
              muted={remote?.get(p.id)?.muted}
              cameraOn={remote?.get(p.id)?.cameraOn}
            />
          ))}
      </div>
    </section>
  );
}
