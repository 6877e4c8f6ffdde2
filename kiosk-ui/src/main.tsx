/** Entry of the room-screen page (docs/kiosk-and-admin-api.md §Room screen). */
import { render } from 'preact';
import { App } from './app.tsx';
import './styles/base.css';
import './styles/screens.css';
import './styles/encryption.css';
import './styles/meeting.css';
import './styles/roster.css';
import './styles/share.css';
import './styles/chat.css';

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
