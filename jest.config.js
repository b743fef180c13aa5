// Test levels are Jest projects: `unit` is pure and fast; `integration` and `e2e` use the real
// control plane (one per run, started in global setup) and the ARM emulator.
const common = {
  extensionsToTreatAsEsm: [".ts"],
  moduleFileExtensions: ["ts", "js", "json"],
  transform: { "\\.ts$": "<rootDir>/scripts/jest-transform.js" },
  testEnvironment: "node",
};
// Integration and e2e share one control plane per run. Jest runs a global setup module once per run
// (deduplicated by path) and only when a selected test belongs to a project naming it, so a
// unit-only run starts nothing.
const controlPlane = {
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  globalTeardown: "<rootDir>/test/support/global-teardown.ts",
};

export default {
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/test/unit/**/*.test.ts"],
    },
    {
      ...common,
      ...controlPlane,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
    },
    {
      ...common,
      ...controlPlane,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
    },
    {
      // Fault tolerance (docs/reliability.md): bounded by default, the full sizes with CHAOS_FULL=1.
      ...common,
      ...controlPlane,
      displayName: "chaos",
      testMatch: ["<rootDir>/test/chaos/**/*.test.ts"],
    },
  ],
};
