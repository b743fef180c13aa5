// A small seeded PRNG (mulberry32) so a run's random kill points can be replayed: the seed is
// logged with the figures, and CHAOS_SEED=<n> repeats it.
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.CHAOS_SEED);
  return Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1;
}

export function between(random: () => number, lo: number, hi: number): number {
  return Math.round(lo + random() * (hi - lo));
}
