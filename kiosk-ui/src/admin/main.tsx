/** Entry of the admin page (issue 7, admin context). */
import { render } from 'preact';
import { AdminApp } from './app.tsx';
import './admin.css';

const root = document.getElementById('admin');
if (root !== null) render(<AdminApp />, root);
