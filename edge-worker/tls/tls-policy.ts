import type { TlsRequired } from '../config/tls-schema.js';

/**
 * TLSRequired, as mod_tls reads it. `control`: what the control connection needs before the
 * proxy serves commands: nothing (`off`), TLS before USER/PASS (`auth`), or TLS before anything but
 * the commands that lead to it (`ctrl`). `data`: PROT P needed before a transfer (`required`),
 * refused (`refused`, mod_tls's `!data`), or up to the client (`optional`).
 */
export interface TlsPolicy {
  control: 'off' | 'auth' | 'ctrl';
  data: 'optional' | 'required' | 'refused';
}

export function tlsPolicy(required: TlsRequired): TlsPolicy {
  switch (required) {
    case 'off':
      return { control: 'off', data: 'optional' };
    case 'on':
    case 'both':
      return { control: 'ctrl', data: 'required' };
    case 'control':
    case 'ctrl':
      return { control: 'ctrl', data: 'optional' };
    case 'data':
      return { control: 'off', data: 'required' };
    case '!data':
      return { control: 'off', data: 'refused' };
    case 'auth':
      return { control: 'auth', data: 'optional' };
    case 'auth+data':
      return { control: 'auth', data: 'required' };
    case 'auth+!data':
      return { control: 'auth', data: 'refused' };
    case 'ctrl+data':
      return { control: 'ctrl', data: 'required' };
    case 'ctrl+!data':
      return { control: 'ctrl', data: 'refused' };
  }
}

/** Commands a client may send on an unprotected control connection when TLSRequired covers it. */
const BEFORE_TLS = new Set(['AUTH', 'FEAT', 'QUIT', 'NOOP', 'SYST', 'HOST', 'CLNT', 'HELP', 'LANG', 'OPTS']);

/** Whether the policy refuses `verb` on a control connection that is not (yet) protected. */
export function refusedWithoutTls(policy: TlsPolicy, verb: string): boolean {
  if (policy.control === 'ctrl') return !BEFORE_TLS.has(verb);
  if (policy.control === 'auth') return verb === 'USER' || verb === 'PASS' || verb === 'ACCT';
  return false;
}
