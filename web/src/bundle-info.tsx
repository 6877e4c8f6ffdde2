/**
 * The bundle hash this page's server publishes (docs/protocol.md §Web client), read from
 * `bundle.json` beside the page (`/join/bundle.json` on the relay) and shown with how to check it.
 * A page cannot hash the code it runs, and a hostile server can lie both in `bundle.json` and in
 * this page: the check that counts is comparing the published hash with a build of one's own and
 * with what others see (docs/decisions/0022-one-core-in-node-and-browser.md §The web trust problem).
 */
import { useEffect, useState } from 'preact/hooks';
import { bundleHashOf, CHECK_COMMAND } from './bundle-hash.ts';

type State = { kind: 'loading' } | { kind: 'published'; hash: string } | { kind: 'unpublished' };

async function fetchBundleHash(signal: AbortSignal): Promise<string | null> {
  const res = await fetch('./bundle.json', { cache: 'no-store', signal });
  if (!res.ok) {
    await res.body?.cancel();
    return null;
  }
  return bundleHashOf(await res.text());
}

export function BundleInfo() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    const abort = new AbortController();
    fetchBundleHash(abort.signal).then(
      (hash) => {
        if (!abort.signal.aborted)
          setState(hash === null ? { kind: 'unpublished' } : { kind: 'published', hash });
      },
      // fetch rejects with a TypeError when the network fails and an AbortError when unmounted.
      (error: unknown) => {
        if (error instanceof DOMException && error.name === 'AbortError') return;
        if (error instanceof TypeError) setState({ kind: 'unpublished' });
        else throw error;
      },
    );
    return () => abort.abort();
  }, []);

  if (state.kind === 'loading') return null;
  if (state.kind === 'unpublished') {
    return (
      <p class="bundle-info" data-testid="bundle-hash" data-bundle-hash="">
        This server publishes no bundle hash for this page.
      </p>
    );
  }
  return (
    <p class="bundle-info" data-testid="bundle-hash" data-bundle-hash={state.hash}>
      Bundle <code title={state.hash}>{state.hash.slice(0, 16)}…</code> — compare with your own build:{' '}
      <code>{CHECK_COMMAND}</code>
    </p>
  );
}
