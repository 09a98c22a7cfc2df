// POSTs a file straight to the blob store with its ticket's fields, reporting progress.
import { uploadStatusSentence } from "./errors";

const BY_EXTENSION: Record<string, string> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
};

export function contentTypeOf(file: File): string {
  if (file.type) return file.type;
  const extension = file.name.split(".").pop()?.toLowerCase() ?? "";
  return BY_EXTENSION[extension] ?? "application/octet-stream";
}

export function postFile(
  ticket: { url: string; method: string; fields: ReadonlyArray<{ name: string; value: string }> },
  file: File,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const field of ticket.fields) form.append(field.name, field.value); // in order, before the file
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open(ticket.method || "POST", ticket.url);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new Error(uploadStatusSentence(request.status)));
      }
    };
    request.onerror = () => reject(new Error(uploadStatusSentence(0)));
    request.send(form);
  });
}
