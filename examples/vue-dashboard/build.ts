import { build } from 'vite';
import { dashboardConfig } from './vite.config';

/** Build the dashboard into `outDir` (used by the browser test; `vite build` does the same into dist/). */
export async function buildDashboard(outDir: string): Promise<void> {
  await build({ ...dashboardConfig, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}
