/** Vite handles CSS imports (web/vite.config.ts). */
declare module '*.css';
