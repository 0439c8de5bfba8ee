import type { Broker } from './broker/broker';

/**
 * The optional capabilities this server announces in `connected.features` (protocol §1.1).
 * A capability is listed only when every part it needs is there: presence needs a broker that
 * keeps members, history one that can read its stored messages (a custom broker written before
 * these existed simply announces neither, and clients refuse those requests with `unsupported`).
 * Other capabilities (e.g. `rpc`) are added here by name.
 * @param host the session's broker
 * @returns the capability names, e.g. `['presence', 'history']`
 */
export function serverFeatures(host: { readonly broker: Broker }): string[] {
  const { broker } = host;
  const features: string[] = [];
  if (broker.enterPresence && broker.leavePresence && broker.watchPresence) features.push('presence');
  if (broker.history) features.push('history');
  features.push('rpc'); // every server of this version answers rpc frames (unknown methods: unknown_method)
  return features;
}
