import type { AuthRequest, AuthResponse } from '../../../functions/contract/auth.js';
import type { ControlPlaneClient } from '../../control-plane/control-plane-client.js';

/**
 * A login to the proxy itself (UseReverseProxyAuth, or a forward method with a proxy user): the
 * pool's users decide (store, AuthUserFile, identity hook). A control plane that cannot answer
 * refuses, like a wrong password, with the reason kept for the log.
 */
export function authenticateProxyUser(
  controlPlane: ControlPlaneClient,
  request: Omit<AuthRequest, 'protocol'>,
): Promise<AuthResponse | { allowed: false; reason: string }> {
  return controlPlane
    .authenticate({ ...request, protocol: 'ftp' })
    .catch(
      (err: unknown) => ({ allowed: false, reason: `control plane: ${(err as Error).message}` }) as const,
    );
}
