/** The web client's entry (web/README section in the main README; docs/decisions/0022-one-core-in-node-and-browser.md). */
import { render } from 'preact';
import { App } from './app.tsx';
import './styles.css';

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
