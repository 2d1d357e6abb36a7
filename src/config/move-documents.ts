import { parseRelease, usesKeycloak } from '../catalog/vantage6-versions.js';
import type { Diagnostic } from '../diagnostic.js';
import { isRecord } from './checks/check-context.js';
import type { ConfigDocument, LoadedConfig } from './load-config.js';

/** What a vantage6 5 file beside a 4.x config holds during a move: what differs on HQ. */
const HQ_OWN_KEYS = ['vantage6', 'server', 'secrets'];

/** Whether a document declares a vantage6 5 release (`vantage6: "5.0"`). */
function declaresFive(document: ConfigDocument): boolean {
  const value = isRecord(document.value) ? document.value.vantage6 : undefined;
  const release = typeof value === 'string' ? parseRelease(value) : null;
  return release !== null && usesKeycloak(release.minor);
}

function without(document: ConfigDocument, key: string): ConfigDocument {
  if (!isRecord(document.value) || !(key in document.value)) return document;
  const { [key]: _, ...rest } = document.value;
  return { ...document, value: rest };
}

/**
 * A 4.x config planned for vantage6 5 while both servers run (`--for 5.0`):
 * its files describe the federation for the 4.x server, and the files that
 * declare vantage6 5 say only what differs on HQ — where its nodes reach it
 * and fedctl's way in (`server:`), who opens its nodes' files (`secrets:`).
 * One config for the 4.x line results: the 4.x files without their own
 * `server:` (HQ's nodes must not be sent to the 4.x server), HQ's files
 * without their `vantage6:`. `hq` are the files that declared vantage6 5.
 */
export function documentsForMove(loaded: LoadedConfig): { loaded: LoadedConfig; hq: readonly ConfigDocument[] } {
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const hq: ConfigDocument[] = [];
  const four: ConfigDocument[] = [];
  for (const document of loaded.documents) (declaresFive(document) ? hq : four).push(document);
  for (const document of hq) {
    if (!isRecord(document.value)) continue;
    for (const key of Object.keys(document.value).filter((k) => !HQ_OWN_KEYS.includes(k))) {
      diagnostics.push({
        severity: 'error', location: document.locate([key], { key: true }), path: [key],
        message: 'under --for 5.0, a file for vantage6 5 holds only what differs on HQ: server: and secrets:',
        hint: 'put it in the 4.x config, which both servers get (adapted for vantage6 5), or leave --for out to plan this file as a config of its own',
      });
    }
  }
  const first = four[0];
  if (first !== undefined && !four.some((document) => isRecord(document.value) && typeof document.value.vantage6 === 'string')) {
    diagnostics.push({
      severity: 'error', location: first.locate([]), path: [],
      message: 'under --for 5.0, the 4.x config says which release its server runs: the built-in roles its users hold differ between 4.x releases',
      hint: 'add vantage6: "4.x" (the 4.x server\'s release, e.g. "4.13") to the 4.x config',
    });
  }
  if (four.length === 0) {
    diagnostics.push({
      severity: 'error', location: null, path: [],
      message: '--for 5.0 plans a 4.x config for vantage6 5, but every file declares vantage6 5',
      hint: 'give the 4.x config too, or leave --for out to plan a vantage6 5 config as it is',
    });
  }
  return {
    loaded: { documents: [...four.map((d) => without(d, 'server')), ...hq.map((d) => without(d, 'vantage6'))], diagnostics },
    hq,
  };
}
