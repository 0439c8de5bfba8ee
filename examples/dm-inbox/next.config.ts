import type { NextConfig } from 'next';

const config: NextConfig = {
  // The Tidewire server runs in this process as it is (Node built-ins, `ws`), not bundled per route:
  // every route handler then shares one module instance, and `dm-singleton.ts` one server.
  serverExternalPackages: ['@tidewire/server'],
};

export default config;
