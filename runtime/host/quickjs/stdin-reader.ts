// QuickJS allows one read handler per fd, but both ink's process.stdin and
// Sys.console.onKeys want fd 0: this module owns the handler and fans bytes out.
import * as os from "os";

type Subscriber = (bytes: Uint8Array | null) => void;

const subscribers = new Set<Subscriber>();
let installed = false;
const buffer = new ArrayBuffer(4096);

function onReadable(): void {
  const n = os.read(0, buffer, 0, buffer.byteLength);
  // 0 is end of input; a negative count is an error. Either way nothing more will come.
  const chunk = n > 0 ? new Uint8Array(buffer.slice(0, n)) : null;
  if (!chunk) stop();
  for (const s of [...subscribers]) s(chunk);
}

function stop(): void {
  if (!installed) return;
  os.setReadHandler(0, null);
  installed = false;
}

/** Delivers stdin bytes (null at end of input) until the returned function is called. */
export function subscribeStdin(subscriber: Subscriber): () => void {
  subscribers.add(subscriber);
  if (!installed) {
    os.setReadHandler(0, onReadable);
    installed = true;
  }
  return () => {
    subscribers.delete(subscriber);
    // Without a handler the QuickJS loop can end, so the program exits when idle.
    if (subscribers.size === 0) stop();
  };
}
