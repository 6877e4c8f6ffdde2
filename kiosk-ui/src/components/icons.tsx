/**
 * Line icons for the touch controls (docs/kiosk-and-admin-api.md §Room screen). SVG, so they render
 * on a room box without an emoji font and scale cleanly to 4K.
 */
const paths: Record<string, string> = {
  mic: 'M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z M5 11a7 7 0 0 0 14 0 M12 18v3',
  micOff: 'M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z M5 11a7 7 0 0 0 14 0 M12 18v3 M3 3l18 18',
  camera: 'M3 7h12v10H3z M15 10l6-3v10l-6-3',
  cameraOff: 'M3 7h12v10H3z M15 10l6-3v10l-6-3 M2 3l20 18',
  speaker: 'M4 9h4l5-4v14l-5-4H4z M16 9a4 4 0 0 1 0 6 M18.5 6.5a8 8 0 0 1 0 11',
  target: 'M12 3v4 M12 17v4 M3 12h4 M17 12h4 M12 8a4 4 0 1 1 0 8a4 4 0 1 1 0-8',
  smile: 'M12 3a9 9 0 1 1 0 18a9 9 0 1 1 0-18 M8 14a5 5 0 0 0 8 0 M9 9.5h.01 M15 9.5h.01',
  leave: 'M3 14c5-5 13-5 18 0l-3 3-3-2v-3c-2-1-4-1-6 0v3l-3 2z',
  check: 'M5 12l5 5L19 7',
  chat: 'M4 5h16v11H10l-5 4v-4H4z M8 9h8 M8 12h5',
  share: 'M3 5h18v12H3z M8 21h8 M12 17v4 M12 14V8 M9 11l3-3 3 3',
  people:
    'M9 11a3 3 0 1 0 0-6a3 3 0 0 0 0 6 M3 20a6 6 0 0 1 12 0 M17 11a2.5 2.5 0 1 0 0-5 M16 14a5 5 0 0 1 5 6',
};

export function Icon({ name }: { name: keyof typeof paths }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
      <path d={paths[name]} />
    </svg>
  );
}
