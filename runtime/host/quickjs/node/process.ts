// `node:process` for bundled libraries: the global process the shims installed.
interface ProcessLike {
  env: Record<string, string>;
  cwd(): string;
}

const processShim = (globalThis as unknown as { process: ProcessLike }).process;
export const env = processShim.env;
export const cwd = (): string => processShim.cwd();
export default processShim;
