/** Entry of the admin console (docs/kiosk-and-admin-api.md §Admin console). */
import { render } from 'preact';
import { AdminApp } from './app.tsx';
import './admin.css';
import './admin-pages.css';
import './admin-forms.css';
import './admin-settings.css';
import './admin-logs.css';

const root = document.getElementById('admin');
if (root !== null) render(<AdminApp />, root);
