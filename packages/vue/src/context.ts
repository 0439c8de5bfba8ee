import type { ClientOptions, TidewireClient } from '@tidewire/core';
import { createClient, resolveRenderUrl } from '@tidewire/core';
import type { App, InjectionKey } from 'vue';
import { getCurrentInstance, inject, onMounted, onScopeDispose, provide, shallowRef, ssrContextKey } from 'vue';
import type { ShallowRef } from 'vue';

/** What `app.use()` takes: client options (`url` defaults to `/tidewire` on the page's origin) or a ready client (private or shared). */
export interface TidewireOptions extends Omit<ClientOptions, 'url'> {
  /** Absolute, or relative to the page (`/tidewire`, the default). */
  url?: string;
}

export interface TidewirePlugin {
  install(app: App): void;
  /** The app's client, created on first use. */
  readonly client: TidewireClient;
}

const KEY: InjectionKey<() => TidewireClient> = Symbol('tidewire');

/**
 * The Vue plugin. The client is created lazily (on the first composable call or
 * `plugin.client` read) and, when the plugin created it, closed on `app.unmount()`.
 */
export function createTidewire(options: TidewireOptions | TidewireClient = {}): TidewirePlugin {
  const given = 'channel' in options ? options : undefined;
  let client = given;
  const get = (): TidewireClient => (client ??= createClient({ ...(options as TidewireOptions), url: resolveRenderUrl((options as TidewireOptions).url ?? '/tidewire') }));
  return {
    install(app) {
      app.provide(KEY, get);
      // An app that unmounts (tests, HMR, micro-frontends) leaves no socket behind.
      onAppUnmount(app, () => {
        if (!given) client?.close();
      });
    },
    get client() {
      return get();
    },
  };
}

/**
 * Run `cleanup` when `app.unmount()` is called, on every Vue the peer range admits:
 * Vue ≥ 3.5 has `app.onUnmount`; Vue 3.4 has not, so there `app.unmount` is wrapped
 * (cleanup after the app's own unmount, even if that throws).
 */
function onAppUnmount(app: App, cleanup: () => void): void {
  const withHook = app as App & { onUnmount?: (cleanup: () => void) => void };
  if (typeof withHook.onUnmount === 'function') {
    withHook.onUnmount(cleanup);
    return;
  }
  const unmount = app.unmount.bind(app);
  app.unmount = () => {
    try {
      unmount();
    } finally {
      cleanup();
    }
  };
}

/** Provide a client (`createClient(…)`, or `createSharedClient(…)` from `@tidewire/core/shared`) to this component's descendants (call inside `setup()`). */
export function provideTidewire(client: TidewireClient): void {
  provide(KEY, () => client);
}

/** The nearest provided client. Throws when neither the plugin nor `provideTidewire` supplied one. */
export function useTidewire(): TidewireClient {
  const get = inject(KEY, null);
  if (!get) throw new Error('[tidewire] no client: app.use(createTidewire({ url })) or call provideTidewire(client) in a parent setup()');
  return get();
}

/**
 * True while rendering on the server: no `window` (plain Node), or inside a component
 * rendered by `renderToString` (its SSR context is provided), even where a DOM is shimmed.
 */
export function isServer(): boolean {
  return typeof window === 'undefined' || (!!getCurrentInstance() && inject(ssrContextKey, null) !== null);
}

interface Source<S> {
  subscribe(listener: () => void): () => void;
  getSnapshot(): S;
}

/**
 * Mirror a core store into a shallowRef. On the server: `initial`, and no subscription
 * (so nothing connects). In a component the ref holds `initial` until mount so hydration
 * matches the server HTML; in a bare effectScope it is live at once. The subscription
 * ends with the scope (component or effectScope) via onScopeDispose.
 */
export function useSnapshot<S>(source: Source<S>, initial: S): Readonly<ShallowRef<S>> {
  const ref = shallowRef(initial);
  if (isServer()) return ref;
  let live = !getCurrentInstance();
  const sync = () => {
    if (live) ref.value = source.getSnapshot();
  };
  onScopeDispose(source.subscribe(sync));
  if (live) sync();
  else
    onMounted(() => {
      live = true;
      sync();
    });
  return ref;
}
