// The long fuzz run of the keybox reader (npm test runs 2 000 inputs):
//   npx tsx bench/fuzz-keybox.ts [--count N] [--seed S]
// Mutations of a real GnuPG keybox (two OpenPGP keys and an X.509 certificate). Every input
// goes through the blob walk (keyboxKeyblocks, KeyboxError only); the few it accepts go on
// through readKeyring (SignatureError only) and may yield only keys that were in the keybox.
// Chunks have their own seed, announced on stderr, so a failure or a hang names its replay.
import { KeyboxError, keyboxKeyblocks } from "../gpg/keybox.ts";
import { readKeyring, SignatureError } from "../gpg/verify.ts";
import { makeGpgHome } from "../test/boot/support.ts";
import { makeKeybox, mutateKeybox } from "../test/boot/keybox-support.ts";
import { rng } from "../test/unit/boot/fuzz-inputs.ts";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

const CHUNK = 50_000;
const count = Number(option("--count", "1000000"));
const seed = Number(option("--seed", "1"));
if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(seed)) {
  console.error("usage: npx tsx bench/fuzz-keybox.ts [--count N] [--seed S]");
  process.exit(2);
}

const gpg = makeGpgHome();
const kbx = makeKeybox(gpg, [gpg.stranger, gpg.owner], { x509: true });
const known = new Set([gpg.stranger, gpg.owner]);
gpg.cleanup();

const total = { walkRefused: 0, walked: 0, keyringRefused: 0, keys: 0 };
const started = performance.now();
try {
  for (let done = 0, chunk = 0; done < count; done += CHUNK, chunk++) {
    const chunkSeed = seed * 100_003 + chunk;
    const size = Math.min(CHUNK, count - done);
    console.error(`keybox: inputs ${done}..${done + size - 1} (chunk seed ${chunkSeed})`);
    const r = rng(chunkSeed);
    for (let k = 0; k < size; k++) {
      const input = mutateKeybox(r, kbx);
      const where = `keybox input #${k} (chunk seed ${chunkSeed})`;
      try {
        keyboxKeyblocks(input);
      } catch (e) {
        if (!(e instanceof KeyboxError)) throw new Error(`${where}: the blob walk threw ${String(e)}`);
        total.walkRefused++;
        continue;
      }
      total.walked++;
      try {
        for (const key of await readKeyring(input)) {
          if (!known.has(key.getFingerprint().toUpperCase())) throw new Error(`${where}: a key that was never in the keybox came out`);
          total.keys++;
        }
      } catch (e) {
        if (!(e instanceof SignatureError)) throw e instanceof Error && e.message.startsWith(where) ? e : new Error(`${where}: readKeyring threw ${String(e)}`);
        total.keyringRefused++;
      }
    }
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `keybox: ${count} inputs in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s): ${total.walkRefused} refused by the blob walk (KeyboxError), ` +
  `${total.walked} walked, of which ${total.keyringRefused} refused by readKeyring (SignatureError); ${total.keys} keys read, all from the keybox`,
);
