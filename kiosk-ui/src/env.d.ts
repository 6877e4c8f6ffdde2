/** Vite handles CSS imports (issue 7, kiosk UI build). */
declare module '*.css';
