// The little a control plane reports while it starts; a pino logger fits, so does `console`.
export type Logger = { info: (message: string) => void };
