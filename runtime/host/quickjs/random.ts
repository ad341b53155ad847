// Randomness for the whole firmware side comes from the kernel, never from Math.random.
import * as std from "std";

let urandom: std.FILE | null = null;

/** Fills `target` from /dev/urandom; throws when the device cannot be read in full. */
export function fillRandom(target: Uint8Array): Uint8Array {
  if (target.length === 0) return target;
  if (!urandom) {
    urandom = std.open("/dev/urandom", "rb");
    if (!urandom) throw new Error("cannot open /dev/urandom: is devtmpfs mounted?");
  }
  // std FILE.read wants an ArrayBuffer; read into a scratch one, then copy into the view.
  const scratch = new ArrayBuffer(target.length);
  let got = 0;
  while (got < target.length) {
    const n = urandom.read(scratch, got, target.length - got);
    if (n <= 0) throw new Error("short read from /dev/urandom");
    got += n;
  }
  target.set(new Uint8Array(scratch));
  return target;
}
