/**
 * Settings (docs/kiosk-and-admin-api.md §Admin console): every section of the settings schema as
 * its own form, generated from the schema the API serves, each saved on its own.
 */
import { GroupForm } from '../schema-form.tsx';
import type { SettingsEditor } from '../settings-editor.ts';
import { ErrorText } from '../ui.tsx';

export function SettingsPage({ ed }: { ed: SettingsEditor }) {
  if (ed.root === null || ed.settings === null)
    return ed.loadError !== null ? <ErrorText error={ed.loadError} /> : <p class="muted">Loading…</p>;
  const sections = ed.root.groups;
  return (
    <div class="page settings-page" data-testid="page-settings">
      <nav class="section-nav" aria-label="Settings sections">
        {sections.map((g) => (
          <a key={g.id} href={`#/settings/${g.id}`} data-testid={`section-link-${g.id}`}>
            {g.label}
          </a>
        ))}
      </nav>
      <div class="sections">
        <p class="lead">
          Changes are checked by the room when you save a section; a problem is shown at its field. Fields
          marked <span class="badge badge-restart">needs restart</span> take effect after the room restarts.
        </p>
        {sections.map((g) => (
          <GroupForm
            key={g.id}
            g={g}
            ed={ed}
            intro={
              g.id === 'encryption' ? (
                <p class="muted">
                  What these mean, in plain words: <a href="#/encryption">Encryption policy</a>.
                </p>
              ) : g.id === 'identity' ? (
                <p class="muted">
                  The certificate's status and the keys this room has pinned:{' '}
                  <a href="#/provisioning">Provisioning</a>.
                </p>
              ) : undefined
            }
          />
        ))}
      </div>
    </div>
  );
}
