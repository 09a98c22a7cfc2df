// A Date from the API is a calendar day ("2026-11-30"), never an instant: no `new Date(day)`.

function dayNumber(day: string): number {
  const [y, m, d] = day.split("-").map(Number);
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

export function today(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function addDays(day: string, days: number): string {
  return new Date((dayNumber(day) + days) * 86_400_000).toISOString().slice(0, 10);
}

export function showDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}

/** "due 3 Dec 2026 (in 2 days)", "due 1 Dec 2026 (today)", "(3 days late)". */
export function dueText(day: string | null | undefined): string {
  if (!day) return "no due date";
  const left = dayNumber(day) - dayNumber(today());
  const when = left === 0 ? "today" : left === 1 ? "tomorrow" : left > 0 ? `in ${left} days` : `${-left} days late`;
  return `due ${showDay(day)} (${when})`;
}
