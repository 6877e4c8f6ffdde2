/**
 * The canvas size a decoded picture is painted at: its own, unless it has more than
 * MAX_PAINT_PIXELS (4K UHD), when it is scaled down to that many, keeping its shape. A sender
 * chooses the picture size a receiver's decoder reports; a hostile one must not make every screen
 * that shows it allocate a canvas of hundreds of megabytes. Pure: the kiosk page and the web
 * client use it.
 */
export const MAX_PAINT_PIXELS = 3840 * 2160;

export function paintSize(width: number, height: number): { width: number; height: number } {
  const w = Math.max(1, Math.floor(width));
  const h = Math.max(1, Math.floor(height));
  const scale = Math.min(1, Math.sqrt(MAX_PAINT_PIXELS / (w * h)));
  return { width: Math.max(1, Math.floor(w * scale)), height: Math.max(1, Math.floor(h * scale)) };
}
