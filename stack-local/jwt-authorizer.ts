import { createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto';

/**
 * The JWT authoriser's local issuer: the template names an OpenID Connect issuer the local stack
 * cannot reach, so tokens come from a key pair made here, with the template's issuer as `iss`.
 * Verification does what API Gateway's JWT authoriser does: signature (RS256), iss equal to the
 * issuer, aud (or client_id) among the audiences, exp and nbf, and the route's scopes.
 */
export class LocalJwtIssuer {
  private readonly keyId = randomUUID();
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor() {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = createPublicKey(pair.privateKey);
  }

  issue(claims: Record<string, unknown>): string {
    const header = encode({ alg: 'RS256', typ: 'JWT', kid: this.keyId });
    const payload = encode({
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 3600,
      ...claims,
    });
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), this.privateKey).toString(
      'base64url',
    );
    return `${header}.${payload}.${signature}`;
  }

  verify(
    authorization: string | undefined,
    config: { issuer: string; audience: string[]; scopes: string[] },
  ): { ok: true; jwt: { claims: Record<string, unknown>; scopes: string[] } } | { ok: false } {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? authorization ?? '';
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature) return { ok: false };
    try {
      const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string; kid?: string };
      if (head.alg !== 'RS256' || head.kid !== this.keyId) return { ok: false };
      if (
        !verify(
          'sha256',
          Buffer.from(`${header}.${payload}`),
          this.publicKey,
          Buffer.from(signature, 'base64url'),
        )
      ) {
        return { ok: false };
      }
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const now = Date.now() / 1000;
      if (claims.iss !== config.issuer) return { ok: false };
      const audiences = [claims.aud, claims.client_id]
        .flat()
        .filter((a): a is string => typeof a === 'string');
      if (!audiences.some((aud) => config.audience.includes(aud))) return { ok: false };
      if (typeof claims.exp !== 'number' || claims.exp <= now) return { ok: false };
      if (typeof claims.nbf === 'number' && claims.nbf > now) return { ok: false };
      const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
      if (config.scopes.length > 0 && !config.scopes.some((scope) => scopes.includes(scope)))
        return { ok: false };
      return { ok: true, jwt: { claims, scopes } };
    } catch {
      return { ok: false };
    }
  }
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
