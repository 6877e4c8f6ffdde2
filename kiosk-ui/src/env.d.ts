/** Vite handles CSS imports (docs/kiosk-and-admin-api.md §Room screen, build). */
declare module '*.css';
