/**
 * The media layer's public API: capture, parsers, the wire path (chunking, reassembly, keyframe
 * recovery; docs/protocol.md "Media chunks"), jitter buffer, playout, kiosk video feed and stats.
 */
export * from './annexb.ts';
export * from './audio-mixer.ts';
export * from './capture.ts';
export * from './decode-check.ts';
export * from './envelope.ts';
export * from './ffmpeg-args.ts';
export * from './ivf.ts';
export * from './jitter.ts';
export * from './ogg.ts';
export * from './opus.ts';
export * from './pcm.ts';
export * from './playout.ts';
export * from './stats.ts';
export * from './stream/frame.ts';
export * from './stream/receiver.ts';
export * from './stream/sender.ts';
export * from './supervisor.ts';
export * from './types.ts';
export * from './video-feed.ts';
