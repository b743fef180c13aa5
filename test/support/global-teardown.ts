// Jest global teardown: stops the run's control plane (unless it was a preset one to reuse).
import { ENV } from "./env.ts";
import { forgetSharedPlane, sharedPlane } from "./global-setup.ts";

export default async function globalTeardown(): Promise<void> {
  const shared = sharedPlane();
  if (shared === undefined) return;
  forgetSharedPlane();
  if (!shared.owned) return;
  await shared.plane.stop();
  shared.release();
  for (const name of Object.values(ENV)) Reflect.deleteProperty(process.env, name);
}
