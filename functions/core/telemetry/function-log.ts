/**
 * What domain code and handlers log through. Domain code never learns where the lines go: in Lambda
 * it is Powertools' Logger (handler/powertools.ts), in the edge worker's embedded control plane and
 * `ftpx control-plane serve` it is the edge worker's pino Logger, which has the same four methods.
 * Field names follow docs/operating.md (`session`, `pool`, `backend`, `user`, `client`).
 */
export interface FunctionLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLog: FunctionLog = { debug() {}, info() {}, warn() {}, error() {} };

/** A log taking whole entries (`{ level, msg, ...fields }`), as the registry handler writes them. */
export function entryLogger(log: FunctionLog): (entry: Record<string, unknown>) => void {
  return ({ level, msg, ...fields }) => {
    const method = level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
    log[method](typeof msg === 'string' ? msg : 'log', fields);
  };
}
