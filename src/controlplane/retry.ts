// Free ports are picked before the daemon binds them, so another process can take one in between;
// such a start is simply tried again on fresh ports.
const PORT_TAKEN = /address already in use/;

export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !PORT_TAKEN.test(String(error))) throw error;
    }
  }
}
