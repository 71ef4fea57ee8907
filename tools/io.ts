// How a command talks to the outside: its two output streams and the stop signal.
export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** run fn on the first SIGINT/SIGTERM/SIGHUP (at once if one came already); returns its removal */
  onInterrupt(fn: () => void): () => void;
  /** a stop signal arrived (also during start-up, before the command registered anything) */
  interrupted(): boolean;
  /** run fn before a second signal exits the process at once (terminate workers) */
  onKill(fn: () => void): () => void;
}
