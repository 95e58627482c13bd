/** A data connection could not be established: the client never connected, or the backend's port refused. */
export class DataConnectionError extends Error {
  override readonly name = 'DataConnectionError';
}

/** An established data connection failed while bytes were flowing, or the transfer was aborted. */
export class DataRelayError extends Error {
  override readonly name = 'DataRelayError';
}
