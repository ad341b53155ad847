// Node built-ins with no meaning in the firmware (fs, child_process, module, ...).
// Libraries import them for optional features; calling one is a bug, so it throws.
function unavailable(name: string): () => never {
  return () => {
    throw new Error(`${name} is not available in the bootward firmware runtime`);
  };
}

export const readFileSync = unavailable("fs.readFileSync");
export const writeFileSync = unavailable("fs.writeFileSync");
export const existsSync = (): boolean => false;
export const statSync = unavailable("fs.statSync");
export const openSync = unavailable("fs.openSync");
export const closeSync = unavailable("fs.closeSync");
export const execFileSync = unavailable("child_process.execFileSync");
export const execSync = unavailable("child_process.execSync");
export const spawnSync = unavailable("child_process.spawnSync");
export const createRequire = unavailable("module.createRequire");
export const fileURLToPath = (url: string | URL): string => String(url).replace(/^file:\/\//, "");
export const promises = {};
export default {
  readFileSync,
  writeFileSync,
  existsSync,
  statSync,
  openSync,
  closeSync,
  execFileSync,
  execSync,
  spawnSync,
  createRequire,
  fileURLToPath,
  promises,
};
