// Test levels are Jest projects: `unit` is pure and fast; `integration` and `e2e` use the real
// control plane (one per run, started in global setup) and the ARM emulator.
const common = {
  extensionsToTreatAsEsm: [".ts"],
  moduleFileExtensions: ["ts", "js", "json"],
  transform: { "\\.ts$": "<rootDir>/scripts/jest-transform.js" },
  testEnvironment: "node",
};

export default {
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/src/**/*.test.ts"],
    },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
    },
    {
      ...common,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
    },
  ],
};
