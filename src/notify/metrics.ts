// Counters of the notification sink, registered on the operator's own registry.
import { Counter } from "prom-client";
import type { Registry } from "prom-client";

export interface NotifyMetrics {
  sent: Counter<"format">;
  failed: Counter<"format">;
  dropped: Counter<"format" | "reason">;
}

export function notifyMetrics(registry: Registry): NotifyMetrics {
  return {
    sent: new Counter({
      name: "drawbridge_notifications_sent_total",
      help: "Notifications a webhook accepted (2xx)",
      labelNames: ["format"],
      registers: [registry],
    }),
    failed: new Counter({
      name: "drawbridge_notification_attempts_failed_total",
      help: "Webhook posts that failed (error, timeout or non-2xx); retried until the attempts run out",
      labelNames: ["format"],
      registers: [registry],
    }),
    dropped: new Counter({
      name: "drawbridge_notifications_dropped_total",
      help: "Notifications given up: queue full, attempts exhausted, or no URL",
      labelNames: ["format", "reason"],
      registers: [registry],
    }),
  };
}
