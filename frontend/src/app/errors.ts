// Every error the API can answer, as a sentence a person can act on: never a raw code.
import type { CombinedError } from "urql";

export function sentence(text: string | null | undefined): string {
  const trimmed = (text ?? "").trim();
  if (!trimmed) return "Something went wrong: try again.";
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

const BY_CODE: Record<string, string> = {
  UNAUTHENTICATED: "Your sign-in has expired or is not valid: sign in again.",
  FORBIDDEN: "You are not allowed to do this.",
  QUERY_TOO_COMPLEX: "The request asked for too much at once.",
  TOO_MANY_OPERATIONS: "Too many live views are open: close a few tabs and reload.",
  EVENTS_EXPIRED: "The live view fell too far behind: reload the page.",
  REQUEST_TOO_LARGE: "The request is too large.",
};

/** A query's or mutation's failure outside its typed result (transport, sign-in, limits). */
export function combinedErrorSentence(error: CombinedError): string {
  if (error.networkError && error.graphQLErrors.length === 0) {
    return "The server could not be reached: check your connection and try again.";
  }
  const first = error.graphQLErrors[0];
  const code = typeof first?.extensions?.code === "string" ? first.extensions.code : "";
  return BY_CODE[code] ?? sentence(first?.message);
}

export function isSignedOut(error: CombinedError | undefined): boolean {
  return !!error?.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
}

type TypedError = {
  __typename?: string;
  code: string;
  message: string;
  fields?: ReadonlyArray<{ path: ReadonlyArray<string>; message: string }>;
};

function fieldName(path: ReadonlyArray<string>): string {
  const last = path[path.length - 1] ?? "";
  const words = last.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : "This value";
}

/** A mutation's typed error (ValidationError, ConflictError, ForbiddenError, ...). */
export function typedErrorSentence(error: TypedError): string {
  if (error.fields && error.fields.length > 0) {
    return error.fields.map((f) => sentence(`${fieldName(f.path)} ${f.message}`)).join(" ");
  }
  if (error.__typename === "ConflictError" || error.code === "CONFLICT") {
    return "Someone changed this meanwhile: the page now shows the latest state, try again.";
  }
  return sentence(error.message);
}

/** The blob store's answer to a POST that failed. */
export function uploadStatusSentence(status: number): string {
  if (status === 0) return "The file could not be sent: check your connection and try again.";
  if (status === 403) return "The upload link has expired or was refused: try again for a new one.";
  if (status === 409) return "This upload link was already used: try again for a new one.";
  if (status === 413) return "The file is larger than allowed for this document.";
  if (status === 503) return "The store is busy receiving other files: try again in a moment.";
  return `The store refused the file (HTTP ${status}): try again.`;
}
