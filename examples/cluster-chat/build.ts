import { fileURLToPath } from 'node:url';
import { buildBrowserApp } from '../shared/build-browser-app';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Build the browser app into `outDir`: `app.js`, its HTML and CSS. */
export const buildClusterChat = (outDir: string): Promise<void> =>
  buildBrowserApp({ srcDir: here('./src'), entries: { app: 'main.ts' }, files: ['index.html', 'styles.css'] }, outDir);

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildClusterChat(here('./dist'));
