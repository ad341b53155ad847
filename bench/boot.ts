// /boot verification over ~100 MB of files as a ratio to native `sha256sum` over the same
// files (goal ≤ 1.1×), and the signature check alone (goal ≤ 100 ms; this runs on Node —
// the native QuickJS figure needs the engine harness). Run: npx tsx bench/boot.ts
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { rmSync, writeFileSync } from "node:fs";
import { createNodeSys } from "../runtime/host/node/sys.ts";
import { readKeyring, verifyDetached } from "../gpg/verify.ts";
import { inMemorySigner } from "../gpg/sign.ts";
import { readSignedLists, signBoot, signedStream, verifyBoot } from "../runtime/boot/index.ts";
import { makeBoot, makeGpgHome } from "../test/boot/support.ts";

const sys = createNodeSys();
const boot = makeBoot();
const gpg = makeGpgHome();
try {
  // A Debian-like /boot: two kernels and initrds, plus a few hundred small GRUB modules.
  for (const v of ["6.1.0-1", "6.1.0-2"]) {
    writeFileSync(join(boot, `vmlinuz-${v}`), randomBytes(8 << 20));
    writeFileSync(join(boot, `initrd.img-${v}`), randomBytes(40 << 20));
  }
  for (let i = 0; i < 300; i++) writeFileSync(join(boot, "grub", `mod${i}.mod`), randomBytes(4096));
  const signer = await inMemorySigner(gpg.ownerSecret());
  const keys = await readKeyring(gpg.ownerPublic());
  await signBoot(sys, { bootDir: boot, signer, defaultIndex: 1 });

  const files = execFileSync("find", ["./", "-type", "f", "!", "-path", "./kexec*"], { cwd: boot }).toString().trim().split("\n");
  const best = (f: () => unknown, n = 5) => {
    let min = Infinity;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      f();
      min = Math.min(min, performance.now() - t);
    }
    return min;
  };
  const native = best(() => execFileSync("sha256sum", files, { cwd: boot }));
  let ours = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await verifyBoot(sys, { bootDir: boot, keys });
    ours = Math.min(ours, performance.now() - t);
  }
  const lists = readSignedLists(sys, boot);
  let sig = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await verifyDetached({ data: signedStream(lists), signature: sys.readFile(`${boot}/kexec.sig`), keys });
    sig = Math.min(sig, performance.now() - t);
  }
  console.log(`/boot ${files.length} files, ~${(88 + 1.2).toFixed(0)} MB: native sha256sum ${native.toFixed(0)} ms; bootward verify ${ours.toFixed(0)} ms (${(ours / native).toFixed(2)}×, goal ≤ 1.1× + 100 ms); signature alone ${sig.toFixed(1)} ms (Node)`);
} finally {
  rmSync(dirname(boot), { recursive: true, force: true });
  gpg.cleanup();
}
