import { useConnectionState } from '@tidewire/react';

/** The connection's state and transport, e.g. "connected · websocket" or "reconnecting (attempt 2)". */
export function ConnectionBadge() {
  const connection = useConnectionState();
  let label: string = connection.state;
  if (connection.state === 'connected') label = `connected · ${connection.transport}`;
  if (connection.state === 'connecting') label = `connecting · ${connection.transport}`;
  if (connection.state === 'reconnecting') label = `reconnecting (attempt ${connection.attempt})`;
  return (
    <span className={`badge ${connection.state}`} data-testid="connection" data-state={connection.state} title={connection.error?.message}>
      <i aria-hidden="true" />
      {label}
    </span>
  );
}
