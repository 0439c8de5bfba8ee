import { fileURLToPath } from 'node:url';
import { buildBrowserApp } from '../shared/build-browser-app';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Build the browser app into `outDir`: `app.js` (the rooms), `ops.js` (the operator dashboard), their HTML and CSS. */
export const buildTeamRooms = (outDir: string): Promise<void> =>
  buildBrowserApp({ srcDir: here('./src'), entries: { app: 'main.ts', ops: 'ops.ts' }, files: ['index.html', 'ops.html', 'styles.css'] }, outDir);

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildTeamRooms(here('./dist'));
