import type { ClientChannel, ServerChannel } from 'ssh2';

export interface RelayHooks {
  /** Every chunk from the client to the backend, after it was passed on. */
  fromClient?: (chunk: Buffer) => void;
  /** Every chunk from the backend to the client. */
  fromServer?: (chunk: Buffer) => void;
  /** Both channels are closed; `exit` is the backend's exit status or signal, when it sent one. */
  closed?: (exit: ChannelExit | undefined) => void;
}

export type ChannelExit = { code: number } | { signal: string; coreDumped: boolean; message: string };

/**
 * Relays one session channel between the client (`front`) and the backend (`back`). Both directions
 * are piped, so SSH window backpressure holds end to end: a slow reader on one side stops the
 * window adjustments on the other. EOF is passed on as EOF; the backend's exit status or signal is
 * sent after the last byte of its output, then the client's channel is closed.
 */
export function relayChannel(front: ServerChannel, back: ClientChannel, hooks: RelayHooks = {}): void {
  let exit: ChannelExit | undefined;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    hooks.closed?.(exit);
  };
  if (hooks.fromClient) front.on('data', hooks.fromClient);
  if (hooks.fromServer) back.on('data', hooks.fromServer);
  front.pipe(back);
  back.pipe(front, { end: false });
  back.stderr.pipe(front.stderr, { end: false });
  back.on(
    'exit',
    (codeOrSignal: number | string | null, signal?: string, coreDumped?: boolean, message?: string) => {
      if (typeof codeOrSignal === 'number') exit = { code: codeOrSignal };
      else if (typeof signal === 'string' || typeof codeOrSignal === 'string') {
        exit = {
          signal: signal ?? String(codeOrSignal),
          coreDumped: coreDumped ?? false,
          message: message ?? '',
        };
      }
    },
  );
  back.on('close', () => {
    // An empty write completes after every earlier write went out: the exit status follows the data.
    front.write(Buffer.alloc(0), () => {
      if (exit && 'code' in exit) front.exit(exit.code);
      else if (exit) front.exit(exit.signal, exit.coreDumped, exit.message);
      front.end();
      finish();
    });
  });
  front.on('close', () => {
    back.close();
    finish();
  });
  front.on('error', () => back.close());
  back.on('error', () => front.close());
}
