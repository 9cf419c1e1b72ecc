// Types for scripts/setup.mjs, which stays plain JavaScript because it runs before `npm ci`.
export const ROOT: string;
export const PURPOSES: readonly string[];
export const DEBIAN_PACKAGES: readonly { name: string; commands: readonly string[]; purposes: readonly string[] }[];
export class SetupError extends Error {}
export function missingPackages(purpose: string, isInstalled?: (command: string) => boolean): string[];
export function aptCommand(packages: readonly string[]): string;
interface Lockfile { packages?: Record<string, { version?: string; resolved?: string; optional?: boolean; [key: string]: unknown }> }
export function npmInstallStale(lock: Lockfile, installedLock: Lockfile | null): string | null;
export function setup(purpose: string, options: { rerun: string; say: (line: string) => void }): void;
