import { SharedClient } from '@tidewire/core/shared';
import { useTidewire } from '@tidewire/react';
import { useSyncExternalStore } from 'react';

/** With `?share=1`: "shared with 3 tabs · worker" (or "· leader tab" / "· via the leader tab"); nothing otherwise. */
export function SharedBadge() {
  const client = useTidewire();
  const shared = client instanceof SharedClient ? client : undefined;
  const tabs = useSyncExternalStore(
    (changed) => shared?.on('tabs', changed) ?? (() => {}),
    () => shared?.tabs ?? 0,
    () => 0,
  );
  if (!shared) return null;
  const where = shared.mode === 'worker' ? 'worker' : shared.isLeader ? 'leader tab' : 'via the leader tab';
  return (
    <span className="badge shared" data-testid="shared" data-tabs={tabs} data-mode={shared.mode}>
      shared with {tabs} {tabs === 1 ? 'tab' : 'tabs'} · {where}
    </span>
  );
}
