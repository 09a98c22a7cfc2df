// Compiled by `make codegen` (tsc --noEmit) against the generated types: the build fails if
// the operations stop matching the schema or if Date/DateTime stop being strings.
import type { MeQuery, MyDocumentsQuery, MyDocumentsQueryVariables } from "../generated/graphql";

export function email(result: MeQuery): string | undefined {
  return result.me?.email;
}

export function dueDays(result: MyDocumentsQuery): Array<string | null | undefined> {
  return result.documents.edges.map((edge) => edge.node.dueOn);
}

export function createdAt(result: MyDocumentsQuery): string[] {
  return result.documents.edges.map((edge) => edge.node.createdAt);
}

export const firstPage: MyDocumentsQueryVariables = { first: 10 };
