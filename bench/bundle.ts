// The benchmark runs the operator as the image does: the bundle of scripts/build.ts, `node
// dist/drawbridge.js run`. It is rebuilt here when missing or older than anything it is built from,
// so a run never measures yesterday's code.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildBundle, DEFAULT_OUT, REPO } from "../scripts/build.ts";

/** The bundle's entry, the file the image's ENTRYPOINT runs. */
export const BUNDLE_ENTRY = join(DEFAULT_OUT, "drawbridge.js");

/** Newest modification time (ms) of the files the bundle is built from. */
function newestSource(): number {
  let newest = 0;
  const visit = (path: string): void => {
    const st = statSync(path);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ["src", "scripts/build.ts", "package-lock.json"]) visit(join(REPO, p));
  return newest;
}

/** Builds dist/ when its entry is missing or stale; returns whether it built. */
export async function ensureBundle(log: (msg: string) => void): Promise<boolean> {
  if (existsSync(BUNDLE_ENTRY) && statSync(BUNDLE_ENTRY).mtimeMs >= newestSource()) return false;
  const started = Date.now();
  await buildBundle(DEFAULT_OUT);
  log(`built the operator bundle (dist/) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}
