// The demo's one mesh starter: a transport (the protocol's listeners and apps) and a proxy shape (sidecars or
// ambient), over a setup computed once. Whatever fails to start leaves no listener behind.
import type { MeshSetup, ProxyShape, Transport, Mesh } from "../core/transport.ts";

export async function launchMesh(setup: MeshSetup, transport: Transport, shape: ProxyShape): Promise<Mesh> {
  const listeners = transport.listeners();
  try {
    const { entry, apps, ...observed } = await shape(setup, transport, (l) => listeners.listen(l));
    return {
      gatewayUrl: transport.gatewayUrl(entry), ...observed,
      ...(apps.acks ? { acks: () => apps.acks!() } : {}),
      close: async () => { await Promise.all([apps.close(), listeners.close()]); },
    };
  } catch (e) {
    await listeners.close();
    throw e;
  }
}
